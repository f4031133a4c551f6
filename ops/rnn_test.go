package ops

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/spec"
)

func TestRecurrentShapeAndParams(t *testing.T) {
	in := []int{500, 32}
	bi := func(l Layer, kind string) *Bidirectional {
		return &Bidirectional{Layer: spec.Component{Kind: kind, Config: l}, MergeMode: "concat"}
	}
	for _, c := range []struct {
		name   string
		l      Layer
		out    []int
		params int
	}{
		// Keras: 3·units·(features+units) + 2·3·units with reset_after.
		{"gru", &GRU{Units: 100, UseBias: true, ResetAfter: true}, []int{100}, 40200},
		{"gru reset_after=false", &GRU{Units: 100, UseBias: true}, []int{100}, 39900},
		{"gru no bias", &GRU{Units: 100, ResetAfter: true}, []int{100}, 39600},
		{"gru sequences", &GRU{Units: 100, ReturnSequences: true}, []int{500, 100}, 39600},
		{"simple_rnn", &SimpleRNN{Units: 100, UseBias: true}, []int{100}, 13300},
		{"bidirectional lstm", bi(&LSTM{Units: 64, UseBias: true}, "lstm"), []int{128}, 49664},
		{"bidirectional gru sequences", bi(&GRU{Units: 10, UseBias: true, ResetAfter: true, ReturnSequences: true}, "gru"), []int{500, 20}, 2 * 1320},
		{"bidirectional sum", &Bidirectional{Layer: spec.Component{Kind: "simple_rnn", Config: &SimpleRNN{Units: 8}}, MergeMode: "sum"}, []int{8}, 2 * 320},
	} {
		out, err := c.l.OutputShape(in)
		if err != nil || !slices.Equal(out, c.out) {
			t.Errorf("%s: OutputShape = %v, %v; want %v", c.name, out, err, c.out)
		}
		if n := c.l.Params(in); n != c.params {
			t.Errorf("%s: Params = %d, want %d", c.name, n, c.params)
		}
		if _, err := c.l.OutputShape([]int{500}); err == nil {
			t.Errorf("%s: OutputShape of a flat example: want an error", c.name)
		}
	}
	dense := bi(&Dense{Units: 3}, "dense")
	if err := dense.Validate(); err == nil || !strings.Contains(err.Error(), "not dense") || !strings.Contains(err.Error(), "gru, lstm, simple_rnn") {
		t.Errorf("bidirectional over dense: Validate = %v, want an error naming the recurrent layers", err)
	}
	if _, err := dense.OutputShape(in); err == nil {
		t.Error("bidirectional over dense: OutputShape gave no error")
	}
}

// rnnVar is a preset rnnVar of a layer, by its path under the layer's scope.
type rnnVar struct {
	path string // e.g. "kernel", "forward_gru/kernel"
	dims []int
	data []float32
}

// runRNN builds build (the layer's Build, or a variant of it) in scope
// "layer" with the variables preset, runs it on x [B, T, F] and returns
// its output y and, training, the gradients of sum(y·r) with respect to x
// and to each rnnVar.
func runRNN(t *testing.T, build func(b *Builder, x *graph.Node) *graph.Node, training bool, x []float32, dims [3]int, r []float32, vars []rnnVar) (y []float32, grads [][]float32) {
	t.Helper()
	store := model.NewStore()
	var paths []string
	for _, v := range vars {
		if _, err := store.CreateVariable("/layer/"+v.path, tensors.FromFlatDataAndDimensions(slices.Clone(v.data), v.dims...)); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, v.path)
	}
	return runGrads(t, store, &Builder{Training: training, Seed: 5, Index: 1}, build, x, dims, r, paths)
}

// runGrads builds build in scope "layer" of store with b (its Training,
// Seed and Index), runs it on x [B, T, F] and returns its output y and,
// training, the gradients of sum(y·r) with respect to x and to the
// variables at the paths wrt under "layer" (preset in store, or made by
// build).
func runGrads(t *testing.T, store *model.Store, b *Builder, build func(b *Builder, x *graph.Node) *graph.Node, x []float32, dims [3]int, r []float32, wrt []string) (y []float32, grads [][]float32) {
	t.Helper()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn *graph.Node) []*graph.Node {
		g := xn.Graph()
		s.SetTraining(g, true)
		lb := *b
		lb.Graph, lb.Scope = g, s.In("layer")
		y := build(&lb, xn)
		if !b.Training {
			return []*graph.Node{y}
		}
		nodes := []*graph.Node{xn}
		for _, path := range wrt {
			nodes = append(nodes, store.GetVariable("/layer/"+path).NodeValue(g))
		}
		rn := graph.Const(g, tensors.FromFlatDataAndDimensions(r, y.Shape().Dimensions...))
		loss := graph.ReduceAllSum(graph.Mul(y, rn))
		return append([]*graph.Node{y}, graph.Gradient(loss, nodes...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, dims[0], dims[1], dims[2]))
	if err != nil {
		t.Fatal(err)
	}
	y = tensors.MustCopyFlatData[float32](out[0])
	for _, o := range out[1:] {
		grads = append(grads, tensors.MustCopyFlatData[float32](o))
	}
	return y, grads
}

