package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// newBatchNorm and newLayerNorm have the registered defaults.
func newBatchNorm() *BatchNorm { l, _ := Layers.New("batch_normalization"); return l.(*BatchNorm) }
func newLayerNorm() *LayerNorm { l, _ := Layers.New("layer_normalization"); return l.(*LayerNorm) }

// TestNormShapesAndParams: Keras' counts, e.g. BatchNormalization after a
// conv2d of 32 channels has 64 trainable and 64 non-trainable params, and
// the axis is Keras', the batch axis counted and refused.
func TestNormShapesAndParams(t *testing.T) {
	in := []int{26, 26, 32}
	bn := newBatchNorm()
	out, err := bn.OutputShape(in)
	if err != nil || !slices.Equal(out, in) {
		t.Fatalf("batch_normalization OutputShape = %v, %v; want %v", out, err, in)
	}
	if p, s := bn.Params(in), NonTrainableParams(bn, in); p != 64 || s != 64 {
		t.Errorf("batch_normalization on %v: %d trainable, %d non-trainable params; want 64, 64", in, p, s)
	}
	bn.Axis, bn.Center = 1, false // the height axis, gamma only
	if p, s := bn.Params(in), NonTrainableParams(bn, in); p != 26 || s != 52 {
		t.Errorf("batch_normalization axis 1, no center: %d, %d params; want 26, 52", p, s)
	}
	for _, axis := range []int{0, -4, 4} {
		bn.Axis = axis
		if _, err := bn.OutputShape(in); err == nil {
			t.Errorf("batch_normalization axis %d on %v: want an error", axis, in)
		}
	}
	ln := newLayerNorm()
	if p := ln.Params([]int{10, 16}); p != 32 {
		t.Errorf("layer_normalization on (10, 16): %d params, want 32", p)
	}
	if s := NonTrainableParams(ln, []int{10, 16}); s != 0 {
		t.Errorf("layer_normalization: %d non-trainable params, want 0", s)
	}
	if _, err := ln.OutputShape(nil); err == nil {
		t.Error("layer_normalization on a scalar example: want an error")
	}
}

func TestIsState(t *testing.T) {
	for path, want := range map[string]bool{
		"/batch_normalization/state.moving_mean": true,
		"/block/batch_normalization_1/state.x":   true,
		"/state/kernel":                          false, // a layer the user named state
		"/state.x/kernel":                        false,
		"/batch_normalization/gamma":             false,
	} {
		if got := IsState(path); got != want {
			t.Errorf("IsState(%q) = %v, want %v", path, got, want)
		}
	}
}

