package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("conv1d", "1-D convolution over (timesteps, channels) examples, Keras' Conv1D.",
		func() Layer {
			return &Conv1D{Strides: 1, DilationRate: 1, Padding: "valid", Activation: "linear", UseBias: true}
		})
	Layers.Register("global_max_pool1d", "Maximum over the time axis of (timesteps, channels) examples, Keras' GlobalMaxPooling1D.",
		func() Layer { return &GlobalMaxPool1D{} })
}

// Conv1D is Keras' Conv1D with channels last.
type Conv1D struct {
	Filters      int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel       int    `pipe:"kernel,required,min=1,max=1000000" doc:"window length"`
	Strides      int    `pipe:"strides,min=1,max=1000000" doc:"step of the window"`
	DilationRate int    `pipe:"dilation_rate,min=1,max=1000000" doc:"spacing of the kernel's taps (atrous convolution); above 1 only with strides 1"`
	Padding      string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output length = ceil(input / stride))"`
	Activation   string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias      bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
	Weights
}

// Validate refuses what Keras refuses: strides above 1 with a dilation above 1.
func (l *Conv1D) Validate() error {
	if err := l.Weights.Validate(); err != nil {
		return err
	}
	return stridesOrDilation(Size2{l.Strides, l.Strides}, Size2{l.DilationRate, l.DilationRate})
}

// span is the kernel's extent with its dilation.
func (l *Conv1D) span() int { return (l.Kernel-1)*max(l.DilationRate, 1) + 1 }

func (l *Conv1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	n := windowOut(in[0], l.span(), l.Strides, l.Padding)
	if n < 1 {
		if l.span() != l.Kernel {
			return nil, fmt.Errorf("kernel %d with dilation_rate %d spans %d steps, longer than the %d steps", l.Kernel, l.DilationRate, l.span(), in[0])
		}
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

// Build runs the convolution as a conv2d over one row (the kernel [k, cin,
// filters] as [1, k, cin, filters]), on conv2d's lowerings to matrix
// products: GoMLX's own Convolve is generic scalar code on the Go backend,
// several times slower.
func (l *Conv1D) Build(b *Builder, x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	cin := dims[2]
	kernel := b.Kernel(l.Weights, "kernel", l.Kernel, cin, l.Filters)
	d := max(l.DilationRate, 1)
	n := windowOut(dims[1], l.span(), l.Strides, l.Padding)
	row := graph.Reshape(x, dims[0], 1, dims[1], cin)
	if l.Padding == "same" {
		row = padSame(row, 1, n, 1, l.span(), 1, l.Strides)
	}
	y := conv2d(row, graph.Reshape(kernel, 1, l.Kernel, cin, l.Filters), b.epilogue(l.Weights, l.UseBias, l.Filters, l.Activation), 1, l.Kernel, 1, l.Strides, 1, d, 1, n, l.Filters)
	return graph.Reshape(y, dims[0], n, l.Filters)
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

// BuildMasked takes the maximum over the steps the mask keeps; an example
// with every step masked gives 0.
func (l *GlobalMaxPool1D) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	x, mask := xs[0], maskOf(masks)
	if mask == nil {
		return l.Build(b, x), nil
	}
	keep := graph.BroadcastToDims(graph.InsertAxes(mask, -1), x.Shape().Dimensions...)
	lowest := graph.BroadcastToDims(graph.Scalar(x.Graph(), x.DType(), -math.MaxFloat32), x.Shape().Dimensions...)
	y := graph.ReduceMax(graph.Where(keep, x, lowest), 1)
	any := graph.GreaterThan(graph.ReduceSum(maskAs(mask, x.DType()), 1), graph.ScalarZero(x.Graph(), x.DType())) // [B]
	any = graph.BroadcastToDims(graph.InsertAxes(any, -1), y.Shape().Dimensions...)
	return graph.Where(any, y, graph.ZerosLike(y)), nil
}