// finiteDiff is the gradient of loss with respect to p by central finite
// differences: loss reads p, which each step changes by ±1e-6 and puts
// back.
func finiteDiff(p []float64, loss func() float64) []float64 {
	const eps = 1e-6
	out := make([]float64, len(p))
	for i := range p {
		old := p[i]
		p[i] = old + eps
		up := loss()
		p[i] = old - eps
		down := loss()
		p[i] = old
		out[i] = (up - down) / (2 * eps)
	}
	return out
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// TestRNNMatchesPyTorch compares outputs and gradients with PyTorch's
// (testdata/rnn_torch.py wrote them), weights mapped to Keras' layouts.
func TestRNNMatchesPyTorch(t *testing.T) { smallChunks(t, testRNNMatchesPyTorch) }

func testRNNMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/rnn_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name, Kind      string
			Units           int
			ReturnSequences bool `json:"return_sequences"`
			GoBackwards     bool `json:"go_backwards"`
			Bidirectional   bool
			Dims            [3]int
			X, R, Y, DX     []float64
			Variables       map[string]struct {
				Dims        []int
				Value, Grad []float64
			}
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var l Layer
			switch c.Kind {
			case "gru":
				l = &GRU{Units: c.Units, UseBias: true, ResetAfter: true, ReturnSequences: c.ReturnSequences, GoBackwards: c.GoBackwards}
			case "simple_rnn":
				l = &SimpleRNN{Units: c.Units, UseBias: true, ReturnSequences: c.ReturnSequences, GoBackwards: c.GoBackwards}
			case "lstm":
				l = &LSTM{Units: c.Units, UseBias: true, ReturnSequences: c.ReturnSequences, GoBackwards: c.GoBackwards}
			}
			if c.Bidirectional {
				l = &Bidirectional{Layer: spec.Component{Kind: c.Kind, Config: l}}
			}
			var vars []rnnVar
			var want [][]float64
			names := []string{"x"}
			for _, path := range slices.Sorted(func(yield func(string) bool) {
				for k := range c.Variables {
					if !yield(k) {
						return
					}
				}
			}) {
				v := c.Variables[path]
				vars = append(vars, rnnVar{path, v.Dims, toF32(v.Value)})
				want = append(want, v.Grad)
				names = append(names, path)
			}
			want = append([][]float64{c.DX}, want...)
			for _, training := range []bool{false, true} {
				y, grads := runRNN(t, l.Build, training, toF32(c.X), c.Dims, toF32(c.R), vars)
				if len(y) != len(c.Y) {
					t.Fatalf("training=%v: %d outputs, want %d", training, len(y), len(c.Y))
				}
				if d, i := maxDiff(y, c.Y); d > 2e-6 {
					t.Errorf("training=%v: output %d is %v, PyTorch %v", training, i, y[i], c.Y[i])
				}
				for k := range grads {
					if d, i := maxDiff(grads[k], want[k]); d > 1e-5 {
						t.Errorf("d%s[%d] = %v, PyTorch %v", names[k], i, grads[k][i], want[k][i])
					}
				}
			}
		})
	}
}

// refRNN is a float64 reference of the recurrent cells with Keras'
// layouts and options: kind gru (with resetAfter or not), simple_rnn or
// lstm; mask is the recurrent dropout mask [B, U] (nil without), steps
// the input's mask [B, T] (nil without): a masked step keeps the states.
type refRNN struct {
	kind                        string
	resetAfter, backwards, seqs bool
	act, rec                    string
	b, t, f, u                  int
	kernel, recurrent, bias, rb []float64 // rb: the GRU's recurrent bias with reset_after
	mask                        []float64
	steps                       []bool
}

func refAct(name string, x float64) float64 {
	switch name {
	case "sigmoid":
		return sigmoid(x)
	case "relu":
		return max(x, 0)
	case "linear":
		return x
	}
	return math.Tanh(x)
}

