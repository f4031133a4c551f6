package ops

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("gru", "Gated recurrent unit layer over (timesteps, features) examples, Keras' GRU "+
		"(gate order z, r, h; reset_after by default, with an input and a recurrent bias).",
		func() Layer {
			return &GRU{Activation: "tanh", RecurrentActivation: "sigmoid", UseBias: true, ResetAfter: true}
		})
}

// GRU is Keras' GRU: z = σ(x·W_z + h·U_z), r = σ(x·W_r + h·U_r),
// h̃ = tanh(x·W_h + r·(h·U_h)), h' = z·h + (1-z)·h̃ (with the biases). Its
// weights keep Keras' layouts: kernel [features, 3·units],
// recurrent_kernel [units, 3·units], gates z, r, h; bias [2, 3·units]
// (input, then recurrent) with reset_after, else [3·units] and the reset
// gate multiplies h before the product: h̃ = tanh(x·W_h + (r·h)·U_h).
//
// It trains as the LSTM does (see LSTM): the steps unrolled, with a
// hand-written backpropagation through time (rnnRun), memory linear in
// the sequence length.
type GRU struct {
	Units               int     `pipe:"units,required,min=1,max=1000000" doc:"size of the hidden state"`
	Activation          string  `pipe:"activation,oneof=tanh|sigmoid|relu|linear" doc:"activation of the candidate state h̃"`
	RecurrentActivation string  `pipe:"recurrent_activation,oneof=tanh|sigmoid|relu|linear" doc:"activation of the update and reset gates z and r"`
	UseBias             bool    `pipe:"use_bias" doc:"add learned biases (zeros at first)"`
	ResetAfter          bool    `pipe:"reset_after" doc:"apply the reset gate after the recurrent kernel's product, with a separate recurrent bias (Keras 2 and later, cuDNN's GRU); false: before it, one bias"`
	ReturnSequences     bool    `pipe:"return_sequences" doc:"output the hidden state of every time step (timesteps, units) instead of only the last (units)"`
	GoBackwards         bool    `pipe:"go_backwards" doc:"process the sequence from its last step to its first; with return_sequences the output is in that reversed order"`
	Dropout             float64 `pipe:"dropout,min=0,max=0.999" doc:"fraction of the inputs' features dropped in training, the same ones at every time step"`
	RecurrentDropout    float64 `pipe:"recurrent_dropout,min=0,max=0.999" doc:"fraction of the state's units dropped in training where the state enters the recurrent kernel, the same ones at every time step"`
	// kernel_initializer (glorot_uniform), bias_initializer (zeros; with
	// reset_after it draws the whole [2, 3·units] bias) and the
	// regularizers of kernel and bias.
	Weights
	RecurrentInitializer spec.Component `pipe:"recurrent_initializer,registry=initializer" doc:"how the recurrent kernel starts; default orthogonal"`
	RecurrentRegularizer spec.Component `pipe:"recurrent_regularizer,registry=regularizer" doc:"penalty on the recurrent kernel added to the training loss; default none"`
}

// Validate checks the chosen initializers and regularizers.
func (l *GRU) Validate() error {
	return validateRecurrent(l.Weights, l.RecurrentInitializer, l.RecurrentRegularizer)
}

func (l *GRU) OutputShape(in []int) ([]int, error) {
	return rnnOutputShape(in, l.Units, l.ReturnSequences)
}

func (l *GRU) Params(in []int) int {
	n := 3 * l.Units * (in[1] + l.Units)
	if l.UseBias {
		if l.ResetAfter {
			n += 2 * 3 * l.Units
		} else {
			n += 3 * l.Units
		}
	}
	return n
}

func (l *GRU) reversed() Layer        { c := *l; c.GoBackwards = !c.GoBackwards; return &c }
func (l *GRU) returnsSequences() bool { return l.ReturnSequences }

