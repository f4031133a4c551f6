package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestGlobalKernelConvShapeAndParams(t *testing.T) {
	l := &GlobalKernelConv{Size: 3, DotScale: 1}
	if out, err := l.MergeShape([][]int{{1682, 943}, {1682, 943}}); err != nil || out[0] != 1682 || out[1] != 943 {
		t.Fatalf("MergeShape = %v, %v", out, err)
	}
	if n := l.Params([]int{1682, 943}); n != 1682*9 {
		t.Errorf("Params = %d, want 15,138 (one row of 3x3 weights per item)", n)
	}
	for _, ins := range [][][]int{{{1682, 943}}, {{943}, {943}}, {{1682, 943}, {1682, 942}}} {
		if _, err := l.MergeShape(ins); err == nil {
			t.Errorf("MergeShape(%v): want an error", ins)
		}
	}
	if err := (&GlobalKernelConv{Size: 2}).Validate(); err == nil {
		t.Error("an even size: want an error")
	}
}

// globalConvRef is the layer in float64 on one example.
func globalConvRef(x, recon, w []float64, rows, cols, k int, scale float64) []float64 {
	gk := make([]float64, k*k)
	for i := range rows {
		m := 0.0
		for j := range cols {
			m += recon[i*cols+j]
		}
		m /= float64(cols)
		for q := range gk {
			gk[q] += m * w[i*k*k+q] * scale
		}
	}
	out := make([]float64, rows*cols)
	p := k / 2
	for i := range rows {
		for j := range cols {
			s := 0.0
			for a := range k {
				for b := range k {
					if ii, jj := i+a-p, j+b-p; ii >= 0 && ii < rows && jj >= 0 && jj < cols {
						s += x[ii*cols+jj] * gk[a*k+b]
					}
				}
			}
			out[i*cols+j] = math.Max(0, s)
		}
	}
	return out
}

// TestGlobalKernelConvMatchesReference checks the output (a same-padded
// cross-correlation, as conv2d) and the gradients with respect to both
// inputs and the learned matrix against finite differences of a float64
// reference, on two examples that get kernels of their own.
func TestGlobalKernelConvMatchesReference(t *testing.T) {
	const n, rows, cols, k, scale = 2, 4, 5, 3, 1.5
	r := rand.New(rand.NewPCG(1, 2))
	x, recon := randomF32(r, n*rows*cols, 2), randomF32(r, n*rows*cols, 1)
	rw := randomF32(r, n*rows*cols, 1)
	l := &GlobalKernelConv{Size: k, DotScale: scale}
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn, rn *graph.Node) []*graph.Node {
		g := xn.Graph()
		s.SetTraining(g, true)
		b := &Builder{Graph: g, Scope: s.In("gk"), Training: true, Seed: 9}
		y := l.BuildMerge(b, []*graph.Node{xn, rn})
		loss := graph.ReduceAllSum(graph.Mul(y, graph.Const(g, tensors.FromFlatDataAndDimensions(rw, n, rows, cols))))
		return append([]*graph.Node{y}, graph.Gradient(loss, b.Scope.GetVariable("kernel").NodeValue(g), xn, rn)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, n, rows, cols), tensors.FromFlatDataAndDimensions(recon, n, rows, cols))
	if err != nil {
		t.Fatal(err)
	}
	w := toF64(tensors.MustCopyFlatData[float32](store.RootScope().In("gk").GetVariable("kernel").MustValue()))
	xf, rf := toF64(x), toF64(recon)
	m := rows * cols
	forward := func() []float64 {
		var y []float64
		for e := range n {
			y = append(y, globalConvRef(xf[e*m:(e+1)*m], rf[e*m:(e+1)*m], w, rows, cols, k, scale)...)
		}
		return y
	}
	want := forward()
	zeros := 0
	for _, v := range want {
		if v == 0 {
			zeros++
		}
	}
	if zeros == 0 || zeros == len(want) {
		t.Fatalf("%d of %d outputs are 0: the test should see both sides of the relu", zeros, len(want))
	}
	if d, i := maxDiff(tensors.MustCopyFlatData[float32](out[0]), want); d > 1e-5 {
		t.Fatalf("output %d differs from the reference by %g", i, d)
	}
	loss := func() float64 {
		s := 0.0
		for i, y := range forward() {
			s += y * float64(rw[i])
		}
		return s
	}
	for q, p := range [][]float64{w, xf, rf} {
		numeric := finiteDiff(p, loss)
		got := tensors.MustCopyFlatData[float32](out[q+1])
		if d, i := maxDiff(got, numeric); d > 1e-3 {
			t.Errorf("gradient %d, entry %d: %v, finite differences %v", q, i, got[i], numeric[i])
		}
	}
}
