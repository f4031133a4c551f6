package ops

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/spec"
)

// portedVars are the weights (and state) of the layers ported to the
// initializer and regularizer params.
var portedVars = []string{"kernel", "recurrent_kernel", "bias", "depthwise_kernel", "pointwise_kernel",
	"gamma", "beta", StatePrefix + "moving_mean", StatePrefix + "moving_variance"}

// sameAsOld builds l (not training) in scope "layer" and, with a Builder
// of the same seed and index, old in scope "old" (the calls the layer made
// before its initializers could be chosen), and checks that every variable
// of portedVars that either creates holds the same values in both.
func sameAsOld(t *testing.T, what string, l Layer, x *tensors.Tensor, old func(b *Builder)) {
	t.Helper()
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn *graph.Node) *graph.Node {
		g := xn.Graph()
		y := l.Build(&Builder{Graph: g, Scope: s.In("layer"), Seed: 7, Index: 3}, xn)
		old(&Builder{Graph: g, Scope: s.In("old"), Seed: 7, Index: 3})
		return y
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Exec(x); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range portedVars {
		got, want := store.RootScope().In("layer").GetVariable(name), store.RootScope().In("old").GetVariable(name)
		if (got == nil) != (want == nil) {
			t.Errorf("%s: variable %s: created %v, before %v", what, name, got != nil, want != nil)
			continue
		}
		if got == nil {
			continue
		}
		n++
		g, w := tensors.MustCopyFlatData[float32](got.MustValue()), tensors.MustCopyFlatData[float32](want.MustValue())
		if !slices.Equal(g, w) || !slices.Equal(got.Shape().Dimensions, want.Shape().Dimensions) {
			t.Errorf("%s: default %s %v differs from the old draw %v", what, name, got.Shape(), want.Shape())
		}
	}
	if n == 0 {
		t.Errorf("%s: no variable compared", what)
	}
}

func filledT(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestPortedDefaultsUnchanged: layers that name no initializer draw what
// Builder.GlorotUniform, Builder.Orthogonal, Builder.Zeros, ones and
// Builder.State drew before, so goldens stay put.
func TestPortedDefaultsUnchanged(t *testing.T) {
	seq := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions(make([]float32, 2*4*3), 2, 4, 3) } // (timesteps 4, features 3)
	img := func(h, w, c int) *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions(make([]float32, 2*h*w*c), 2, h, w, c)
	}
	gru := func(resetAfter bool) *GRU {
		return &GRU{Units: 5, Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true, ResetAfter: resetAfter}
	}
	sameAsOld(t, "gru", gru(true), seq(), func(b *Builder) {
		b.GlorotUniform("kernel", 3, 15, 3, 15)
		b.Orthogonal("recurrent_kernel", 5, 15)
		b.Zeros("bias", 2, 15)
	})
	sameAsOld(t, "gru reset_after false", gru(false), seq(), func(b *Builder) {
		b.GlorotUniform("kernel", 3, 15, 3, 15)
		b.Orthogonal("recurrent_kernel", 5, 15)
		b.Zeros("bias", 15)
	})
	sameAsOld(t, "simple_rnn", &SimpleRNN{Units: 6, Activation: "tanh", UseBias: true}, seq(), func(b *Builder) {
		b.GlorotUniform("kernel", 3, 6, 3, 6)
		b.Orthogonal("recurrent_kernel", 6, 6)
		b.Zeros("bias", 6)
	})
	sameAsOld(t, "lstm", &LSTM{Units: 4, Activation: "tanh", RecurrentActivation: "sigmoid"}, seq(), func(b *Builder) {
		b.GlorotUniform("kernel", 3, 16, 3, 16)
		b.Orthogonal("recurrent_kernel", 4, 16)
	})
	sameAsOld(t, "conv2d_transpose", &Conv2DTranspose{Filters: 4, Kernel: Size2{3, 2}, Strides: Size2{2, 2}, Padding: "same", UseBias: true}, img(5, 4, 3), func(b *Builder) {
		b.GlorotUniform("kernel", 3*2*4, 3*2*3, 3, 2, 4, 3)
		b.Zeros("bias", 4)
	})
	sameAsOld(t, "depthwise_conv2d", &DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, DepthMultiplier: 2, Padding: "valid", UseBias: true}, img(5, 5, 3), func(b *Builder) {
		b.GlorotUniform("kernel", 9*3, 9*2, 3, 3, 3, 2)
		b.Zeros("bias", 6)
	})
	sameAsOld(t, "separable_conv2d", &SeparableConv2D{Filters: 4, Kernel: Size2{2, 3}, Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, DepthMultiplier: 2, Padding: "same", UseBias: true}, img(5, 5, 3), func(b *Builder) {
		b.GlorotUniform("depthwise_kernel", 6*3, 6*2, 2, 3, 3, 2)
		b.GlorotUniform("pointwise_kernel", 6, 4, 1, 1, 6, 4)
		b.Zeros("bias", 4)
	})
	sameAsOld(t, "batch_normalization", newBatchNorm(), img(3, 3, 4), func(b *Builder) {
		b.State("moving_mean", 0, 4)
		b.State("moving_variance", 1, 4)
		b.variable("gamma", filledT(4, 1), []int{4})
		b.Zeros("beta", 4)
	})
	sameAsOld(t, "layer_normalization", newLayerNorm(), img(3, 3, 4), func(b *Builder) {
		b.variable("gamma", filledT(4, 1), []int{4})
		b.Zeros("beta", 4)
	})
}

