package ops

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestConv1DShapeAndParams(t *testing.T) {
	l := &Conv1D{Filters: 8, Kernel: 3, Strides: 1, Padding: "valid", UseBias: true}
	if out, err := l.OutputShape([]int{10, 4}); err != nil || !slices.Equal(out, []int{8, 8}) {
		t.Errorf("valid: OutputShape = %v, %v; want [8 8]", out, err)
	}
	if n := l.Params([]int{10, 4}); n != 3*4*8+8 {
		t.Errorf("Params = %d, want 104", n)
	}
	l.Padding, l.Strides = "same", 2
	if out, _ := l.OutputShape([]int{10, 4}); !slices.Equal(out, []int{5, 8}) {
		t.Errorf("same, stride 2: OutputShape = %v, want [5 8]", out)
	}
	l.Padding, l.Kernel = "valid", 11
	if _, err := l.OutputShape([]int{10, 4}); err == nil {
		t.Error("kernel longer than the sequence: want an error")
	}
	if out, _ := (&GlobalMaxPool1D{}).OutputShape([]int{10, 4}); !slices.Equal(out, []int{4}) {
		t.Errorf("global_max_pool1d: OutputShape = %v, want [4]", out)
	}
	if _, err := (&GlobalMaxPool1D{}).OutputShape([]int{10}); err == nil {
		t.Error("global_max_pool1d on a flat example: want an error")
	}
}

// TestConv1DMatchesReference checks the output and the kernel's gradient
// against a plain-Go convolution, for valid and same padding and strides.
func TestConv1DMatchesReference(t *testing.T) {
	const B, T, C, F, K = 2, 7, 3, 2, 3
	r := rand.New(rand.NewPCG(5, 6))
	x := randomF32(r, B*T*C, 1)
	for _, c := range []struct {
		padding string
		stride  int
	}{{"valid", 1}, {"valid", 2}, {"same", 1}, {"same", 2}} {
		l := &Conv1D{Filters: F, Kernel: K, Strides: c.stride, Padding: c.padding, Activation: "linear", UseBias: true}
		out, _ := l.OutputShape([]int{T, C})
		n := out[0]
		rw := randomF32(r, B*n*F, 1)
		res, store := layerGrads(t, l, "conv1d", 3, tensors.FromFlatDataAndDimensions(x, B, T, C),
			tensors.FromFlatDataAndDimensions(rw, B, n, F), false, "kernel")
		kernel := tensors.MustCopyFlatData[float32](store.RootScope().In("conv1d").GetVariable("kernel").MustValue())
		// Keras' same padding: total max((n-1)·stride+K-T, 0), the smaller half first.
		left := 0
		if c.padding == "same" {
			left = max((n-1)*c.stride+K-T, 0) / 2
		}
		want := make([]float64, B*n*F)
		dk := make([]float64, K*C*F)
		for b := range B {
			for o := range n {
				for j := range K {
					pos := o*c.stride + j - left
					if pos < 0 || pos >= T {
						continue
					}
					for ci := range C {
						xv := float64(x[(b*T+pos)*C+ci])
						for f := range F {
							want[(b*n+o)*F+f] += xv * float64(kernel[(j*C+ci)*F+f])
							dk[(j*C+ci)*F+f] += xv * float64(rw[(b*n+o)*F+f])
						}
					}
				}
			}
		}
		y, grad := tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1])
		if d, i := maxDiff(y, want); d > 1e-5 {
			t.Errorf("%s stride %d: output %d is %v, reference %v", c.padding, c.stride, i, y[i], want[i])
		}
		if d, i := maxDiff(grad, dk); d > 1e-5 {
			t.Errorf("%s stride %d: dkernel[%d] is %v, reference %v", c.padding, c.stride, i, grad[i], dk[i])
		}
	}
}

func TestGlobalMaxPool1D(t *testing.T) {
	x := []float32{1, -2, 5, 0, 3, 4, -1, 7, 2, 2, 0, 1} // B=2, T=3, C=2
	exec, err := model.NewExec(backend(t), model.NewStore(), func(s *model.Scope, xn *graph.Node) []*graph.Node {
		y := (&GlobalMaxPool1D{}).Build(&Builder{Graph: xn.Graph(), Scope: s}, xn)
		return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(y), xn)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 2, 3, 2))
	if err != nil {
		t.Fatal(err)
	}
	if y := tensors.MustCopyFlatData[float32](res[0]); !slices.Equal(y, []float32{5, 4, 2, 7}) {
		t.Errorf("max over time = %v, want [5 4 2 7]", y)
	}
	// The gradient goes to each maximum.
	grad := tensors.MustCopyFlatData[float32](res[1])
	if want := []float32{0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0}; !slices.Equal(grad, want) {
		t.Errorf("gradient %v, want %v", grad, want)
	}
}
