package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func TestConvStridesWithDilationRefused(t *testing.T) {
	// ops.Graph runs Validate and reports its error at the layer.
	for _, c := range []struct {
		l  Layer
		in []int
	}{
		{&Conv2D{Kernel: Size2{3, 3}, Strides: Size2{2, 1}, DilationRate: Size2{1, 2}}, []int{9, 9, 1}},
		{&Conv1D{Kernel: 3, Strides: 2, DilationRate: 2}, []int{9, 1}},
		{&DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{2, 2}, DilationRate: Size2{2, 2}}, []int{9, 9, 1}},
		{&SeparableConv2D{Kernel: Size2{3, 3}, Strides: Size2{1, 2}, DilationRate: Size2{2, 1}}, []int{9, 9, 1}},
	} {
		if err := c.l.(interface{ Validate() error }).Validate(); err == nil || !strings.Contains(err.Error(), "dilation_rate") {
			t.Errorf("%T: Validate = %v, want the strides-with-dilation error", c.l, err)
		}
	}
	if err := (&Conv2D{Strides: Size2{1, 1}, DilationRate: Size2{2, 2}}).Validate(); err != nil {
		t.Errorf("dilation with strides 1: %v", err)
	}
	if err := (&Conv2DTranspose{Kernel: Size2{3, 3}, Strides: Size2{2, 2}, OutputPadding: &Pad2{2, 1}}).Validate(); err == nil {
		t.Error("output_padding equal to the stride: want an error")
	}
}

// TestConvLayersShapeAndParams: output shapes and Keras' parameter counts.
func TestConvLayersShapeAndParams(t *testing.T) {
	for _, c := range []struct {
		name     string
		l        Layer
		in, want []int
		params   int
	}{
		// Keras: Conv2D(8, 3, dilation_rate=2) on (10, 10, 3): 3*3*3*8 + 8.
		{"conv2d dilated valid", &Conv2D{Filters: 8, Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DilationRate: Size2{2, 2}, Padding: "valid", UseBias: true}, []int{10, 10, 3}, []int{6, 6, 8}, 224},
		{"conv2d dilated same", &Conv2D{Filters: 8, Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DilationRate: Size2{2, 2}, Padding: "same", UseBias: true}, []int{10, 10, 3}, []int{10, 10, 8}, 224},
		// Keras: Conv2DTranspose(16, 3, strides=2, padding="same") on (7, 7, 32): kernel (3, 3, 16, 32) + 16.
		{"conv2d_transpose same", &Conv2DTranspose{Filters: 16, Kernel: Size2{3, 3}, Strides: Size2{2, 2}, Padding: "same", UseBias: true}, []int{7, 7, 32}, []int{14, 14, 16}, 4624},
		{"conv2d_transpose valid", &Conv2DTranspose{Filters: 16, Kernel: Size2{3, 3}, Strides: Size2{2, 2}, Padding: "valid"}, []int{7, 7, 32}, []int{15, 15, 16}, 4608},
		// The shapes of Keras' conv_transpose_test.
		{"conv2d_transpose valid k2 s2", &Conv2DTranspose{Filters: 5, Kernel: Size2{2, 2}, Strides: Size2{2, 2}, Padding: "valid", UseBias: true}, []int{8, 8, 4}, []int{16, 16, 5}, 85},
		{"conv2d_transpose same k2 s3 op2", &Conv2DTranspose{Filters: 6, Kernel: Size2{2, 2}, Strides: Size2{3, 3}, Padding: "same", OutputPadding: &Pad2{2, 2}, UseBias: true}, []int{8, 8, 4}, []int{23, 23, 6}, 102},
		{"conv2d_transpose valid k(2,3) s(2,1)", &Conv2DTranspose{Filters: 6, Kernel: Size2{2, 3}, Strides: Size2{2, 1}, Padding: "valid", UseBias: true}, []int{8, 8, 4}, []int{16, 10, 6}, 150},
		{"conv2d_transpose valid k7 s16", &Conv2DTranspose{Filters: 2, Kernel: Size2{7, 7}, Strides: Size2{16, 16}, Padding: "valid", UseBias: true}, []int{14, 14, 2}, []int{224, 224, 2}, 198},
		// Keras: DepthwiseConv2D(3, depth_multiplier=2) on (28, 28, 3): 3*3*3*2 + 6.
		{"depthwise_conv2d", &DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DepthMultiplier: 2, Padding: "valid", UseBias: true}, []int{28, 28, 3}, []int{26, 26, 6}, 60},
		{"depthwise_conv2d same strides", &DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{2, 2}, DepthMultiplier: 1, Padding: "same", UseBias: false}, []int{28, 27, 8}, []int{14, 14, 8}, 72},
		// Keras: SeparableConv2D(16, 3) on (28, 28, 3): 27 + 48 + 16.
		{"separable_conv2d", &SeparableConv2D{Filters: 16, Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DepthMultiplier: 1, Padding: "valid", UseBias: true}, []int{28, 28, 3}, []int{26, 26, 16}, 91},
		{"separable_conv2d dm2 same", &SeparableConv2D{Filters: 4, Kernel: Size2{5, 3}, Strides: Size2{1, 1}, DilationRate: Size2{2, 1}, DepthMultiplier: 2, Padding: "same", UseBias: false}, []int{9, 9, 3}, []int{9, 9, 4}, 5*3*3*2 + 6*4},
	} {
		out, err := c.l.OutputShape(c.in)
		if err != nil || !slices.Equal(out, c.want) {
			t.Errorf("%s: OutputShape = %v, %v; want %v", c.name, out, err, c.want)
		}
		if n := c.l.Params(c.in); n != c.params {
			t.Errorf("%s: Params = %d, want %d", c.name, n, c.params)
		}
	}
	if _, err := (&DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DilationRate: Size2{3, 3}, Padding: "valid"}).OutputShape([]int{6, 6, 1}); err == nil {
		t.Error("a dilated kernel spanning 7 on a 6x6 input: want an error")
	}
}

