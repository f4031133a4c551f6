package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func init() {
	Layers.Register("max_pool2d", "2-D max pooling over (height, width, channels) examples, Keras' MaxPooling2D.",
		func() Layer { return &MaxPool2D{Pool: Size2{2, 2}, Padding: "valid"} })
	Layers.Register("average_pool2d", "2-D average pooling over (height, width, channels) examples, Keras' AveragePooling2D; with same padding the padded cells are left out of the mean.",
		func() Layer { return &AveragePool2D{Pool: Size2{2, 2}, Padding: "valid"} })
	Layers.Register("global_max_pool2d", "Maximum over height and width of (height, width, channels) examples, Keras' GlobalMaxPooling2D.",
		func() Layer { return &GlobalMaxPool2D{} })
	Layers.Register("global_average_pool2d", "Mean over height and width of (height, width, channels) examples, Keras' GlobalAveragePooling2D.",
		func() Layer { return &GlobalAveragePool2D{} })
}

// MaxPool2D is Keras' MaxPooling2D with channels last.
type MaxPool2D struct {
	Pool    Size2  `pipe:"pool" doc:"window size: 2 or [2, 3]"`
	Strides *Size2 `pipe:"strides" doc:"step of the window; defaults to the pool size"`
	Padding string `pipe:"padding,oneof=valid|same" doc:"valid or same (output size = ceil(input / stride), padded as TensorFlow: the extra row or column at the end)"`
}

func (l *MaxPool2D) OutputShape(in []int) ([]int, error) {
	return pool2dShape(in, l.Pool, stridesOr(l.Strides, l.Pool), l.Padding)
}

func (*MaxPool2D) Params([]int) int { return 0 }

func (l *MaxPool2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return pool2d(x, true, l.Pool, stridesOr(l.Strides, l.Pool), l.Padding)
}

// AveragePool2D is Keras' AveragePooling2D with channels last.
type AveragePool2D struct {
	Pool    Size2  `pipe:"pool" doc:"window size: 2 or [2, 3]"`
	Strides *Size2 `pipe:"strides" doc:"step of the window; defaults to the pool size"`
	Padding string `pipe:"padding,oneof=valid|same" doc:"valid or same (output size = ceil(input / stride), padded as TensorFlow; padded cells do not count in the mean)"`
}

func (l *AveragePool2D) OutputShape(in []int) ([]int, error) {
	return pool2dShape(in, l.Pool, stridesOr(l.Strides, l.Pool), l.Padding)
}

func (*AveragePool2D) Params([]int) int { return 0 }

func (l *AveragePool2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return pool2d(x, false, l.Pool, stridesOr(l.Strides, l.Pool), l.Padding)
}

// GlobalMaxPool2D is Keras' GlobalMaxPooling2D: (height, width, channels)
// -> (channels), or (1, 1, channels) with keepdims.
type GlobalMaxPool2D struct {
	Keepdims bool `pipe:"keepdims" doc:"keep height and width as axes of size 1: (1, 1, channels)"`
}

func (l *GlobalMaxPool2D) OutputShape(in []int) ([]int, error) { return globalShape(in, l.Keepdims) }
func (*GlobalMaxPool2D) Params([]int) int                      { return 0 }
func (l *GlobalMaxPool2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return keepDims(graph.ReduceMax(x, 1, 2), x, l.Keepdims)
}

// GlobalAveragePool2D is Keras' GlobalAveragePooling2D: (height, width,
// channels) -> (channels), or (1, 1, channels) with keepdims.
type GlobalAveragePool2D struct {
	Keepdims bool `pipe:"keepdims" doc:"keep height and width as axes of size 1: (1, 1, channels)"`
}

func (l *GlobalAveragePool2D) OutputShape(in []int) ([]int, error) {
	return globalShape(in, l.Keepdims)
}
func (*GlobalAveragePool2D) Params([]int) int { return 0 }
func (l *GlobalAveragePool2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return keepDims(graph.ReduceMean(x, 1, 2), x, l.Keepdims)
}

// globalShape is the output of a global pool over the (height, width) of
// in: (channels), or (1, 1, channels) with keepdims.
func globalShape(in []int, keepdims bool) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	if keepdims {
		return []int{1, 1, in[2]}, nil
	}
	return []int{in[2]}, nil
}

// keepDims gives y [batch, c], reduced from x, x's rank back with axes of
// size 1 when keep is set.
func keepDims(y, x *graph.Node, keep bool) *graph.Node {
	if !keep {
		return y
	}
	return graph.Reshape(y, batchAndChannels(x.Shape().Dimensions)...)
}

// batchAndChannels is the dimensions d with every axis but the first
// (batch) and the last (channels) of size 1.
func batchAndChannels(d []int) []int {
	out := make([]int, len(d))
	for i := range out {
		out[i] = 1
	}
	out[0], out[len(d)-1] = d[0], d[len(d)-1]
	return out
}