func (w *refRNN) gates() int {
	return map[string]int{"gru": 3, "simple_rnn": 1, "lstm": 4}[w.kind]
}

// forward: x is [B, T, F]; it returns [B, T, U] or [B, U].
func (w *refRNN) forward(x []float64) []float64 {
	B, T, F, U, G := w.b, w.t, w.f, w.u, w.gates()
	var out []float64
	if w.seqs {
		out = make([]float64, B*T*U)
	} else {
		out = make([]float64, B*U)
	}
	// dot is column col of m [rows, G·U] times v.
	dot := func(v, m []float64, col int) float64 {
		s := 0.0
		for i, vi := range v {
			s += vi * m[i*G*U+col]
		}
		return s
	}
	for b := range B {
		h, c := make([]float64, U), make([]float64, U)
		for t := range T {
			src := t
			if w.backwards {
				src = T - 1 - t
			}
			if w.steps != nil && !w.steps[b*T+src] {
				if w.seqs {
					copy(out[(b*T+t)*U:], h)
				}
				continue
			}
			xt := x[(b*T+src)*F : (b*T+src+1)*F]
			hr := slices.Clone(h)
			if w.mask != nil {
				for j := range hr {
					hr[j] *= w.mask[b*U+j]
				}
			}
			xw := make([]float64, G*U) // x·kernel + bias
			rw := make([]float64, G*U) // hr·recurrent (+ rb)
			for k := range G * U {
				xw[k] = dot(xt, w.kernel, k)
				if w.bias != nil {
					xw[k] += w.bias[k]
				}
				rw[k] = dot(hr, w.recurrent, k)
				if w.rb != nil {
					rw[k] += w.rb[k]
				}
			}
			h2 := make([]float64, U)
			switch w.kind {
			case "simple_rnn":
				for j := range U {
					h2[j] = refAct(w.act, xw[j]+rw[j])
				}
			case "lstm":
				for j := range U {
					i, f := refAct(w.rec, xw[j]+rw[j]), refAct(w.rec, xw[U+j]+rw[U+j])
					g, o := refAct(w.act, xw[2*U+j]+rw[2*U+j]), refAct(w.rec, xw[3*U+j]+rw[3*U+j])
					c[j] = f*c[j] + i*g
					h2[j] = o * refAct(w.act, c[j])
				}
			case "gru":
				z, r := make([]float64, U), make([]float64, U)
				for j := range U {
					z[j] = refAct(w.rec, xw[j]+rw[j])
					r[j] = refAct(w.rec, xw[U+j]+rw[U+j])
				}
				rh := make([]float64, U)
				for j := range rh {
					rh[j] = r[j] * hr[j]
				}
				for j := range U {
					var hh float64
					if w.resetAfter {
						hh = refAct(w.act, xw[2*U+j]+r[j]*rw[2*U+j])
					} else {
						hh = refAct(w.act, xw[2*U+j]+dot(rh, w.recurrent, 2*U+j))
					}
					h2[j] = z[j]*h[j] + (1-z[j])*hh
				}
			}
			h = h2
			if w.seqs {
				copy(out[(b*T+t)*U:], h)
			}
		}
		if !w.seqs {
			copy(out[b*U:], h)
		}
	}
	return out
}

// TestRNNGradient checks the hand-written backward passes, with every
// option they handle (activations, reset_after, recurrent dropout with a
// fixed mask, go_backwards, return_sequences, chunks), against finite
// differences of the float64 reference.
func TestRNNGradient(t *testing.T) { smallChunks(t, testRNNGradient) }

