package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Dilated conv2d and conv1d against plain-Go convolutions (refConv, which
// the tests of the other conv layers share). Keras is the reference: its
// same padding puts the smaller half first, (out-1)*stride + span - in in
// total, where span = (kernel-1)*dilation + 1.

// refConv is a direct convolution of x [B, H, W, C] with a dense kernel
// wk [kh, kw, C, F] (zero where a layer has no tap), strides s, dilation d
// and padding top, left: the output [B, oh, ow, F] and, for the output's
// weights rw, the gradients of sum(y·rw) with respect to wk and x.
type refConv struct {
	B, H, W, C, F, kh, kw int
	s, d                  Size2
	top, left, oh, ow     int
}

func (r refConv) run(x, wk, rw []float64) (y, dk, dx []float64) {
	y, dk, dx = make([]float64, r.B*r.oh*r.ow*r.F), make([]float64, len(wk)), make([]float64, len(x))
	for b := range r.B {
		for oy := range r.oh {
			for ox := range r.ow {
				for i := range r.kh {
					for j := range r.kw {
						py, px := oy*r.s[0]+i*r.d[0]-r.top, ox*r.s[1]+j*r.d[1]-r.left
						if py < 0 || py >= r.H || px < 0 || px >= r.W {
							continue
						}
						for c := range r.C {
							xi := ((b*r.H+py)*r.W+px)*r.C + c
							for f := range r.F {
								o, k := ((b*r.oh+oy)*r.ow+ox)*r.F+f, ((i*r.kw+j)*r.C+c)*r.F+f
								y[o] += x[xi] * wk[k]
								if rw != nil {
									dk[k] += x[xi] * rw[o]
									dx[xi] += wk[k] * rw[o]
								}
							}
						}
					}
				}
			}
		}
	}
	return y, dk, dx
}

// samePad is Keras' padding before an axis of n for 'same'.
func samePad(n, out, span, stride int) int { return max((out-1)*stride+span-n, 0) / 2 }

func f64(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

func variable(t *testing.T, store *model.Store, scope, name string) []float64 {
	t.Helper()
	return f64(tensors.MustCopyFlatData[float32](store.RootScope().In("%s", scope).GetVariable(name).MustValue()))
}

// checkAll compares the layer's results (the output, then gradients) with references.
func checkAll(t *testing.T, what string, res []*tensors.Tensor, names []string, refs ...[]float64) {
	t.Helper()
	for k, ref := range refs {
		got := tensors.MustCopyFlatData[float32](res[k])
		if len(got) != len(ref) {
			t.Errorf("%s: %s has %d values, reference %d", what, names[k], len(got), len(ref))
			continue
		}
		if d, i := maxDiff(got, ref); d > 1e-4 {
			t.Errorf("%s: %s[%d] is %v, reference %v", what, names[k], i, got[i], ref[i])
		}
	}
}

// TestConv2DDilatedMatchesReference checks dilated conv2d through both
// lowerings: output and the gradients of the kernel and the input.
func TestConv2DDilatedMatchesReference(t *testing.T) {
	defer func(old string) { lowering = old }(lowering)
	const B, H, W, C, F = 2, 9, 8, 2, 3
	r := rand.New(rand.NewPCG(9, 10))
	x := randomF32(r, B*H*W*C, 1)
	for _, low := range []string{"banded", "im2col"} {
		lowering = low
		for _, c := range []struct {
			padding        string
			kernel, dilate Size2
		}{{"valid", Size2{3, 3}, Size2{2, 2}}, {"valid", Size2{2, 3}, Size2{3, 1}}, {"same", Size2{3, 3}, Size2{2, 3}}, {"same", Size2{2, 2}, Size2{2, 2}}} {
			l := &Conv2D{Filters: F, Kernel: c.kernel, Strides: Size2{1, 1}, DilationRate: c.dilate, Padding: c.padding, Activation: "linear"}
			out, err := l.OutputShape([]int{H, W, C})
			if err != nil {
				t.Fatal(err)
			}
			span := effective(c.kernel, c.dilate)
			ref := refConv{B: B, H: H, W: W, C: C, F: F, kh: c.kernel[0], kw: c.kernel[1], s: Size2{1, 1}, d: c.dilate, oh: out[0], ow: out[1]}
			if c.padding == "same" {
				ref.top, ref.left = samePad(H, out[0], span[0], 1), samePad(W, out[1], span[1], 1)
			} else if want := []int{H - span[0] + 1, W - span[1] + 1, F}; !slices.Equal(out, want) {
				t.Errorf("valid kernel %s dilation %s: OutputShape %v, want %v", c.kernel, c.dilate, out, want)
			}
			rw := randomF32(r, B*out[0]*out[1]*F, 1)
			res, store := layerGrads(t, l, "conv2d", 3, tensors.FromFlatDataAndDimensions(x, B, H, W, C),
				tensors.FromFlatDataAndDimensions(rw, B, out[0], out[1], F), true, "kernel")
			y, dk, dx := ref.run(f64(x), variable(t, store, "conv2d", "kernel"), f64(rw))
			checkAll(t, fmt.Sprintf("%s, %s kernel %s dilation %s", low, c.padding, c.kernel, c.dilate), res, []string{"output", "dkernel", "dinput"}, y, dk, dx)
		}
	}
}

// TestConv1DDilated: a dilated conv1d is a conv2d over one row.
func TestConv1DDilated(t *testing.T) {
	const B, T, C, F, K = 2, 11, 2, 3, 3
	r := rand.New(rand.NewPCG(11, 12))
	x := randomF32(r, B*T*C, 1)
	for _, padding := range []string{"valid", "same"} {
		l := &Conv1D{Filters: F, Kernel: K, Strides: 1, DilationRate: 3, Padding: padding}
		out, err := l.OutputShape([]int{T, C})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"valid": T - 6, "same": T}[padding]; out[0] != want {
			t.Errorf("%s: %d steps, want %d", padding, out[0], want)
		}
		rw := randomF32(r, B*out[0]*F, 1)
		res, store := layerGrads(t, l, "conv1d", 3, tensors.FromFlatDataAndDimensions(x, B, T, C),
			tensors.FromFlatDataAndDimensions(rw, B, out[0], F), true, "kernel")
		ref := refConv{B: B, H: 1, W: T, C: C, F: F, kh: 1, kw: K, s: Size2{1, 1}, d: Size2{1, 3}, oh: 1, ow: out[0]}
		if padding == "same" {
			ref.left = samePad(T, out[0], 7, 1)
		}
		y, dk, dx := ref.run(f64(x), variable(t, store, "conv1d", "kernel"), f64(rw))
		checkAll(t, "conv1d dilated "+padding, res, []string{"output", "dkernel", "dinput"}, y, dk, dx)
	}
}

// TestConv1DSameStridesKeras: conv1d's same padding with strides puts the
// smaller half first, as Keras does (GoMLX's PadSame would pad kernel-1
// whatever the stride and shift the windows).
func TestConv1DSameStridesKeras(t *testing.T) {
	const B, T, C, F, K, S = 1, 8, 1, 1, 3, 2
	x := make([]float32, T)
	for i := range x {
		x[i] = float32(i + 1)
	}
	l := &Conv1D{Filters: F, Kernel: K, Strides: S, Padding: "same"}
	out, _ := l.OutputShape([]int{T, C})
	res, store := layerGrads(t, l, "conv1d", 3, tensors.FromFlatDataAndDimensions(x, B, T, C),
		tensors.FromFlatDataAndDimensions(make([]float32, out[0]), B, out[0], F), false, "kernel")
	ref := refConv{B: B, H: 1, W: T, C: C, F: F, kh: 1, kw: K, s: Size2{1, S}, d: Size2{1, 1}, oh: 1, ow: out[0], left: samePad(T, out[0], K, S)}
	if ref.left != 0 {
		t.Fatalf("Keras pads %d before, want 0 (a total of 1)", ref.left)
	}
	y, _, _ := ref.run(f64(x), variable(t, store, "conv1d", "kernel"), nil)
	checkAll(t, "conv1d same stride 2", res, []string{"output"}, y)
}
