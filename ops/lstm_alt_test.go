package ops

import (
	"math"
	"os"
	"strconv"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	gomlxlstm "github.com/gomlx/gomlx/ml/layers/lstm"
)

// Test-only LSTM variants, for BenchmarkLSTMTrainStep's comparison
// (LSTM_BENCH_LAYER=lstm_autodiff, ...): the other ways to run the recurrence
// that were measured before choosing the unrolled hand-written gradient.
func init() {
	// LSTM_GRAD_CHUNK=500 sums the weight gradients of all 500 steps in one
	// product, for comparison.
	if n, err := strconv.Atoi(os.Getenv("LSTM_GRAD_CHUNK")); err == nil && n > 0 {
		gradChunk = n
	}
	for name, variant := range map[string]string{
		"lstm_autodiff":      "unrolled time-major cell, differentiated by GoMLX (per-step slices)",
		"lstm_autodiff_ckpt": "as lstm_autodiff, with gradient checkpointing every sqrt(T) steps",
		"lstm_gomlx":         "GoMLX's ml/layers/lstm (Keras-incompatible weights)",
	} {
		Layers.Register(name, "Benchmark variant: "+variant+".", func() Layer { return &lstmVariant{Variant: name, UseBias: true} })
	}
}

type lstmVariant struct {
	Variant string
	Units   int  `pipe:"units,required,min=1" doc:"size of the hidden state"`
	UseBias bool `pipe:"use_bias" doc:"add a bias"`
}

func (l *lstmVariant) lstm() *LSTM { return &LSTM{Units: l.Units, UseBias: l.UseBias} }

func (l *lstmVariant) OutputShape(in []int) ([]int, error) { return l.lstm().OutputShape(in) }
func (l *lstmVariant) Params(in []int) int                 { return l.lstm().Params(in) }

func (l *lstmVariant) Build(b *Builder, x *graph.Node) *graph.Node {
	switch l.Variant {
	case "lstm_autodiff":
		return naiveLSTM(b, l.lstm(), x, 0)
	case "lstm_autodiff_ckpt":
		return naiveLSTM(b, l.lstm(), x, int(math.Sqrt(float64(x.Shape().Dimensions[1]))))
	case "lstm_gomlx":
		_, h, _ := gomlxlstm.New(b.Scope, x, l.Units).Done()
		return graph.Squeeze(h, 0)
	}
	panic(l.Variant)
}

// naiveLSTM is the recurrence unrolled in the graph and differentiated by
// GoMLX: the obvious way, the reference for the hand-written gradient in
// tests, and the memory-hungry way. With checkpoint > 0, the states every
// checkpoint steps are kept and the steps between them are recomputed
// during the backward pass.
func naiveLSTM(b *Builder, l *LSTM, x *graph.Node, checkpoint int) *graph.Node {
	d := x.Shape().Dimensions
	T, F, U := d[1], d[2], l.Units
	kernel := b.GlorotUniform("kernel", F, 4*U, F, 4*U)
	rec := b.Orthogonal("recurrent_kernel", U, 4*U)
	var bias *graph.Node
	if l.UseBias {
		bias = lstmBias(b, Weights{}, U)
	}
	// Its own cell, written independently of lstm.go's: time-major input,
	// one projection of all steps, a Slice per step and per gate.
	xt := graph.Transpose(x, 0, 1)
	xw := graph.MatMul(graph.Reshape(xt, T*d[0], F), kernel)
	if bias != nil {
		xw = graph.Add(xw, graph.InsertAxes(bias, 0))
	}
	xw = graph.Reshape(xw, T, d[0], 4*U)
	h := graph.Zeros(x.Graph(), shapes.Make(x.DType(), d[0], U))
	c := h
	var hs []*graph.Node
	for t := range T {
		if checkpoint > 0 && t > 0 && t%checkpoint == 0 {
			h, c = h.Checkpoint(), c.Checkpoint()
		}
		z := graph.Add(graph.Squeeze(graph.Slice(xw, graph.AxisElem(t)), 0), graph.MatMul(h, rec))
		gate := func(k int) *graph.Node { return graph.Slice(z, graph.AxisRange(), graph.AxisRange(k*U, (k+1)*U)) }
		i, f, g, o := graph.Sigmoid(gate(0)), graph.Sigmoid(gate(1)), graph.Tanh(gate(2)), graph.Sigmoid(gate(3))
		c = graph.Add(graph.Mul(f, c), graph.Mul(i, g))
		h = graph.Mul(o, graph.Tanh(c))
		hs = append(hs, h)
	}
	if checkpoint > 0 {
		h = h.StopCheckpoint()
	}
	if l.ReturnSequences {
		return graph.Stack(hs, 1)
	}
	return h
}