func testRNNGradient(t *testing.T) {
	const B, T, F, U = 2, 5, 3, 4
	dims := [3]int{B, T, F}
	r := rand.New(rand.NewPCG(5, 6))
	x := randomF32(r, B*T*F, 1)
	type config struct {
		name                              string
		kind                              string
		resetAfter, bias, mask, back, seq bool
		act, rec                          string
	}
	var configs []config
	for _, seq := range []bool{false, true} {
		configs = append(configs,
			config{"gru", "gru", true, true, false, false, seq, "tanh", "sigmoid"},
			config{"gru reset_after=false", "gru", false, true, false, false, seq, "tanh", "sigmoid"},
			config{"gru masked backwards", "gru", true, true, true, true, seq, "tanh", "sigmoid"},
			config{"gru reset_after=false masked relu", "gru", false, true, true, false, seq, "relu", "sigmoid"},
			config{"gru no bias linear tanh", "gru", true, false, false, false, seq, "linear", "tanh"},
			config{"simple_rnn", "simple_rnn", false, true, false, false, seq, "tanh", ""},
			config{"simple_rnn masked relu", "simple_rnn", false, true, true, true, seq, "relu", ""},
			config{"simple_rnn sigmoid no bias", "simple_rnn", false, false, false, false, seq, "sigmoid", ""},
			config{"lstm masked backwards", "lstm", false, true, true, true, seq, "tanh", "sigmoid"},
			config{"lstm relu linear", "lstm", false, true, false, false, seq, "relu", "linear"},
		)
	}
	// The same with a mask of the input's steps (padded at the front of
	// the first example, holes in the second): the name says so.
	for _, c := range slices.Clone(configs) {
		if c.mask || c.name == "gru" || c.name == "lstm relu linear" {
			c.name += " padded"
			configs = append(configs, c)
		}
	}
	steps := []bool{false, false, true, true, true, true, false, true, true, false}
	for _, c := range configs {
		name := c.name
		if c.seq {
			name += " sequences"
		}
		t.Run(name, func(t *testing.T) {
			ref := &refRNN{kind: c.kind, resetAfter: c.resetAfter, backwards: c.back, seqs: c.seq, act: c.act, rec: c.rec, b: B, t: T, f: F, u: U}
			padded := strings.HasSuffix(c.name, " padded")
			if padded {
				ref.steps = steps
			}
			G := ref.gates()
			ref.kernel = toF64(randomF32(r, F*G*U, 0.7))
			ref.recurrent = toF64(randomF32(r, U*G*U, 0.7))
			vars := []rnnVar{{"kernel", []int{F, G * U}, nil}, {"recurrent_kernel", []int{U, G * U}, nil}}
			params := []*[]float64{&ref.kernel, &ref.recurrent}
			if c.bias {
				ref.bias = toF64(randomF32(r, G*U, 0.5))
				if c.kind == "gru" && c.resetAfter {
					ref.rb = toF64(randomF32(r, G*U, 0.5))
					vars = append(vars, rnnVar{"bias", []int{2, G * U}, nil})
				} else {
					vars = append(vars, rnnVar{"bias", []int{G * U}, nil})
				}
			}
			var mask *graph.Node
			var maskData []float32
			if c.mask {
				maskData = make([]float32, B*U)
				for i := range maskData {
					if r.IntN(3) > 0 {
						maskData[i] = 1.5
					}
				}
				ref.mask = toF64(maskData)
			}
			// The variables' data, from the reference's.
			flatParams := func() [][]float64 {
				out := [][]float64{ref.kernel, ref.recurrent}
				if c.bias {
					out = append(out, append(slices.Clone(ref.bias), ref.rb...))
				}
				return out
			}
			for i, p := range flatParams() {
				vars[i].data = toF32(p)
			}
			// Round the reference's weights to what the layer sees.
			ref.kernel, ref.recurrent = toF64(vars[0].data), toF64(vars[1].data)
			if c.bias {
				params = append(params, &ref.bias)
				ref.bias = toF64(vars[2].data[:G*U])
				if ref.rb != nil {
					ref.rb = toF64(vars[2].data[G*U:])
					params = append(params, &ref.rb)
				}
			}
			build := func(b *Builder, xn *graph.Node) *graph.Node {
				if maskData != nil {
					mask = graph.Const(b.Graph, tensors.FromFlatDataAndDimensions(maskData, B, U))
				}
				o := rnnOptions{returnSequences: c.seq, goBackwards: c.back}
				if padded {
					o.mask = graph.Const(b.Graph, tensors.FromFlatDataAndDimensions(steps, B, T))
				}
				xt, _, sm := rnnInput(b, xn, U, o)
				var y *graph.Node
				switch c.kind {
				case "gru":
					l := &GRU{Units: U, UseBias: c.bias, ResetAfter: c.resetAfter}
					y = rnnRun(xt, l.weights(b, F), gruCell{rnnAct(c.act), rnnAct(c.rec), c.resetAfter}, mask, sm, c.seq, true)
				case "simple_rnn":
					l := &SimpleRNN{Units: U, UseBias: c.bias}
					y = rnnRun(xt, l.weights(b, F), simpleCell{rnnAct(c.act)}, mask, sm, c.seq, true)
				case "lstm":
					l := &LSTM{Units: U, UseBias: c.bias}
					y = lstmTrain(xt, l.weights(b, F), lstmActs{rnnAct(c.act), rnnAct(c.rec)}, mask, sm, c.seq)
				}
				return rnnOutput(y, c.seq)
			}
			ny := B * U
			if c.seq {
				ny *= T
			}
			rw := randomF32(r, ny, 1)
			y, grads := runRNN(t, build, true, x, dims, rw, vars)
			xf := toF64(x)
			if d, i := maxDiff(y, ref.forward(xf)); d > 1e-5 {
				t.Fatalf("output %d differs from the reference by %g", i, d)
			}
			loss := func() float64 {
				s := 0.0
				for i, v := range ref.forward(xf) {
					s += v * float64(rw[i])
				}
				return s
			}
			want := [][]float64{finiteDiff(xf, loss)}
			for _, p := range params {
				want = append(want, finiteDiff(*p, loss))
			}
			if c.kind == "gru" && ref.rb != nil { // one [2, 3U] rnnVar
				want = append(want[:3], append(want[3], want[4]...))
			}
			names := []string{"x", "kernel", "recurrent_kernel", "bias"}
			for k := range grads {
				if d, i := maxDiff(grads[k], want[k]); d > 1e-4 {
					t.Errorf("d%s[%d] = %v, finite differences %v", names[k], i, grads[k][i], want[k][i])
				}
			}
		})
	}
}

