package ops

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/spec"
)

// TestRegularizerPenalty: on w = (1, -2, 3), sum |w| = 6 and sum w² = 14.
func TestRegularizerPenalty(t *testing.T) {
	for _, c := range []struct {
		name string
		r    Regularizer // nil: the registered defaults
		want float64
	}{
		{"l1", nil, 0.06},
		{"l2", nil, 0.14},
		{"l1_l2", nil, 0.2},
		{"l1_l2", &L1L2{L1: 0.5}, 3},
		{"l2", &L2{L2: 0.25}, 3.5},
	} {
		r := c.r
		if r == nil {
			r, _ = Regularizers.New(c.name)
		}
		out, err := graph.ExecOnce(backend(t), func(g *graph.Graph) *graph.Node {
			return r.Penalty(graph.Const(g, []float32{1, -2, 3}))
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := tensors.ToScalar[float32](out); math.Abs(float64(got)-c.want) > 1e-6 {
			t.Errorf("%s %+v: penalty %v, want %v", c.name, c.r, got, c.want)
		}
	}
	if p := (&L1L2{}).Penalty(nil); p != nil {
		t.Error("l1_l2 with both factors 0 should add no term")
	}
}

// layerPenalty builds l on x and returns the sum of the penalties it
// added and its variables, by name.
func layerPenalty(t *testing.T, l Layer, x *tensors.Tensor) (float64, map[string][]float32) {
	t.Helper()
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn *graph.Node) *graph.Node {
		g := xn.Graph()
		s.SetTraining(g, true)
		var pen []*graph.Node
		l.Build(&Builder{Graph: g, Scope: s.In("layer"), Training: true, Seed: 5, Penalties: &pen}, xn)
		total := graph.ScalarZero(g, xn.DType())
		for _, p := range pen {
			total = graph.Add(total, p)
		}
		return total
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string][]float32{}
	for _, name := range append([]string{"embeddings"}, portedVars...) {
		if v := store.RootScope().In("layer").GetVariable(name); v != nil {
			vars[name] = tensors.MustCopyFlatData[float32](v.MustValue())
		}
	}
	return float64(tensors.ToScalar[float32](out[0])), vars
}

func sumSq(v []float32) (s float64) {
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

func sumAbs(v []float32) (s float64) {
	for _, x := range v {
		s += math.Abs(float64(x))
	}
	return s
}

// TestLayerPenalties: the dense l2 shorthand and kernel_regularizer give
// the same penalty, l2 * sum(kernel²); bias and recurrent regularizers
// reach their weights.
func TestLayerPenalties(t *testing.T) {
	x := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 3) }
	l2 := func(v float64) spec.Component { return spec.Component{Kind: "l2", Config: &L2{L2: v}} }
	short, vars := layerPenalty(t, &Dense{Units: 4, Activation: "linear", UseBias: true, L2: 0.1}, x())
	if want := 0.1 * sumSq(vars["kernel"]); math.Abs(short-want) > 1e-5*want {
		t.Errorf("dense l2 0.1: penalty %v, want %v", short, want)
	}
	long, _ := layerPenalty(t, &Dense{Units: 4, Activation: "linear", UseBias: true, Weights: Weights{KernelRegularizer: l2(0.1)}}, x())
	if long != short {
		t.Errorf("kernel_regularizer {l2: 0.1} gives %v, the l2 shorthand %v", long, short)
	}
	withBias := &Dense{Units: 4, Activation: "linear", UseBias: true, Weights: Weights{
		KernelInitializer: spec.Component{Kind: "he_normal", Config: &fixedScaling{VarianceScaling{Scale: 2, Mode: "fan_in", Distribution: "truncated_normal"}}},
		BiasInitializer:   spec.Component{Kind: "constant", Config: &Constant{Value: -0.5}},
		BiasRegularizer:   spec.Component{Kind: "l1", Config: &L1{L1: 2}},
	}}
	p, vars := layerPenalty(t, withBias, x())
	if want := 2 * 4 * 0.5; math.Abs(p-want) > 1e-6 || vars["bias"][0] != -0.5 {
		t.Errorf("bias l1 2 on a bias of -0.5: penalty %v, want %v (bias %v)", p, want, vars["bias"])
	}

	seq := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 1, 3, 2)
	lstm := &LSTM{Units: 2, UseBias: true, RecurrentRegularizer: l2(1), Weights: Weights{
		BiasInitializer: spec.Component{Kind: "ones", Config: &Constant{Value: 1}},
		BiasRegularizer: spec.Component{Kind: "l1", Config: &L1{L1: 1}},
	}}
	p, vars = layerPenalty(t, lstm, seq)
	if want := sumSq(vars["recurrent_kernel"]) + 8; math.Abs(p-want) > 1e-5 {
		t.Errorf("lstm: penalty %v, want sum(recurrent²) + |bias| = %v", p, want)
	}
	emb := &Embedding{InputDim: 5, OutputDim: 2, EmbeddingsRegularizer: spec.Component{Kind: "l1", Config: &L1{L1: 1}}}
	p, vars = layerPenalty(t, emb, tensors.FromFlatDataAndDimensions([]float32{0, 4}, 1, 2))
	if want := sumAbs(vars["embeddings"]); math.Abs(p-want) > 1e-6 {
		t.Errorf("embedding l1: %v, want %v", p, want)
	}
}