func stridesOr(s *Size2, pool Size2) Size2 {
	if s == nil {
		return pool
	}
	return *s
}

func pool2dShape(in []int, pool, strides Size2, padding string) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	h, w := windowOut(in[0], pool[0], strides[0], padding), windowOut(in[1], pool[1], strides[1], padding)
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("pool %s is larger than the %dx%d input (padding valid keeps only whole windows)", pool, in[0], in[1])
	}
	return []int{h, w, in[2]}, nil
}

// pool2d pools the spatial axes of x [batch, h, w, c] by maximum or mean,
// with Keras' (TensorFlow's) rules: 'same' pads as samePads, and the mean
// leaves padded cells out.
//
// Windows that tile the input (strides equal to the pool, the usual case)
// are a padding or crop, a reshape to [batch, oh, ph, ow, pw, c] and a
// reduction over the window axes: the Go backend's generic windowed
// kernels (ReduceWindow and, for the gradients, SelectAndScatter and a
// dilated convolution) took a third of a CNN step, where a reduction and
// its broadcast gradient cost little. With ties in a max window the
// gradient goes to every maximum, where Keras picks one; ties of trained
// float activations are rare. Overlapping windows use GoMLX's pools.
func pool2d(x *graph.Node, isMax bool, pool, strides Size2, padding string) *graph.Node {
	d := x.Shape().Dimensions
	oh, ow := windowOut(d[1], pool[0], strides[0], padding), windowOut(d[2], pool[1], strides[1], padding)
	var ph, pw compute.PadAxis
	if padding == "same" {
		ph, pw = samePads(d[1], oh, pool[0], strides[0]), samePads(d[2], ow, pool[1], strides[1])
	}
	padded := ph != (compute.PadAxis{}) || pw != (compute.PadAxis{})
	if strides == pool {
		switch {
		case padded:
			fill := 0.0
			if isMax {
				fill = math.Inf(-1) // never a maximum: every window holds an input cell
			}
			x = graph.Pad(x, graph.Scalar(x.Graph(), x.DType(), fill), compute.PadAxis{}, ph, pw, compute.PadAxis{})
		case oh*pool[0] != d[1] || ow*pool[1] != d[2]:
			x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, oh*pool[0]), graph.AxisRange(0, ow*pool[1]), graph.AxisRange())
		}
		tiles := graph.Reshape(x, d[0], oh, pool[0], ow, pool[1], d[3])
		switch {
		case isMax:
			return graph.ReduceMax(tiles, 2, 4)
		case !padded:
			return graph.ReduceMean(tiles, 2, 4)
		}
		return graph.Mul(graph.ReduceSum(tiles, 2, 4), inverseCounts(x.Graph(), x, d[1], d[2], oh, ow, pool, strides, ph, pw))
	}
	var p *graph.PoolBuilder
	switch {
	case isMax:
		p = graph.MaxPool(x)
	case padded:
		p = graph.SumPool(x)
	default:
		p = graph.MeanPool(x)
	}
	p = p.WindowPerAxis(pool[0], pool[1]).StridePerAxis(strides[0], strides[1])
	if padded {
		p = p.PaddingPerDim([][2]int{{ph.Start, ph.End}, {pw.Start, pw.End}})
	} else {
		p = p.NoPadding()
	}
	if isMax || !padded {
		return p.Done()
	}
	// GoMLX's padded MeanPool counts a window's cells with a second
	// ReduceWindow over ones; the counts are known here.
	return graph.Mul(p.Done(), inverseCounts(x.Graph(), x, d[1], d[2], oh, ow, pool, strides, ph, pw))
}

// inverseCounts is 1 / (the number of input cells) of each output window,
// [1, oh, ow, 1] in x's dtype, for windows over h x w padded by ph and pw.
func inverseCounts(g *graph.Graph, x *graph.Node, h, w, oh, ow int, pool, strides Size2, ph, pw compute.PadAxis) *graph.Node {
	rows, cols := windowCounts(h, oh, pool[0], strides[0], ph.Start), windowCounts(w, ow, pool[1], strides[1], pw.Start)
	inv := make([]float32, oh*ow)
	for i, r := range rows {
		for j, c := range cols {
			inv[i*ow+j] = 1 / float32(r*c)
		}
	}
	return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(inv, 1, oh, ow, 1)), x.DType())
}

// windowCounts is, for each of out windows of size window every stride
// over n positions padded by before, how many positions it covers.
func windowCounts(n, out, window, stride, before int) []int {
	c := make([]int, out)
	for i := range c {
		start := i*stride - before
		c[i] = min(start+window, n) - max(start, 0)
	}
	return c
}