// runNorm builds l in scope "norm" of store, in training mode or not, runs
// it on x and returns its output.
func runNorm(t *testing.T, store *model.Store, l Layer, training bool, x *tensors.Tensor) []float32 {
	t.Helper()
	exec, err := model.NewExec(storeBackend(t, store), store, func(s *model.Scope, xn *graph.Node) *graph.Node {
		s.SetTraining(xn.Graph(), true) // as pipeline does: Builder.Training decides
		return l.Build(&Builder{Graph: xn.Graph(), Scope: s.In("norm"), Training: training}, xn)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call1(x)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out)
}

var backends = map[*model.Store]compute.Backend{}

// storeBackend is one backend per store: a store's values stay on the
// backend that first ran them.
func storeBackend(t *testing.T, store *model.Store) compute.Backend {
	if b, ok := backends[store]; ok {
		return b
	}
	backends[store] = backend(t)
	return backends[store]
}

func stateValue(t *testing.T, store *model.Store, name string) []float32 {
	t.Helper()
	v := store.GetVariable("/norm/" + StatePrefix + name)
	if v == nil {
		t.Fatalf("no variable /norm/%s%s", StatePrefix, name)
	}
	if v.Trainable {
		t.Errorf("%s is trainable", v.Path())
	}
	return tensors.MustCopyFlatData[float32](v.MustValue())
}

func near(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	if d, i := maxDiff(got, want); d > 1e-5 {
		t.Errorf("%s[%d] = %v, want %v (all: %v)", what, i, got[i], want[i], got)
	}
}

// TestBatchNormTrainingAndInference on a batch of four examples of two
// features, by hand: feature 0 is 1, 2, 3, 4 (mean 2.5, biased variance
// 1.25), feature 1 is 0, 0, 2, 2 (mean 1, variance 1). Training
// normalises by them and moves the state from (0, 1) by 1-momentum;
// inference then normalises by the moved state.
func TestBatchNormTrainingAndInference(t *testing.T) {
	x := tensors.FromFlatDataAndDimensions([]float32{1, 0, 2, 0, 3, 2, 4, 2}, 4, 2)
	bn := newBatchNorm()
	store := model.NewStore()
	got := runNorm(t, store, bn, true, x)
	s0, s1 := math.Sqrt(1.25+1e-3), math.Sqrt(1+1e-3)
	near(t, "training output", got, []float64{-1.5 / s0, -1 / s1, -.5 / s0, -1 / s1, .5 / s0, 1 / s1, 1.5 / s0, 1 / s1})
	mean, variance := []float64{0.01 * 2.5, 0.01 * 1}, []float64{0.99 + 0.01*1.25, 0.99 + 0.01*1}
	near(t, "moving_mean after a step", stateValue(t, store, "moving_mean"), mean)
	near(t, "moving_variance after a step", stateValue(t, store, "moving_variance"), variance)

	got = runNorm(t, store, bn, false, x)
	xs := []float64{1, 0, 2, 0, 3, 2, 4, 2}
	want := make([]float64, len(xs))
	for i, v := range xs {
		want[i] = (v - mean[i%2]) / math.Sqrt(variance[i%2]+1e-3)
	}
	near(t, "inference output", got, want)
	near(t, "moving_mean after inference", stateValue(t, store, "moving_mean"), mean)

	// gamma and beta apply in both modes.
	setVar(t, store, "/norm/gamma", []float32{2, 3})
	setVar(t, store, "/norm/beta", []float32{10, 20})
	got = runNorm(t, store, bn, false, x)
	for i := range want {
		want[i] = want[i]*[]float64{2, 3}[i%2] + []float64{10, 20}[i%2]
	}
	near(t, "inference output with gamma and beta", got, want)
}

func setVar(t *testing.T, store *model.Store, path string, v []float32) {
	t.Helper()
	if err := store.GetVariable(path).SetValue(tensors.FromFlatDataAndDimensions(v, len(v))); err != nil {
		t.Fatal(err)
	}
}

// TestBatchNormAxes: over (batch, height, width, channels) examples BN
// reduces every axis but the feature axis, the last or another one.
func TestBatchNormAxes(t *testing.T) {
	const B, H, W, C = 3, 2, 4, 5
	dims := []int{B, H, W, C}
	r := rand.New(rand.NewPCG(3, 4))
	x := randomF32(r, B*H*W*C, 2)
	for _, axis := range []int{-1, 3, 1, -2} {
		a := axis
		if a < 0 {
			a += 4
		}
		// Reference: statistics per index of axis a.
		n := dims[a]
		sum, sq, cnt := make([]float64, n), make([]float64, n), make([]float64, n)
		idx := func(i int) int { // the index along axis a of flat element i
			for k := 3; k > a; k-- {
				i /= dims[k]
			}
			return i % dims[a]
		}
		for i, v := range x {
			sum[idx(i)] += float64(v)
			cnt[idx(i)]++
		}
		for i, v := range x {
			d := float64(v) - sum[idx(i)]/cnt[idx(i)]
			sq[idx(i)] += d * d
		}
		want := make([]float64, len(x))
		for i, v := range x {
			c := idx(i)
			want[i] = (float64(v) - sum[c]/cnt[c]) / math.Sqrt(sq[c]/cnt[c]+1e-3)
		}
		bn := newBatchNorm()
		bn.Axis = axis
		store := model.NewStore()
		got := runNorm(t, store, bn, true, tensors.FromFlatDataAndDimensions(x, dims...))
		near(t, "training output", got, want)
		mm := stateValue(t, store, "moving_mean")
		wantMean := make([]float64, n)
		for c := range n {
			wantMean[c] = 0.01 * sum[c] / cnt[c]
		}
		near(t, "moving_mean", mm, wantMean)
	}
}

// TestBatchNormGradient: the gradient flows through the batch statistics,
// as in Keras: with gamma 1, the output of each feature has mean 0 whatever
// x, so the gradient of sum(y·w) with respect to x sums to 0 over the batch
// for each feature (without the mean's gradient it would be sum(w)/σ).
func TestBatchNormGradient(t *testing.T) {
	const B, C = 6, 3
	r := rand.New(rand.NewPCG(5, 6))
	x := tensors.FromFlatDataAndDimensions(randomF32(r, B*C, 3), B, C)
	w := tensors.FromFlatDataAndDimensions(randomF32(r, B*C, 1), B, C)
	res, _ := layerGrads(t, newBatchNorm(), "bn", 1, x, w, true, "gamma", "beta")
	dx := tensors.MustCopyFlatData[float32](res[3])
	for c := range C {
		s := 0.0
		for b := range B {
			s += float64(dx[b*C+c])
		}
		if math.Abs(s) > 1e-4 {
			t.Errorf("feature %d: the gradient of x sums to %v over the batch, want 0", c, s)
		}
	}
	// beta's gradient is the sum of w per feature.
	wf, db := tensors.MustCopyFlatData[float32](w), tensors.MustCopyFlatData[float32](res[2])
	for c := range C {
		s := 0.0
		for b := range B {
			s += float64(wf[b*C+c])
		}
		if math.Abs(float64(db[c])-s) > 1e-4 {
			t.Errorf("d beta[%d] = %v, want %v", c, db[c], s)
		}
	}
}

// TestBatchNormParts: built once per part of a batch on the same variables
// (train.shards), each part is normalised by its own statistics and the
// state moves once, by the mean of the parts' statistics.
func TestBatchNormParts(t *testing.T) {
	x := tensors.FromFlatDataAndDimensions([]float32{1, 3, 10, 20}, 4, 1) // parts (1, 3) and (10, 20)
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn *graph.Node) *graph.Node {
		g := xn.Graph()
		s.SetTraining(g, true)
		var updates StateUpdates
		bn := newBatchNorm()
		var parts []*graph.Node
		for k, in := range []func(string, ...any) *model.Scope{s.In, s.Shared} {
			b := &Builder{Graph: g, Scope: in("norm"), Training: true, Updates: &updates}
			parts = append(parts, bn.Build(b, graph.Slice(xn, graph.AxisRange(2*k, 2*k+2))))
		}
		updates.Apply()
		return graph.Concatenate(parts, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call1(x)
	if err != nil {
		t.Fatal(err)
	}
	s0, s1 := math.Sqrt(1+1e-3), math.Sqrt(25+1e-3)
	near(t, "output", tensors.MustCopyFlatData[float32](out), []float64{-1 / s0, 1 / s0, -5 / s1, 5 / s1})
	near(t, "moving_mean", stateValue(t, store, "moving_mean"), []float64{0.01 * (2 + 15) / 2})
	near(t, "moving_variance", stateValue(t, store, "moving_variance"), []float64{0.99 + 0.01*(1+25)/2})
}

// TestLayerNormValues by hand: each row of (2, 3) is normalised by its own
// mean and biased variance, in training as at inference; and on (2, 3, 2)
// over axis 1, against a reference.
func TestLayerNormValues(t *testing.T) {
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 0, 0, 3}, 2, 3)
	s0, s1 := math.Sqrt(2.0/3+1e-3), math.Sqrt(2+1e-3)
	want := []float64{-1 / s0, 0, 1 / s0, -1 / s1, -1 / s1, 2 / s1}
	store := model.NewStore()
	for _, training := range []bool{true, false} {
		near(t, "layer_normalization", runNorm(t, store, newLayerNorm(), training, x), want)
	}

	const B, T, C = 2, 3, 2
	r := rand.New(rand.NewPCG(1, 2))
	v := randomF32(r, B*T*C, 2)
	ref := make([]float64, len(v))
	for b := range B {
		for c := range C {
			at := func(i int) int { return (b*T+i)*C + c }
			m, q := 0.0, 0.0
			for i := range T {
				m += float64(v[at(i)]) / T
			}
			for i := range T {
				q += (float64(v[at(i)]) - m) * (float64(v[at(i)]) - m) / T
			}
			for i := range T {
				ref[at(i)] = (float64(v[at(i)])-m)/math.Sqrt(q+1e-3)*0.5 + 1
			}
		}
	}
	ln := newLayerNorm()
	ln.Axis = 1
	store = model.NewStore()
	runNorm(t, store, ln, true, tensors.FromFlatDataAndDimensions(v, B, T, C)) // creates gamma, beta
	setVar(t, store, "/norm/gamma", []float32{.5, .5, .5})
	setVar(t, store, "/norm/beta", []float32{1, 1, 1})
	near(t, "layer_normalization axis 1", runNorm(t, store, ln, false, tensors.FromFlatDataAndDimensions(v, B, T, C)), ref)
}
