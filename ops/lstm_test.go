package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func backend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerGrads builds l in training mode in scope name, runs it on x and
// returns its output y, then the gradients of sum(y·w) with respect to the
// variables vars and, with wrtX, to x; and the store holding the variables.
func layerGrads(t *testing.T, l Layer, name string, seed uint64, x, w *tensors.Tensor, wrtX bool, vars ...string) ([]*tensors.Tensor, *model.Store) {
	t.Helper()
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn *graph.Node) []*graph.Node {
		g := xn.Graph()
		s.SetTraining(g, true)
		b := &Builder{Graph: g, Scope: s.In("%s", name), Training: true, Seed: seed}
		y := l.Build(b, xn)
		var wrt []*graph.Node
		for _, v := range vars {
			wrt = append(wrt, b.Scope.GetVariable(v).NodeValue(g))
		}
		if wrtX {
			wrt = append(wrt, xn)
		}
		loss := graph.ReduceAllSum(graph.Mul(y, graph.Const(g, w)))
		return append([]*graph.Node{y}, graph.Gradient(loss, wrt...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatal(err)
	}
	return out, store
}

func TestEmbeddingShapeAndParams(t *testing.T) {
	l := &Embedding{InputDim: 5000, OutputDim: 32}
	out, err := l.OutputShape([]int{500})
	if err != nil || !slices.Equal(out, []int{500, 32}) {
		t.Fatalf("OutputShape = %v, %v; want [500 32]", out, err)
	}
	if n := l.Params([]int{500}); n != 160000 {
		t.Errorf("Params = %d, want 160,000", n)
	}
	if _, err := l.OutputShape(nil); err == nil {
		t.Error("OutputShape of a scalar example: want an error")
	}
}

func TestLSTMShapeAndParams(t *testing.T) {
	l := &LSTM{Units: 100, UseBias: true}
	out, err := l.OutputShape([]int{500, 32})
	if err != nil || !slices.Equal(out, []int{100}) {
		t.Fatalf("OutputShape = %v, %v; want [100]", out, err)
	}
	if n := l.Params([]int{500, 32}); n != 53200 {
		t.Errorf("Params = %d, want 53,200", n)
	}
	l.ReturnSequences = true
	if out, _ := l.OutputShape([]int{500, 32}); !slices.Equal(out, []int{500, 100}) {
		t.Errorf("OutputShape with return_sequences = %v, want [500 100]", out)
	}
	if _, err := l.OutputShape([]int{500}); err == nil {
		t.Error("OutputShape of a flat example: want an error")
	}
	l.UseBias = false
	if n := l.Params([]int{500, 32}); n != 52800 {
		t.Errorf("Params without bias = %d, want 52,800", n)
	}
}

func TestEmbeddingLookupAndGradient(t *testing.T) {
	ids := []int32{3, 0, 3, 9, 1, 2} // B=2, T=3; 9 is out of range and clamps to row 4
	l := &Embedding{InputDim: 5, OutputDim: 2}
	out, store := layerGrads(t, l, "embedding", 1, tensors.FromFlatDataAndDimensions(ids, 2, 3),
		tensors.FromValue([][][]float32{{{1, 2}}}), false, "embeddings")
	if d := out[0].Shape().Dimensions; !slices.Equal(d, []int{2, 3, 2}) {
		t.Fatalf("output shape %v, want [2 3 2]", d)
	}
	table := tensors.MustCopyFlatData[float32](store.RootScope().In("embedding").GetVariable("embeddings").MustValue())
	for _, v := range table {
		if v < -0.05 || v > 0.05 || v == 0 {
			t.Fatalf("embedding %v outside uniform(-0.05, 0.05)", v)
		}
	}
	y := tensors.MustCopyFlatData[float32](out[0])
	for i, id := range ids {
		row := min(int(id), 4)
		if y[2*i] != table[2*row] || y[2*i+1] != table[2*row+1] {
			t.Errorf("example id %d: got %v, want row %d %v", id, y[2*i:2*i+2], row, table[2*row:2*row+2])
		}
	}
	// d/dtable of sum(y·w): each lookup adds w to its row.
	grad := tensors.MustCopyFlatData[float32](out[1])
	want := []float32{1, 2, 1, 2, 1, 2, 2, 4, 1, 2}
	if !slices.Equal(grad, want) {
		t.Errorf("table gradient %v, want %v", grad, want)
	}
}

func TestOrthogonal(t *testing.T) {
	for _, dims := range [][2]int{{4, 16}, {16, 4}, {5, 5}} {
		g := graph.NewGraph(backend(t), "orth")
		store := model.NewStore()
		b := &Builder{Graph: g, Scope: store.RootScope().In("x"), Seed: 3}
		b.Orthogonal("k", dims[0], dims[1])
		w := tensors.MustCopyFlatData[float32](b.Scope.GetVariable("k").MustValue())
		rows, cols := dims[0], dims[1]
		// The smaller side is orthonormal: W·Wᵀ = I (rows <= cols) or Wᵀ·W = I.
		n, m, stride, step := rows, cols, cols, 1
		if rows > cols {
			n, m, stride, step = cols, rows, 1, cols
		}
		for i := range n {
			for j := range n {
				dot := 0.0
				for k := range m {
					dot += float64(w[i*stride+k*step]) * float64(w[j*stride+k*step])
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(dot-want) > 1e-5 {
					t.Fatalf("%dx%d: row/column %d·%d = %v, want %v", rows, cols, i, j, dot, want)
				}
			}
		}
		b2 := &Builder{Graph: g, Scope: model.NewStore().RootScope().In("x"), Seed: 3}
		b2.Orthogonal("k", rows, cols)
		w2 := tensors.MustCopyFlatData[float32](b2.Scope.GetVariable("k").MustValue())
		if !slices.Equal(w, w2) {
			t.Errorf("%dx%d: the same seed gave different weights", rows, cols)
		}
	}
}

// refLSTM is an LSTM with its weights in float64, Keras' layouts: the
// plain-Go reference.
type refLSTM struct {
	f, u         int
	kernel       []float64 // [F, 4U]
	recurrent    []float64 // [U, 4U]
	bias         []float64 // [4U], nil without bias
	returnSeqs   bool
	batch, steps int
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// forward is the plain-Go reference: x is [B, T, F]; it returns [B, T, U]
// or [B, U].
func (w *refLSTM) forward(x []float64) []float64 {
	B, T, F, U := w.batch, w.steps, w.f, w.u
	var out []float64
	if w.returnSeqs {
		out = make([]float64, B*T*U)
	} else {
		out = make([]float64, B*U)
	}
	for b := range B {
		h, c := make([]float64, U), make([]float64, U)
		for t := range T {
			z := make([]float64, 4*U)
			for k := range 4 * U {
				if w.bias != nil {
					z[k] = w.bias[k]
				}
				for i := range F {
					z[k] += x[(b*T+t)*F+i] * w.kernel[i*4*U+k]
				}
				for j := range U {
					z[k] += h[j] * w.recurrent[j*4*U+k]
				}
			}
			for j := range U {
				i, f, g, o := sigmoid(z[j]), sigmoid(z[U+j]), math.Tanh(z[2*U+j]), sigmoid(z[3*U+j])
				c[j] = f*c[j] + i*g
				h[j] = o * math.Tanh(c[j])
			}
			if w.returnSeqs {
				copy(out[(b*T+t)*U:], h)
			}
		}
		if !w.returnSeqs {
			copy(out[b*U:], h)
		}
	}
	return out
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func randomF32(r *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((r.Float64()*2 - 1) * scale)
	}
	return out
}

// lstmRun builds l on x [B, T, F] and returns its output, the gradients of
// sum(y·r) with respect to x, kernel, recurrent kernel and bias (training
// only; with naive, through an unrolled graph differentiated by GoMLX), and
// the weights.
func lstmRun(t *testing.T, l *LSTM, training, naive bool, x []float32, dims [3]int, r []float32) (y []float32, grads [][]float32, w *refLSTM) {
	t.Helper()
	store := model.NewStore()
	build := l.Build
	if naive {
		build = func(b *Builder, x *graph.Node) *graph.Node { return naiveLSTM(b, l, x, 0) }
	}
	wrt := []string{"kernel", "recurrent_kernel"}
	if l.UseBias {
		wrt = append(wrt, "bias")
	}
	y, grads = runGrads(t, store, &Builder{Training: training, Seed: 11, Index: 2}, build, x, dims, r, wrt)
	ls := store.RootScope().In("layer")
	val := func(name string) []float64 {
		return toF64(tensors.MustCopyFlatData[float32](ls.GetVariable(name).MustValue()))
	}
	w = &refLSTM{f: dims[2], u: l.Units, kernel: val("kernel"), recurrent: val("recurrent_kernel"),
		returnSeqs: l.ReturnSequences, batch: dims[0], steps: dims[1]}
	if l.UseBias {
		w.bias = val("bias")
	}
	return y, grads, w
}

func maxDiff(a []float32, b []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		if d := math.Abs(float64(a[i]) - b[i]); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

// smallChunks runs f with weight gradients summed over chunks of 2 steps
// (T=5: chunks of 2, 2 and 1).
func smallChunks(t *testing.T, f func(t *testing.T)) {
	defer func(chunk int) { gradChunk = chunk }(gradChunk)
	gradChunk = 2
	f(t)
}

func TestLSTMForwardMatchesReference(t *testing.T) { smallChunks(t, testLSTMForward) }
func TestLSTMGradient(t *testing.T)                { smallChunks(t, testLSTMGradient) }

func testLSTMForward(t *testing.T) {
	dims := [3]int{2, 5, 3} // B, T, F
	r := rand.New(rand.NewPCG(1, 2))
	x := randomF32(r, 2*5*3, 1)
	for _, training := range []bool{false, true} {
		for _, seqs := range []bool{false, true} {
			for _, useBias := range []bool{true, false} {
				l := &LSTM{Units: 4, ReturnSequences: seqs, UseBias: useBias}
				ny := 2 * 4
				if seqs {
					ny *= 5
				}
				y, _, w := lstmRun(t, l, training, false, x, dims, randomF32(r, ny, 1))
				if useBias && (w.bias[4] != 1 || w.bias[0] != 0 || w.bias[8] != 0 || w.bias[12] != 0) {
					t.Errorf("bias init %v: want the forget gate's 1, others 0", w.bias)
				}
				// Random weights rather than the initial zero bias, so every term is checked.
				want := w.forward(toF64(x))
				if len(y) != len(want) {
					t.Fatalf("training=%v return_sequences=%v: %d outputs, want %d", training, seqs, len(y), len(want))
				}
				if d, i := maxDiff(y, want); d > 1e-5 {
					t.Errorf("training=%v return_sequences=%v use_bias=%v: output %d is %v, reference %v (diff %g)",
						training, seqs, useBias, i, y[i], want[i], d)
				}
			}
		}
	}
}

func testLSTMGradient(t *testing.T) {
	dims := [3]int{2, 5, 3}
	r := rand.New(rand.NewPCG(3, 4))
	x := randomF32(r, 2*5*3, 1)
	for _, seqs := range []bool{false, true} {
		l := &LSTM{Units: 4, ReturnSequences: seqs, UseBias: true}
		ny := 2 * 4
		if seqs {
			ny *= 5
		}
		rw := randomF32(r, ny, 1)
		_, grads, w := lstmRun(t, l, true, false, x, dims, rw)
		_, naive, _ := lstmRun(t, l, true, true, x, dims, rw)
		names := []string{"x", "kernel", "recurrent_kernel", "bias"}

		// Against GoMLX's autodiff of the unrolled graph: the same float32
		// arithmetic, so nearly exact.
		for k := range grads {
			if d, i := maxDiff(grads[k], toF64(naive[k])); d > 1e-5 {
				t.Errorf("return_sequences=%v: d%s[%d] = %v, unrolled autodiff %v", seqs, names[k], i, grads[k][i], naive[k][i])
			}
		}

		// Against central finite differences of the float64 reference.
		xf := toF64(x)
		loss := func() float64 {
			s := 0.0
			for i, v := range w.forward(xf) {
				s += v * float64(rw[i])
			}
			return s
		}
		for k, p := range [][]float64{xf, w.kernel, w.recurrent, w.bias} {
			numeric := finiteDiff(p, loss)
			if d, i := maxDiff(grads[k], numeric); d > 1e-4 {
				t.Errorf("return_sequences=%v: d%s[%d] = %v, finite differences %v", seqs, names[k], i, grads[k][i], numeric[i])
			}
		}
	}
}
