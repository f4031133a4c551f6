package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestConv2DMatchesReference checks both lowerings of conv2d (banded and
// patches plus matmul) against a plain-Go convolution: the output and the
// gradients of the kernel and of the input, for valid and same padding and
// strides.
func TestConv2DMatchesReference(t *testing.T) {
	defer func(old string) { lowering = old }(lowering)
	const B, H, W, C, F = 2, 7, 6, 2, 3
	r := rand.New(rand.NewPCG(7, 8))
	x := randomF32(r, B*H*W*C, 1)
	for _, low := range []string{"banded", "im2col"} {
		lowering = low
		for _, c := range []struct {
			padding string
			kernel  Size2
			stride  Size2
		}{{"valid", Size2{3, 2}, Size2{1, 1}}, {"valid", Size2{3, 3}, Size2{2, 1}}, {"same", Size2{3, 3}, Size2{1, 1}}, {"same", Size2{2, 3}, Size2{2, 2}}} {
			l := &Conv2D{Filters: F, Kernel: c.kernel, Strides: c.stride, Padding: c.padding, Activation: "linear", UseBias: false}
			out, err := l.OutputShape([]int{H, W, C})
			if err != nil {
				t.Fatal(err)
			}
			oh, ow := out[0], out[1]
			rw := randomF32(r, B*oh*ow*F, 1)
			res, store := layerGrads(t, l, "conv2d", 3, tensors.FromFlatDataAndDimensions(x, B, H, W, C),
				tensors.FromFlatDataAndDimensions(rw, B, oh, ow, F), true, "kernel")
			kernel := tensors.MustCopyFlatData[float32](store.RootScope().In("conv2d").GetVariable("kernel").MustValue())
			kh, kw := c.kernel[0], c.kernel[1]
			// TensorFlow's same padding: the smaller half before.
			top, left := 0, 0
			if c.padding == "same" {
				top = max((oh-1)*c.stride[0]+kh-H, 0) / 2
				left = max((ow-1)*c.stride[1]+kw-W, 0) / 2
			}
			want := make([]float64, B*oh*ow*F)
			dk := make([]float64, kh*kw*C*F)
			dx := make([]float64, B*H*W*C)
			for b := range B {
				for y := range oh {
					for xo := range ow {
						for i := range kh {
							for j := range kw {
								py, px := y*c.stride[0]+i-top, xo*c.stride[1]+j-left
								if py < 0 || py >= H || px < 0 || px >= W {
									continue
								}
								for ci := range C {
									xi := ((b*H+py)*W+px)*C + ci
									for f := range F {
										o, k := ((b*oh+y)*ow+xo)*F+f, ((i*kw+j)*C+ci)*F+f
										want[o] += float64(x[xi]) * float64(kernel[k])
										dk[k] += float64(x[xi]) * float64(rw[o])
										dx[xi] += float64(kernel[k]) * float64(rw[o])
									}
								}
							}
						}
					}
				}
			}
			for k, ref := range [][]float64{want, dk, dx} {
				got := tensors.MustCopyFlatData[float32](res[k])
				if d, i := maxDiff(got, ref); d > 1e-5 {
					t.Errorf("%s, %s kernel %v stride %v: %s[%d] is %v, reference %v",
						low, c.padding, c.kernel, c.stride, []string{"output", "dkernel", "dinput"}[k], i, got[i], ref[i])
				}
			}
		}
	}
}
