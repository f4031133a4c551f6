package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("conv1d", "1-D convolution over (timesteps, channels) examples, Keras' Conv1D.",
		func() Layer { return &Conv1D{Strides: 1, Padding: "valid", Activation: "linear", UseBias: true} })
	Layers.Register("global_max_pool1d", "Maximum over the time axis of (timesteps, channels) examples, Keras' GlobalMaxPooling1D.",
		func() Layer { return &GlobalMaxPool1D{} })
}

// Conv1D is Keras' Conv1D with channels last.
type Conv1D struct {
	Filters    int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel     int    `pipe:"kernel,required,min=1,max=1000000" doc:"window length"`
	Strides    int    `pipe:"strides,min=1,max=1000000" doc:"step of the window"`
	Padding    string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output length = ceil(input / stride))"`
	Activation string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias    bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
	Weights
}

func (l *Conv1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	n := windowOut(in[0], l.Kernel, l.Strides, l.Padding)
	if n < 1 {
		return nil, fmt.Errorf("kernel %d is longer than the %d steps", l.Kernel, in[0])
	}
	return []int{n, l.Filters}, nil
}

func (l *Conv1D) Params(in []int) int {
	n := l.Kernel * in[1] * l.Filters
	if l.UseBias {
		n += l.Filters
	}
	return n
}

func (l *Conv1D) Build(b *Builder, x *graph.Node) *graph.Node {
	cin := x.Shape().Dimensions[2]
	kernel := b.Kernel(l.Weights, "kernel", l.Kernel, cin, l.Filters)
	conv := graph.Convolve(x, kernel).StridePerAxis(l.Strides)
	if l.Padding == "same" {
		conv = conv.PadSame()
	} else {
		conv = conv.NoPadding()
	}
	return b.BiasActivation(l.Weights, conv.Done(), l.UseBias, l.Activation)
}

// GlobalMaxPool1D is Keras' GlobalMaxPooling1D: (timesteps, channels) ->
// (channels).
type GlobalMaxPool1D struct{}

func (*GlobalMaxPool1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	return []int{in[1]}, nil
}

func (*GlobalMaxPool1D) Params([]int) int { return 0 }

func (*GlobalMaxPool1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return graph.ReduceMax(x, 1)
}