// TestRNNDropoutAtInference: dropout and recurrent_dropout do nothing
// outside training, and do something in training.
func TestRNNDropoutAtInference(t *testing.T) {
	const B, T, F, U = 3, 4, 5, 6
	dims := [3]int{B, T, F}
	r := rand.New(rand.NewPCG(9, 9))
	x := randomF32(r, B*T*F, 1)
	rw := randomF32(r, B*U, 1)
	for _, c := range []struct {
		name           string
		plain, dropped Layer
	}{
		{"gru", &GRU{Units: U, UseBias: true, ResetAfter: true}, &GRU{Units: U, UseBias: true, ResetAfter: true, Dropout: 0.5, RecurrentDropout: 0.5}},
		{"simple_rnn", &SimpleRNN{Units: U, UseBias: true}, &SimpleRNN{Units: U, UseBias: true, Dropout: 0.5, RecurrentDropout: 0.5}},
		{"lstm", &LSTM{Units: U, UseBias: true}, &LSTM{Units: U, UseBias: true, Dropout: 0.5, RecurrentDropout: 0.5}},
	} {
		want, _ := runRNN(t, c.plain.Build, false, x, dims, nil, nil)
		got, _ := runRNN(t, c.dropped.Build, false, x, dims, nil, nil)
		if !slices.Equal(got, want) {
			t.Errorf("%s: dropout changed the output at inference", c.name)
		}
		trained, _ := runRNN(t, c.dropped.Build, true, x, dims, rw, nil)
		if slices.Equal(trained, want) {
			t.Errorf("%s: dropout 0.5 left the training output unchanged", c.name)
		}
		plainTrained, _ := runRNN(t, c.plain.Build, true, x, dims, rw, nil)
		if d, i := maxDiff(plainTrained, toF64(want)); d > 1e-6 {
			t.Errorf("%s: training and inference outputs differ at %d by %g", c.name, i, d)
		}
	}
}

// TestBidirectionalScopes: the two copies have their variables in
// forward_<kind> and backward_<kind>, with different initial values.
func TestBidirectionalScopes(t *testing.T) {
	l := &Bidirectional{Layer: spec.Component{Kind: "gru", Config: &GRU{Units: 3, UseBias: true, ResetAfter: true}}, MergeMode: "concat"}
	g := graph.NewGraph(backend(t), "bi")
	store := model.NewStore()
	b := &Builder{Graph: g, Scope: store.RootScope().In("bidirectional"), Seed: 3}
	x := graph.Parameter(g, "x", tensors.FromFlatDataAndDimensions(make([]float32, 2*4*5), 2, 4, 5).Shape())
	l.Build(b, x)
	var paths []string
	for v := range store.IterVariables() {
		paths = append(paths, v.Path())
	}
	slices.Sort(paths)
	want := []string{"/bidirectional/backward_gru/bias", "/bidirectional/backward_gru/kernel", "/bidirectional/backward_gru/recurrent_kernel",
		"/bidirectional/forward_gru/bias", "/bidirectional/forward_gru/kernel", "/bidirectional/forward_gru/recurrent_kernel"}
	if !slices.Equal(paths, want) {
		t.Fatalf("variables %v, want %v", paths, want)
	}
	k := func(dir string) []float32 {
		return tensors.MustCopyFlatData[float32](store.RootScope().In("bidirectional").In("%s", dir).GetVariable("kernel").MustValue())
	}
	if slices.Equal(k("forward_gru"), k("backward_gru")) {
		t.Error("the two copies start with the same kernel")
	}
}
