package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestConvEpilogueMatchesReference checks conv2d with a bias and relu, in
// every way epilogue.product can compute (the backend's FusedDense, the
// hand-written gradient of product, plain matmuls) and both lowerings,
// against a plain-Go loop: the output and the gradients of the kernel, the
// bias and the input. Filters 3 and 17 put the banded product's n = ow *
// filters on and off the matmul's 16-lane strips.
func TestConvEpilogueMatchesReference(t *testing.T) {
	defer func(l, m string) { lowering, productMode = l, m }(lowering, productMode)
	const B, H, W, C = 2, 7, 6, 2
	r := rand.New(rand.NewPCG(3, 4))
	x := randomF32(r, B*H*W*C, 1)
	for _, mode := range []string{"fused", "custom", "plain"} {
		for _, low := range []string{"banded", "im2col"} {
			for _, c := range []struct {
				filters int
				padding string
				kernel  Size2
				stride  Size2
			}{{3, "valid", Size2{3, 2}, Size2{1, 1}}, {17, "same", Size2{3, 3}, Size2{2, 1}}, {3, "same", Size2{2, 3}, Size2{2, 2}}} {
				productMode, lowering = mode, low
				name := fmt.Sprintf("%s/%s/%d/%s/%v/%v", mode, low, c.filters, c.padding, c.kernel, c.stride)
				F := c.filters
				l := &Conv2D{Filters: F, Kernel: c.kernel, Strides: c.stride, Padding: c.padding, Activation: "relu", UseBias: true}
				out, err := l.OutputShape([]int{H, W, C})
				if err != nil {
					t.Fatal(err)
				}
				oh, ow := out[0], out[1]
				rw := randomF32(r, B*oh*ow*F, 1)
				res, store := layerGrads(t, l, "conv2d", 5, tensors.FromFlatDataAndDimensions(x, B, H, W, C),
					tensors.FromFlatDataAndDimensions(rw, B, oh, ow, F), true, "kernel", "bias")
				kernel := tensors.MustCopyFlatData[float32](store.RootScope().In("conv2d").GetVariable("kernel").MustValue())
				kh, kw := c.kernel[0], c.kernel[1]
				top, left := 0, 0
				if c.padding == "same" {
					top = max((oh-1)*c.stride[0]+kh-H, 0) / 2
					left = max((ow-1)*c.stride[1]+kw-W, 0) / 2
				}
				pre := make([]float64, B*oh*ow*F)
				taps := func(visit func(xi, k, o int)) {
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
											for f := range F {
												visit(((b*H+py)*W+px)*C+ci, ((i*kw+j)*C+ci)*F+f, ((b*oh+y)*ow+xo)*F+f)
											}
										}
									}
								}
							}
						}
					}
				}
				taps(func(xi, k, o int) { pre[o] += float64(x[xi]) * float64(kernel[k]) })
				want, dpre := make([]float64, len(pre)), make([]float64, len(pre))
				db := make([]float64, F)
				for o, v := range pre {
					if v > 0 {
						want[o], dpre[o] = v, float64(rw[o])
						db[o%F] += dpre[o]
					}
				}
				dk, dx := make([]float64, kh*kw*C*F), make([]float64, B*H*W*C)
				taps(func(xi, k, o int) {
					dk[k] += float64(x[xi]) * dpre[o]
					dx[xi] += float64(kernel[k]) * dpre[o]
				})
				for i, w := range [][]float64{want, dk, db, dx} {
					got := tensors.MustCopyFlatData[float32](res[i])
					for j := range w {
						if math.Abs(float64(got[j])-w[j]) > 1e-4*(1+math.Abs(w[j])) {
							t.Errorf("%s: %s[%d] = %g, want %g", name, []string{"y", "dkernel", "dbias", "dx"}[i], j, got[j], w[j])
							break
						}
					}
				}
			}
		}
	}
}

// TestDenseEpilogueMatchesReference checks dense with bias and relu in
// every product mode, in both weight orientations of fusedMatMul (n small
// next to k transposes the weights).
func TestDenseEpilogueMatchesReference(t *testing.T) {
	defer func(m string) { productMode = m }(productMode)
	r := rand.New(rand.NewPCG(5, 6))
	for _, mode := range []string{"fused", "custom", "plain"} {
		for _, d := range [][2]int{{40, 7}, {5, 33}} {
			productMode = mode
			const B = 9
			k, n := d[0], d[1]
			x := randomF32(r, B*k, 1)
			rw := randomF32(r, B*n, 1)
			l := &Dense{Units: n, Activation: "relu", UseBias: true}
			res, store := layerGrads(t, l, "dense", 5, tensors.FromFlatDataAndDimensions(x, B, k),
				tensors.FromFlatDataAndDimensions(rw, B, n), true, "kernel", "bias")
			w := tensors.MustCopyFlatData[float32](store.RootScope().In("dense").GetVariable("kernel").MustValue())
			want, dw, db, dx := make([]float64, B*n), make([]float64, k*n), make([]float64, n), make([]float64, B*k)
			for b := range B {
				for j := range n {
					var s float64
					for i := range k {
						s += float64(x[b*k+i]) * float64(w[i*n+j])
					}
					if s <= 0 {
						continue
					}
					want[b*n+j] = s
					g := float64(rw[b*n+j])
					db[j] += g
					for i := range k {
						dw[i*n+j] += float64(x[b*k+i]) * g
						dx[b*k+i] += float64(w[i*n+j]) * g
					}
				}
			}
			for i, ref := range [][]float64{want, dw, db, dx} {
				got := tensors.MustCopyFlatData[float32](res[i])
				for j := range ref {
					if math.Abs(float64(got[j])-ref[j]) > 1e-4*(1+math.Abs(ref[j])) {
						t.Errorf("%s %dx%d: %s[%d] = %g, want %g", mode, k, n, []string{"y", "dkernel", "dbias", "dx"}[i], j, got[j], ref[j])
						break
					}
				}
			}
		}
	}
}
