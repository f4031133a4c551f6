package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("max_pool1d", "1-D max pooling over (timesteps, channels) examples, Keras' MaxPooling1D.",
		func() Layer { return &MaxPool1D{Pool: 2, Padding: "valid"} })
	Layers.Register("average_pool1d", "1-D average pooling over (timesteps, channels) examples, Keras' AveragePooling1D; with same padding the padded steps are left out of the mean.",
		func() Layer { return &AveragePool1D{Pool: 2, Padding: "valid"} })
	Layers.Register("global_average_pool1d", "Mean over the time axis of (timesteps, channels) examples, Keras' GlobalAveragePooling1D.",
		func() Layer { return &GlobalAveragePool1D{} })
}

// MaxPool1D is Keras' MaxPooling1D with channels last.
type MaxPool1D struct {
	Pool    int    `pipe:"pool,min=1,max=1000000" doc:"window length"`
	Strides *int   `pipe:"strides,min=1,max=1000000" doc:"step of the window; defaults to the pool size"`
	Padding string `pipe:"padding,oneof=valid|same" doc:"valid or same (output length = ceil(input / stride), padded as TensorFlow: the extra step at the end)"`
}

func (l *MaxPool1D) OutputShape(in []int) ([]int, error) {
	return pool1dShape(in, l.Pool, strideOr(l.Strides, l.Pool), l.Padding)
}
func (*MaxPool1D) Params([]int) int { return 0 }
func (l *MaxPool1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return pool1d(x, true, l.Pool, strideOr(l.Strides, l.Pool), l.Padding)
}

// AveragePool1D is Keras' AveragePooling1D with channels last.
type AveragePool1D struct {
	Pool    int    `pipe:"pool,min=1,max=1000000" doc:"window length"`
	Strides *int   `pipe:"strides,min=1,max=1000000" doc:"step of the window; defaults to the pool size"`
	Padding string `pipe:"padding,oneof=valid|same" doc:"valid or same (output length = ceil(input / stride), padded as TensorFlow; padded steps do not count in the mean)"`
}

func (l *AveragePool1D) OutputShape(in []int) ([]int, error) {
	return pool1dShape(in, l.Pool, strideOr(l.Strides, l.Pool), l.Padding)
}
func (*AveragePool1D) Params([]int) int { return 0 }
func (l *AveragePool1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return pool1d(x, false, l.Pool, strideOr(l.Strides, l.Pool), l.Padding)
}

// GlobalAveragePool1D is Keras' GlobalAveragePooling1D: (timesteps,
// channels) -> (channels), or (1, channels) with keepdims.
type GlobalAveragePool1D struct {
	Keepdims bool `pipe:"keepdims" doc:"keep the time axis with size 1: (1, channels)"`
}

func (l *GlobalAveragePool1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	if l.Keepdims {
		return []int{1, in[1]}, nil
	}
	return []int{in[1]}, nil
}
func (*GlobalAveragePool1D) Params([]int) int { return 0 }
func (l *GlobalAveragePool1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return keepDims(graph.ReduceMean(x, 1), x, l.Keepdims)
}

// BuildMasked averages the steps the mask keeps, as Keras; an example
// with every step masked gives 0 (Keras divides by 0).
func (l *GlobalAveragePool1D) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	x, mask := xs[0], maskOf(masks)
	if mask == nil {
		return l.Build(b, x), nil
	}
	m := graph.InsertAxes(maskAs(mask, x.DType()), -1) // [B, T, 1]
	n := graph.Max(graph.ReduceSum(m, 1), graph.OnesLike(graph.ReduceSum(m, 1)))
	return keepDims(graph.Div(graph.ReduceSum(graph.Mul(x, m), 1), n), x, l.Keepdims), nil
}

func strideOr(s *int, pool int) int {
	if s == nil {
		return pool
	}
	return *s
}

func pool1dShape(in []int, pool, stride int, padding string) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	n := windowOut(in[0], pool, stride, padding)
	if n < 1 {
		return nil, fmt.Errorf("pool %d is longer than the %d steps (padding valid keeps only whole windows)", pool, in[0])
	}
	return []int{n, in[1]}, nil
}

// pool1d is pool2d on [batch, steps, 1, channels].
func pool1d(x *graph.Node, isMax bool, pool, stride int, padding string) *graph.Node {
	d := x.Shape().Dimensions
	y := pool2d(graph.Reshape(x, d[0], d[1], 1, d[2]), isMax, Size2{pool, 1}, Size2{stride, 1}, padding)
	return graph.Reshape(y, d[0], y.Shape().Dimensions[1], d[2])
}