// weights creates the GRU's variables.
func (l *GRU) weights(b *Builder, features int) rnnWeights {
	units := l.Units
	w := rnnWeights{
		kernel:    b.Kernel(l.Weights, "kernel", features, 3*units),
		recurrent: b.recurrentKernel(l.RecurrentInitializer, l.RecurrentRegularizer, units, 3*units),
	}
	switch {
	case l.UseBias && l.ResetAfter:
		bias := b.Bias(l.Weights, "bias", 2, 3*units)
		w.bias = graph.Reshape(graph.Slice(bias, graph.AxisElem(0)), 3*units)
		w.recBias = graph.Reshape(graph.Slice(bias, graph.AxisElem(1)), 3*units)
	case l.UseBias:
		w.bias = b.Bias(l.Weights, "bias", 3*units)
	}
	return w
}

func (l *GRU) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

// BuildMasked runs the layer over the steps its input's mask keeps (see
// stepMask).
func (l *GRU) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	x := xs[0]
	o := rnnOptions{l.ReturnSequences, l.GoBackwards, l.Dropout, l.RecurrentDropout, maskOf(masks)}
	xt, recMask, sm := rnnInput(b, x, l.Units, o)
	cell := gruCell{act: rnnAct(l.Activation).or("tanh"), rec: rnnAct(l.RecurrentActivation).or("sigmoid"), resetAfter: l.ResetAfter}
	return rnnOutput(rnnRun(xt, l.weights(b, x.Shape().Dimensions[2]), cell, recMask, sm, l.ReturnSequences, b.Training), l.ReturnSequences), rnnOutMask(o)
}

type gruCell struct {
	act, rec   rnnAct
	resetAfter bool
}

func (gruCell) gates() int { return 3 }

// step keeps z, r, h̃ and, with reset_after, the recurrent product of the
// last block rh = hr·U_h + b_h.
func (c gruCell) step(x []*graph.Node, h, hr *graph.Node, w rnnBlocks) (*graph.Node, []*graph.Node) {
	z := c.rec.apply(graph.Add(x[0], w.recMatMul(hr, 0)))
	r := c.rec.apply(graph.Add(x[1], w.recMatMul(hr, 1)))
	var hh, rh *graph.Node
	if c.resetAfter {
		rh = w.recMatMul(hr, 2)
		hh = c.act.apply(graph.Add(x[2], graph.Mul(r, rh)))
	} else {
		hh = c.act.apply(graph.Add(x[2], graph.MatMul(graph.Mul(r, hr), w.recurrent[2])))
	}
	// h' = z·h + (1-z)·h̃ = h̃ + z·(h - h̃)
	h2 := graph.Add(hh, graph.Mul(z, graph.Sub(h, hh)))
	return h2, []*graph.Node{z, r, hh, rh}
}

func (c gruCell) backward(dh *graph.Node, saved []*graph.Node, h, hr, _ *graph.Node, w rnnBlocks, k bpttConsts) (dx *graph.Node, rec []recTerm, dhr, dhc *graph.Node) {
	z, r, hh, rh := saved[0], saved[1], saved[2], saved[3]
	daz := k.flushed(c.rec.grad(graph.Mul(dh, graph.Sub(h, hh)), z, k))
	dah := k.flushed(c.act.grad(graph.Mul(dh, graph.Sub(k.one, z)), hh, k))
	dhc = graph.Mul(dh, z)
	if c.resetAfter {
		dar := k.flushed(c.rec.grad(graph.Mul(dah, rh), r, k))
		dzr := graph.Concatenate([]*graph.Node{daz, dar, graph.Mul(dah, r)}, 1)
		dx = graph.Concatenate([]*graph.Node{daz, dar, dah}, 1)
		return dx, []recTerm{{hr, dzr}}, graph.MatMul(dzr, w.recT), dhc
	}
	drh := graph.MatMul(dah, w.recTLast) // gradient of r·hr
	dar := k.flushed(c.rec.grad(graph.Mul(drh, hr), r, k))
	dzr := graph.Concatenate([]*graph.Node{daz, dar}, 1)
	dx = graph.Concatenate([]*graph.Node{daz, dar, dah}, 1)
	dhr = graph.Add(graph.MatMul(dzr, w.recTLead), graph.Mul(drh, r))
	return dx, []recTerm{{hr, dzr}, {graph.Mul(r, hr), dah}}, dhr, dhc
}