// TestConv2DTransposeMatchesReference: each input position adds the
// kernel times its channels into the full output at stride steps; the
// layer's output is that, cropped as Keras crops it (see above).
func TestConv2DTransposeMatchesReference(t *testing.T) {
	defer func(old string) { lowering = old }(lowering)
	const B, H, W, C, F = 2, 4, 3, 2, 3
	r := rand.New(rand.NewPCG(13, 14))
	x := randomF32(r, B*H*W*C, 1)
	for _, low := range []string{"banded", "im2col"} {
		lowering = low
		for _, c := range []struct {
			padding        string
			kernel, stride Size2
			op             *Pad2
		}{
			{"valid", Size2{3, 3}, Size2{2, 2}, nil},
			{"valid", Size2{2, 3}, Size2{3, 1}, nil}, // kernel below the stride
			{"same", Size2{3, 3}, Size2{2, 2}, nil},
			{"same", Size2{4, 3}, Size2{2, 3}, nil},
			{"same", Size2{3, 2}, Size2{1, 1}, nil},
			{"valid", Size2{3, 2}, Size2{2, 3}, &Pad2{1, 2}},
			{"same", Size2{2, 4}, Size2{3, 2}, &Pad2{2, 0}},
		} {
			l := &Conv2DTranspose{Filters: F, Kernel: c.kernel, Strides: c.stride, Padding: c.padding, OutputPadding: c.op, Activation: "linear"}
			if err := l.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := l.OutputShape([]int{H, W, C})
			if err != nil {
				t.Fatal(err)
			}
			oh, ow := out[0], out[1]
			rw := randomF32(r, B*oh*ow*F, 1)
			what := fmt.Sprintf("%s, %s kernel %s stride %s output_padding %v", low, c.padding, c.kernel, c.stride, c.op)
			res, store := layerGrads(t, l, "conv2d_transpose", 3, tensors.FromFlatDataAndDimensions(x, B, H, W, C),
				tensors.FromFlatDataAndDimensions(rw, B, oh, ow, F), true, "kernel")
			kernel := variable(t, store, "conv2d_transpose", "kernel") // [kh, kw, F, C]
			kh, kw := c.kernel[0], c.kernel[1]
			top, left := kerasCrop(c.padding, kh, c.stride[0], c.op, 0), kerasCrop(c.padding, kw, c.stride[1], c.op, 1)
			y, dk, dx := make([]float64, B*oh*ow*F), make([]float64, len(kernel)), make([]float64, len(x))
			for b := range B {
				for iy := range H {
					for ix := range W {
						for i := range kh {
							for j := range kw {
								oy, ox := iy*c.stride[0]+i-top, ix*c.stride[1]+j-left
								if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
									continue
								}
								for ci := range C {
									xi := ((b*H+iy)*W+ix)*C + ci
									for f := range F {
										o, k := ((b*oh+oy)*ow+ox)*F+f, ((i*kw+j)*F+f)*C+ci
										y[o] += float64(x[xi]) * kernel[k]
										dk[k] += float64(x[xi]) * float64(rw[o])
										dx[xi] += kernel[k] * float64(rw[o])
									}
								}
							}
						}
					}
				}
			}
			checkAll(t, what, res, []string{"output", "dkernel", "dinput"}, y, dk, dx)
		}
	}
}