// TestPortedInitializersAndPenalties: each ported layer draws its weights
// with the chosen initializers and adds its regularizers' penalties.
func TestPortedInitializersAndPenalties(t *testing.T) {
	constant := func(v float64) spec.Component { return spec.Component{Kind: "constant", Config: &Constant{Value: v}} }
	l1 := func(v float64) spec.Component { return spec.Component{Kind: "l1", Config: &L1{L1: v}} }
	l2 := func(v float64) spec.Component { return spec.Component{Kind: "l2", Config: &L2{L2: v}} }
	seq := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 1, 3, 2) }
	img := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions(make([]float32, 4*4*2), 1, 4, 4, 2) }
	all := func(v []float32, want float32) bool {
		return len(v) > 0 && !slices.ContainsFunc(v, func(x float32) bool { return x != want })
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-5*max(1, math.Abs(want)) }

	w := Weights{KernelInitializer: constant(0.5), BiasInitializer: constant(-1), KernelRegularizer: l2(1), BiasRegularizer: l1(2)}
	for _, c := range []struct {
		name string
		l    Layer
		x    func() *tensors.Tensor
		// number of kernel, recurrent and bias values
		nk, nr, nb int
	}{
		{"gru", &GRU{Units: 3, UseBias: true, ResetAfter: true, Weights: w, RecurrentInitializer: constant(0.25), RecurrentRegularizer: l1(1)}, seq, 2 * 9, 3 * 9, 18},
		{"gru reset_after false", &GRU{Units: 3, UseBias: true, Weights: w, RecurrentInitializer: constant(0.25), RecurrentRegularizer: l1(1)}, seq, 2 * 9, 3 * 9, 9},
		{"simple_rnn", &SimpleRNN{Units: 3, UseBias: true, Weights: w, RecurrentInitializer: constant(0.25), RecurrentRegularizer: l1(1)}, seq, 2 * 3, 3 * 3, 3},
	} {
		p, vars := layerPenalty(t, c.l, c.x())
		if !all(vars["kernel"], 0.5) || len(vars["kernel"]) != c.nk || !all(vars["recurrent_kernel"], 0.25) || len(vars["recurrent_kernel"]) != c.nr || !all(vars["bias"], -1) || len(vars["bias"]) != c.nb {
			t.Errorf("%s: weights not drawn by the chosen initializers: %v", c.name, vars)
		}
		// l2 1 on the kernel (0.25 each), l1 1 on the recurrent kernel, l1 2 on the bias.
		if want := 0.25*float64(c.nk) + 0.25*float64(c.nr) + 2*float64(c.nb); !near(p, want) {
			t.Errorf("%s: penalty %v, want %v", c.name, p, want)
		}
	}

	// mnist_irnn: identity recurrent kernel, random_normal kernel.
	irnn := &SimpleRNN{Units: 4, Activation: "relu", UseBias: true, Weights: Weights{KernelInitializer: spec.Component{Kind: "random_normal", Config: &RandomNormal{Stddev: 0.001}}},
		RecurrentInitializer: spec.Component{Kind: "identity", Config: &Identity{Gain: 1}}}
	_, vars := layerPenalty(t, irnn, seq())
	if !slices.Equal(vars["recurrent_kernel"], []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}) {
		t.Errorf("irnn recurrent kernel %v, want the identity", vars["recurrent_kernel"])
	}
	if k := vars["kernel"]; len(k) != 8 || slices.ContainsFunc(k, func(x float32) bool { return math.Abs(float64(x)) > 0.006 }) || all(k, 0) {
		t.Errorf("irnn kernel %v, want N(0, 0.001²)", k)
	}

	ct := &Conv2DTranspose{Filters: 3, Kernel: Size2{2, 2}, Strides: Size2{2, 2}, Padding: "valid", UseBias: true, Weights: w}
	p, vars := layerPenalty(t, ct, img())
	if !all(vars["kernel"], 0.5) || len(vars["kernel"]) != 2*2*3*2 || !all(vars["bias"], -1) || len(vars["bias"]) != 3 {
		t.Errorf("conv2d_transpose: %v", vars)
	}
	if want := 0.25*24 + 2*3; !near(p, want) {
		t.Errorf("conv2d_transpose: penalty %v, want %v", p, want)
	}

	dw := &DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, DepthMultiplier: 2, Padding: "same", UseBias: true,
		DepthwiseInitializer: constant(0.5), BiasInitializer: constant(-1), DepthwiseRegularizer: l2(1), BiasRegularizer: l1(2)}
	p, vars = layerPenalty(t, dw, img())
	if !all(vars["kernel"], 0.5) || len(vars["kernel"]) != 3*3*2*2 || !all(vars["bias"], -1) || len(vars["bias"]) != 4 {
		t.Errorf("depthwise_conv2d: %v", vars)
	}
	if want := 0.25*36 + 2*4; !near(p, want) {
		t.Errorf("depthwise_conv2d: penalty %v, want %v", p, want)
	}

	sep := &SeparableConv2D{Filters: 5, Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, DepthMultiplier: 2, Padding: "same", UseBias: true,
		DepthwiseInitializer: constant(0.5), PointwiseInitializer: constant(2), BiasInitializer: constant(-1),
		DepthwiseRegularizer: l2(1), PointwiseRegularizer: l1(0.5), BiasRegularizer: l1(2)}
	p, vars = layerPenalty(t, sep, img())
	if !all(vars["depthwise_kernel"], 0.5) || len(vars["depthwise_kernel"]) != 36 || !all(vars["pointwise_kernel"], 2) || len(vars["pointwise_kernel"]) != 4*5 || !all(vars["bias"], -1) || len(vars["bias"]) != 5 {
		t.Errorf("separable_conv2d: %v", vars)
	}
	if want := 0.25*36 + 0.5*2*20 + 2*5; !near(p, want) {
		t.Errorf("separable_conv2d: penalty %v, want %v", p, want)
	}

	gb := GammaBeta{GammaInitializer: constant(2), BetaInitializer: constant(-0.5), GammaRegularizer: l2(1), BetaRegularizer: l1(1)}
	bn := newBatchNorm()
	bn.GammaBeta = gb
	p, vars = layerPenalty(t, bn, img())
	if !all(vars["gamma"], 2) || len(vars["gamma"]) != 2 || !all(vars["beta"], -0.5) || len(vars["beta"]) != 2 {
		t.Errorf("batch_normalization: %v", vars)
	}
	if want := 4*2 + 0.5*2; !near(p, want) {
		t.Errorf("batch_normalization: penalty %v, want %v", p, want)
	}
	ln := newLayerNorm()
	ln.GammaBeta = gb
	p, vars = layerPenalty(t, ln, img())
	if !all(vars["gamma"], 2) || len(vars["gamma"]) != 2 || !all(vars["beta"], -0.5) || len(vars["beta"]) != 2 {
		t.Errorf("layer_normalization: %v", vars)
	}
	if want := 4*2 + 0.5*2; !near(p, want) {
		t.Errorf("layer_normalization: penalty %v, want %v", p, want)
	}

	// The moving statistics' initializers: evaluation reads them as drawn.
	bn = newBatchNorm()
	bn.Center, bn.Scale = false, false
	bn.MovingMeanInitializer, bn.MovingVarianceInitializer = constant(3), constant(4)
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, xn *graph.Node) *graph.Node {
		return bn.Build(&Builder{Graph: xn.Graph(), Scope: s.In("layer")}, xn)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions([]float32{3, 5, 7, 1}, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	// (x - 3) / sqrt(4 + 0.001)
	got := tensors.MustCopyFlatData[float32](out[0])
	for i, x := range []float64{3, 5, 7, 1} {
		if want := (x - 3) / math.Sqrt(4.001); math.Abs(float64(got[i])-want) > 1e-5 {
			t.Errorf("batch_normalization with moving_mean 3, moving_variance 4: %v, want (x-3)/sqrt(4.001)", got)
			break
		}
	}
}

// TestPortedValidate: a bad initializer param is an error naming the
// layer's param, also through bidirectional.
func TestPortedValidate(t *testing.T) {
	bad := spec.Component{Kind: "random_uniform", Config: &RandomUniform{Minval: 1, Maxval: 0}}
	for _, c := range []struct {
		l    interface{ Validate() error }
		want string
	}{
		{&GRU{Units: 2, RecurrentInitializer: bad}, "recurrent_initializer: random_uniform: minval 1 is above maxval 0"},
		{&SimpleRNN{Units: 2, Weights: Weights{BiasInitializer: bad}}, "bias_initializer: random_uniform"},
		{&Conv2DTranspose{Filters: 1, Weights: Weights{KernelInitializer: bad}}, "kernel_initializer: random_uniform"},
		{&DepthwiseConv2D{DepthwiseInitializer: bad}, "depthwise_initializer: random_uniform"},
		{&SeparableConv2D{PointwiseInitializer: bad}, "pointwise_initializer: random_uniform"},
		{&BatchNorm{MovingVarianceInitializer: bad}, "moving_variance_initializer: random_uniform"},
		{&LayerNorm{GammaBeta: GammaBeta{GammaInitializer: bad}}, "gamma_initializer: random_uniform"},
		{&Bidirectional{Layer: spec.Component{Kind: "gru", Config: &GRU{Units: 2, RecurrentInitializer: bad}}}, "gru: recurrent_initializer: random_uniform"},
	} {
		if err := c.l.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%T: %v, want %q", c.l, err, c.want)
		}
	}
}
