package ops

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("simple_rnn", "Fully connected recurrent layer over (timesteps, features) examples, Keras' SimpleRNN: "+
		"h' = activation(x·kernel + h·recurrent_kernel + bias).",
		func() Layer { return &SimpleRNN{Activation: "tanh", UseBias: true} })
}

// SimpleRNN is Keras' SimpleRNN: kernel [features, units],
// recurrent_kernel [units, units], bias [units]. It trains with a
// hand-written backpropagation through time (rnnRun), as the LSTM does.
type SimpleRNN struct {
	Units            int     `pipe:"units,required,min=1,max=1000000" doc:"size of the hidden state"`
	Activation       string  `pipe:"activation,oneof=tanh|sigmoid|relu|linear" doc:"activation of the state"`
	UseBias          bool    `pipe:"use_bias" doc:"add a learned bias (zeros at first)"`
	ReturnSequences  bool    `pipe:"return_sequences" doc:"output the hidden state of every time step (timesteps, units) instead of only the last (units)"`
	GoBackwards      bool    `pipe:"go_backwards" doc:"process the sequence from its last step to its first; with return_sequences the output is in that reversed order"`
	Dropout          float64 `pipe:"dropout,min=0,max=0.999" doc:"fraction of the inputs' features dropped in training, the same ones at every time step"`
	RecurrentDropout float64 `pipe:"recurrent_dropout,min=0,max=0.999" doc:"fraction of the state's units dropped in training where the state enters the recurrent kernel, the same ones at every time step"`
	// kernel_initializer (glorot_uniform), bias_initializer (zeros) and
	// the regularizers of kernel and bias.
	Weights
	RecurrentInitializer spec.Component `pipe:"recurrent_initializer,registry=initializer" doc:"how the recurrent kernel starts, e.g. {identity: {gain: 1.0}} for an IRNN; default orthogonal"`
	RecurrentRegularizer spec.Component `pipe:"recurrent_regularizer,registry=regularizer" doc:"penalty on the recurrent kernel added to the training loss; default none"`
}

// Validate checks the chosen initializers and regularizers.
func (l *SimpleRNN) Validate() error {
	return validateRecurrent(l.Weights, l.RecurrentInitializer, l.RecurrentRegularizer)
}

func (l *SimpleRNN) OutputShape(in []int) ([]int, error) {
	return rnnOutputShape(in, l.Units, l.ReturnSequences)
}

func (l *SimpleRNN) Params(in []int) int {
	n := l.Units * (in[1] + l.Units)
	if l.UseBias {
		n += l.Units
	}
	return n
}

func (l *SimpleRNN) reversed() Layer        { c := *l; c.GoBackwards = !c.GoBackwards; return &c }
func (l *SimpleRNN) returnsSequences() bool { return l.ReturnSequences }

// weights creates the layer's variables.
func (l *SimpleRNN) weights(b *Builder, features int) rnnWeights {
	w := rnnWeights{
		kernel:    b.Kernel(l.Weights, "kernel", features, l.Units),
		recurrent: b.recurrentKernel(l.RecurrentInitializer, l.RecurrentRegularizer, l.Units, l.Units),
	}
	if l.UseBias {
		w.bias = b.Bias(l.Weights, "bias", l.Units)
	}
	return w
}

func (l *SimpleRNN) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

// BuildMasked runs the layer over the steps its input's mask keeps (see
// stepMask).
func (l *SimpleRNN) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	x := xs[0]
	o := rnnOptions{l.ReturnSequences, l.GoBackwards, l.Dropout, l.RecurrentDropout, maskOf(masks)}
	xt, recMask, sm := rnnInput(b, x, l.Units, o)
	cell := simpleCell{act: rnnAct(l.Activation).or("tanh")}
	return rnnOutput(rnnRun(xt, l.weights(b, x.Shape().Dimensions[2]), cell, recMask, sm, l.ReturnSequences, b.Training), l.ReturnSequences), rnnOutMask(o)
}

type simpleCell struct{ act rnnAct }

func (simpleCell) gates() int { return 1 }

func (c simpleCell) step(x []*graph.Node, _, hr *graph.Node, w rnnBlocks) (*graph.Node, []*graph.Node) {
	return c.act.apply(graph.Add(x[0], graph.MatMul(hr, w.recurrent[0]))), nil
}

func (c simpleCell) backward(dh *graph.Node, _ []*graph.Node, _, hr, h2 *graph.Node, w rnnBlocks, k bpttConsts) (*graph.Node, []recTerm, *graph.Node, *graph.Node) {
	da := k.flushed(c.act.grad(dh, h2, k))
	return da, []recTerm{{hr, da}}, graph.MatMul(da, w.recT), nil
}