// kerasCrop is where Keras' output of conv2d_transpose starts in the full
// transposed convolution: kernel-1 less the left padding of Keras' JAX
// conversion (_convert_conv_transpose_padding_args_from_keras_to_jax).
func kerasCrop(padding string, k, s int, op *Pad2, axis int) int {
	if padding == "valid" {
		return 0
	}
	padLen := s + k - 2
	if op != nil {
		padLen = k + k%2 - 2 + op[axis]
	}
	return k - 1 - min(padLen/2+padLen%2, k-1)
}

// TestDepthwiseConv2DMatchesReference: output channel c*dm+m is channel c
// convolved with kernel[:, :, c, m], as in Keras (and PyTorch's conv2d
// with groups = channels).
func TestDepthwiseConv2DMatchesReference(t *testing.T) {
	const B, H, W, C = 2, 7, 6, 3
	r := rand.New(rand.NewPCG(15, 16))
	x := randomF32(r, B*H*W*C, 1)
	for _, c := range []struct {
		padding                string
		kernel, stride, dilate Size2
		dm                     int
	}{
		{"valid", Size2{3, 2}, Size2{1, 1}, Size2{1, 1}, 1},
		{"same", Size2{3, 3}, Size2{2, 2}, Size2{1, 1}, 2},
		{"same", Size2{2, 3}, Size2{2, 1}, Size2{1, 1}, 1},
		{"valid", Size2{2, 2}, Size2{1, 1}, Size2{2, 3}, 2},
		{"same", Size2{3, 2}, Size2{1, 1}, Size2{2, 2}, 1},
	} {
		l := &DepthwiseConv2D{Kernel: c.kernel, Strides: c.stride, DilationRate: c.dilate, DepthMultiplier: c.dm, Padding: c.padding, Activation: "linear"}
		out, err := l.OutputShape([]int{H, W, C})
		if err != nil {
			t.Fatal(err)
		}
		F := C * c.dm
		rw := randomF32(r, B*out[0]*out[1]*F, 1)
		res, store := layerGrads(t, l, "depthwise_conv2d", 3, tensors.FromFlatDataAndDimensions(x, B, H, W, C),
			tensors.FromFlatDataAndDimensions(rw, B, out[0], out[1], F), true, "kernel")
		ref := depthwiseRef(B, H, W, C, c.dm, c.kernel, c.stride, c.dilate, c.padding, out)
		dense := ref.dense(variable(t, store, "depthwise_conv2d", "kernel"), c.dm)
		y, dkDense, dx := ref.run(f64(x), dense, f64(rw))
		what := fmt.Sprintf("%s kernel %s stride %s dilation %s dm %d", c.padding, c.kernel, c.stride, c.dilate, c.dm)
		checkAll(t, what, res, []string{"output", "dkernel", "dinput"}, y, ref.sparse(dkDense, c.dm), dx)
	}
}

