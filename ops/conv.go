package ops

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("conv2d", "2-D convolution over (height, width, channels) examples, Keras' Conv2D.",
		func() Layer {
			return &Conv2D{Strides: Size2{1, 1}, Padding: "valid", Activation: "linear", UseBias: true}
		})
	Layers.Register("max_pool2d", "2-D max pooling over (height, width, channels) examples, Keras' MaxPooling2D.",
		func() Layer { return &MaxPool2D{Pool: Size2{2, 2}, Padding: "valid"} })
}

// Conv2D is Keras' Conv2D with channels last.
type Conv2D struct {
	Filters    int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel     Size2  `pipe:"kernel,required" doc:"window size: 5 or [5, 3]"`
	Strides    Size2  `pipe:"strides" doc:"step of the window: 1 or [2, 1]"`
	Padding    string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output size = ceil(input / stride))"`
	Activation string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias    bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
	Weights
}

// image checks that in is (height, width, channels).
func image(in []int) error { return axes(in, "height", "width", "channels") }

func (l *Conv2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	h, w := windowOut(in[0], l.Kernel[0], l.Strides[0], l.Padding), windowOut(in[1], l.Kernel[1], l.Strides[1], l.Padding)
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("kernel %s is larger than the %dx%d input", l.Kernel, in[0], in[1])
	}
	return []int{h, w, l.Filters}, nil
}

func (l *Conv2D) Params(in []int) int {
	n := l.Kernel[0] * l.Kernel[1] * in[2] * l.Filters
	if l.UseBias {
		n += l.Filters
	}
	return n
}

// Rough costs on the Go backend (SIMD build) that decide how a conv2d is
// lowered: one input element moved into the product's rows (gathered, and
// scattered back in the gradient, with the output's transposes), against
// one multiply-add of its AVX-512 matmul. They are set to agree with what
// was measured, not timed one by one: mnist_cnn and cifar10_cnn take a
// third of the CPU time banded that they take as patches; cifar10_convnet
// (32 and 64 filters) less than half as patches. (The backend's own
// convolution kernel is generic scalar code, slower than both lowerings:
// mnist_cnn trained at 2,245 samples/s on it.)
const (
	moveNs = 4.0
	macNs  = 0.022
)

// lowering is set by tests to force "banded" or "im2col"; empty picks the cheaper.
var lowering string

// banded reports whether the banded lowering is cheaper than patches times
// the kernel for a convolution whose windows read w input columns. Per
// (example, output row, kernel row, input channel) the band gathers w
// elements and multiplies each by ow*filters entries; patches gather ow*kw
// and multiply each by filters. The band itself must stay small.
func banded(w, ow, kh, kw, cin, filters int) bool {
	if lowering != "" {
		return lowering == "banded"
	}
	if kh*w*cin*ow*filters > 1<<20 {
		return false
	}
	band := float64(w) * (moveNs + macNs*float64(ow*filters))
	im2col := float64(ow*kw) * (moveNs + macNs*float64(filters))
	return band < im2col
}

// Build adds the convolution as a matrix multiplication, so that it runs on
// the backend's SIMD matmul: banded (bandedConv) for few channels and
// filters, otherwise patches times the kernel (im2colConv).
func (l *Conv2D) Build(b *Builder, x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	cin := dims[3]
	kh, kw := l.Kernel[0], l.Kernel[1]
	sh, sw := l.Strides[0], l.Strides[1]
	kernel := b.Kernel(l.Weights, "kernel", kh, kw, cin, l.Filters)
	oh, ow := windowOut(dims[1], kh, sh, l.Padding), windowOut(dims[2], kw, sw, l.Padding)
	if l.Padding == "same" {
		x = padSame(x, oh, ow, kh, kw, sh, sw)
	}
	if banded((ow-1)*sw+kw, ow, kh, kw, cin, l.Filters) {
		return b.BiasActivation(l.Weights, bandedConv(x, kernel, kh, kw, sh, sw, oh, ow, l.Filters), l.UseBias, l.Activation)
	}
	return b.BiasActivation(l.Weights, im2colConv(x, kernel, kh, kw, sh, sw, oh, ow, l.Filters), l.UseBias, l.Activation)
}

// padSame zero-pads the spatial axes of x as TensorFlow does for 'same':
// the total padding is split with the extra row or column at the end.
func padSame(x *graph.Node, oh, ow, kh, kw, sh, sw int) *graph.Node {
	dims := x.Shape().Dimensions
	ph := max((oh-1)*sh+kh-dims[1], 0)
	pw := max((ow-1)*sw+kw-dims[2], 0)
	if ph == 0 && pw == 0 {
		return x
	}
	return graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()),
		compute.PadAxis{}, compute.PadAxis{Start: ph / 2, End: ph - ph/2}, compute.PadAxis{Start: pw / 2, End: pw - pw/2}, compute.PadAxis{})
}

// MaxPool2D is Keras' MaxPooling2D with channels last.
type MaxPool2D struct {
	Pool    Size2  `pipe:"pool" doc:"window size: 2 or [2, 3]"`
	Strides *Size2 `pipe:"strides" doc:"step of the window; defaults to the pool size"`
	Padding string `pipe:"padding,oneof=valid|same" doc:"valid or same"`
}

func (l *MaxPool2D) strides() Size2 {
	if l.Strides == nil {
		return l.Pool
	}
	return *l.Strides
}

func (l *MaxPool2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	s := l.strides()
	h, w := windowOut(in[0], l.Pool[0], s[0], l.Padding), windowOut(in[1], l.Pool[1], s[1], l.Padding)
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("pool %s is larger than the %dx%d input", l.Pool, in[0], in[1])
	}
	return []int{h, w, in[2]}, nil
}

func (*MaxPool2D) Params([]int) int { return 0 }

func (l *MaxPool2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	s := l.strides()
	if l.Padding == "valid" && s == l.Pool {
		return tiledMax(x, l.Pool)
	}
	p := graph.MaxPool(x).WindowPerAxis(l.Pool[0], l.Pool[1]).StridePerAxis(s[0], s[1])
	if l.Padding == "same" {
		p = p.PadSame()
	} else {
		p = p.NoPadding()
	}
	return p.Done()
}

// tiledMax is max pooling with non-overlapping windows (strides equal to
// the pool, valid padding) as a reshape and a reduction: the input, cropped
// to whole windows, becomes [batch, oh, ph, ow, pw, c] and is reduced over
// the window axes. The Go backend's generic windowed kernels (ReduceWindow
// and, for the gradient, SelectAndScatter) took a third of a CNN step.
// With ties in a window the gradient goes to every maximum, where Keras
// picks one; ties of trained float activations are rare.
func tiledMax(x *graph.Node, pool Size2) *graph.Node {
	d := x.Shape().Dimensions
	oh, ow := d[1]/pool[0], d[2]/pool[1]
	if oh*pool[0] != d[1] || ow*pool[1] != d[2] {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, oh*pool[0]), graph.AxisRange(0, ow*pool[1]), graph.AxisRange())
	}
	return graph.ReduceMax(graph.Reshape(x, d[0], oh, pool[0], ow, pool[1], d[3]), 2, 4)
}
