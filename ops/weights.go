package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

// Weights are the params that choose how a layer's kernel and bias start
// and what penalty each adds to the loss, Keras' kernel_initializer,
// bias_initializer, kernel_regularizer and bias_regularizer. A layer with
// a kernel and a bias embeds it, which declares the four params:
//
//	type MyLayer struct {
//		Units int `pipe:"units,required,min=1" doc:"output size"`
//		ops.Weights
//	}
//
//	func (l *MyLayer) Build(b *ops.Builder, x *graph.Node) *graph.Node {
//		in := x.Shape().Dimensions[1]
//		kernel := b.Kernel(l.Weights, "kernel", in, l.Units) // glorot_uniform unless chosen
//		bias := b.Bias(l.Weights, "bias", l.Units)            // zeros unless chosen
//		return graph.Add(graph.MatMul(x, kernel), bias)
//	}
//
// (b.BiasActivation(l.Weights, y, useBias, activation) adds the bias and
// applies an activation, as dense and conv do.) Kernel and Bias replace
// Builder.GlorotUniform and Builder.Zeros, which still draw the same
// values but take no initializer or regularizer from the spec.
//
// Left out, a component keeps the layer's default (glorot_uniform
// kernels, zero biases, no penalty), so that a spec that names none draws
// the same weights as before these params existed. Weights' Validate
// checks the chosen components when the stack is compiled; a layer with
// a Validate of its own calls it.
type Weights struct {
	KernelInitializer spec.Component `pipe:"kernel_initializer,registry=initializer" doc:"how the kernel starts, e.g. he_normal or {random_normal: {stddev: 0.01}}; default glorot_uniform"`
	BiasInitializer   spec.Component `pipe:"bias_initializer,registry=initializer" doc:"how the bias starts; default zeros"`
	KernelRegularizer spec.Component `pipe:"kernel_regularizer,registry=regularizer" doc:"penalty on the kernel added to the training loss, e.g. {l2: 0.0001}; default none"`
	BiasRegularizer   spec.Component `pipe:"bias_regularizer,registry=regularizer" doc:"penalty on the bias added to the training loss; default none"`
}

// Validate checks the initializers' and regularizers' own params.
func (w Weights) Validate() error {
	return validateWeights(
		named{"kernel_initializer", w.KernelInitializer, true}, named{"bias_initializer", w.BiasInitializer, true},
		named{"kernel_regularizer", w.KernelRegularizer, false}, named{"bias_regularizer", w.BiasRegularizer, false})
}

// named is a component with the param name that chose it, for messages.
type named struct {
	param string
	c     spec.Component
	init  bool // an initializer, not a regularizer
}

// validateWeights builds each chosen initializer or regularizer, which
// runs its Validate.
func validateWeights(cs ...named) error {
	for _, n := range cs {
		if n.c.Kind == "" {
			continue
		}
		var err *spec.Error
		if n.init {
			_, err = Initializers.Build(n.c)
		} else {
			_, err = Regularizers.Build(n.c)
		}
		if err != nil {
			return fmt.Errorf("%s: %s", n.param, err.Msg)
		}
	}
	return nil
}

// Kernel creates (on first use) the kernel variable name of shape dims,
// drawn by w's kernel_initializer (glorot_uniform when none is chosen),
// and adds the penalty of w's kernel_regularizer. Its fans are Keras'
// for a weight of that shape (FansOf): keep Keras' layouts, (in, out)
// for a dense kernel, (kh, kw, cin, cout) for a convolution's.
func (b *Builder) Kernel(w Weights, name string, dims ...int) *graph.Node {
	return b.Weight(name, w.KernelInitializer, w.KernelRegularizer, glorotUniform, FansOf(dims), dims...)
}

// Bias creates (on first use) the bias variable name of shape dims,
// drawn by w's bias_initializer (zeros when none is chosen), and adds the
// penalty of w's bias_regularizer.
func (b *Builder) Bias(w Weights, name string, dims ...int) *graph.Node {
	return b.Weight(name, w.BiasInitializer, w.BiasRegularizer, zeros, FansOf(dims), dims...)
}

var (
	glorotUniform Initializer = &fixedScaling{VarianceScaling{Scale: 1, Mode: "fan_avg", Distribution: "uniform"}}
	zeros         Initializer = &Constant{}
)

// Weight creates (on first use) the variable name of shape dims, drawn by
// the initializer component init, or by def when init is left out (its
// Kind is empty), from the weight's own generator (seeded by the seed,
// the layer's index and name); and adds the penalty of the regularizer
// component reg, if any. fans are what variance-scaling initializers
// divide by; FansOf(dims) gives Keras' for its layouts. Kernel and Bias
// cover the usual weights; Weight is for others (an LSTM's
// recurrent_kernel, an embedding table).
func (b *Builder) Weight(name string, init, reg spec.Component, def Initializer, fans Fans, dims ...int) *graph.Node {
	v := b.variable(name, b.initialValues(name, init, def, fans, dims), dims)
	b.Regularize(reg, v)
	return v
}

// Regularize adds the penalty of the regularizer component reg on weight
// w to the training loss; a left-out reg (empty Kind) adds nothing.
func (b *Builder) Regularize(reg spec.Component, w *graph.Node) {
	if reg.Kind == "" {
		return
	}
	r, err := Regularizers.Build(reg)
	if err != nil {
		panic(fmt.Sprintf("ops: %s: %s", reg.Path, err.Msg))
	}
	if p := r.Penalty(w); p != nil {
		b.AddPenalty(p)
	}
}

// initialValues draws the values of weight name with init, or def.
func (b *Builder) initialValues(name string, init spec.Component, def Initializer, fans Fans, dims []int) []float32 {
	in := def
	if init.Kind != "" {
		var err *spec.Error
		if in, err = Initializers.Build(init); err != nil {
			panic(fmt.Sprintf("ops: %s: %s", init.Path, err.Msg))
		}
	}
	v, err := in.Values(b.rng(name), fans, dims)
	if err != nil {
		panic(fmt.Sprintf("ops: weight %s: %v", name, err))
	}
	return v
}