func depthwiseRef(B, H, W, C, dm int, k, s, d Size2, padding string, out []int) refConv {
	ref := refConv{B: B, H: H, W: W, C: C, F: C * dm, kh: k[0], kw: k[1], s: s, d: d, oh: out[0], ow: out[1]}
	if padding == "same" {
		span := effective(k, d)
		ref.top, ref.left = samePad(H, out[0], span[0], s[0]), samePad(W, out[1], span[1], s[1])
	}
	return ref
}

// dense spreads a depthwise kernel [kh, kw, C, dm] over [kh, kw, C, C*dm].
func (r refConv) dense(k []float64, dm int) []float64 {
	out := make([]float64, r.kh*r.kw*r.C*r.F)
	for ij := range r.kh * r.kw {
		for c := range r.C {
			for m := range dm {
				out[(ij*r.C+c)*r.F+c*dm+m] = k[(ij*r.C+c)*dm+m]
			}
		}
	}
	return out
}

// sparse is dense's inverse: the depthwise entries of a [kh, kw, C, C*dm] kernel.
func (r refConv) sparse(k []float64, dm int) []float64 {
	out := make([]float64, r.kh*r.kw*r.C*dm)
	for ij := range r.kh * r.kw {
		for c := range r.C {
			for m := range dm {
				out[(ij*r.C+c)*dm+m] = k[(ij*r.C+c)*r.F+c*dm+m]
			}
		}
	}
	return out
}

// TestSeparableConv2DMatchesReference: the depthwise convolution, then the
// pointwise product; its gradients by the chain rule through both.
func TestSeparableConv2DMatchesReference(t *testing.T) {
	const B, H, W, C, F = 2, 6, 7, 2, 3
	r := rand.New(rand.NewPCG(17, 18))
	x := randomF32(r, B*H*W*C, 1)
	for _, c := range []struct {
		padding        string
		kernel, stride Size2
		dm             int
	}{{"valid", Size2{3, 3}, Size2{1, 1}, 1}, {"same", Size2{3, 2}, Size2{2, 2}, 2}} {
		l := &SeparableConv2D{Filters: F, Kernel: c.kernel, Strides: c.stride, DilationRate: Size2{1, 1}, DepthMultiplier: c.dm, Padding: c.padding, Activation: "linear"}
		out, err := l.OutputShape([]int{H, W, C})
		if err != nil {
			t.Fatal(err)
		}
		M, P := B*out[0]*out[1], C*c.dm
		rw := randomF32(r, M*F, 1)
		res, store := layerGrads(t, l, "separable_conv2d", 3, tensors.FromFlatDataAndDimensions(x, B, H, W, C),
			tensors.FromFlatDataAndDimensions(rw, B, out[0], out[1], F), true, "depthwise_kernel", "pointwise_kernel")
		ref := depthwiseRef(B, H, W, C, c.dm, c.kernel, c.stride, Size2{1, 1}, c.padding, out)
		dense := ref.dense(variable(t, store, "separable_conv2d", "depthwise_kernel"), c.dm)
		pk := variable(t, store, "separable_conv2d", "pointwise_kernel") // [1, 1, P, F]
		mid, _, _ := ref.run(f64(x), dense, nil)
		y, dpk, dmid := make([]float64, M*F), make([]float64, P*F), make([]float64, M*P)
		for e := range M {
			for p := range P {
				for f := range F {
					y[e*F+f] += mid[e*P+p] * pk[p*F+f]
					dpk[p*F+f] += mid[e*P+p] * float64(rw[e*F+f])
					dmid[e*P+p] += pk[p*F+f] * float64(rw[e*F+f])
				}
			}
		}
		_, dkDense, dx := ref.run(f64(x), dense, dmid)
		what := fmt.Sprintf("%s kernel %s stride %s dm %d", c.padding, c.kernel, c.stride, c.dm)
		checkAll(t, what, res, []string{"output", "ddepthwise", "dpointwise", "dinput"}, y, ref.sparse(dkDense, c.dm), dpk, dx)
	}
}
