package ops

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("conv2d", "2-D convolution over (height, width, channels) examples, Keras' Conv2D.",
		func() Layer {
			return &Conv2D{Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, Padding: "valid", Activation: "linear", UseBias: true}
		})
}

// Conv2D is Keras' Conv2D with channels last.
type Conv2D struct {
	Filters      int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel       Size2  `pipe:"kernel,required" doc:"window size: 5 or [5, 3]"`
	Strides      Size2  `pipe:"strides" doc:"step of the window: 1 or [2, 1]"`
	DilationRate Size2  `pipe:"dilation_rate" doc:"spacing of the kernel's taps (atrous convolution): 1 or [2, 2]; above 1 only with strides 1"`
	Padding      string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output size = ceil(input / stride))"`
	Activation   string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias      bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
	Weights
}

// Validate refuses what Keras refuses: strides above 1 with a dilation above 1.
func (l *Conv2D) Validate() error {
	if err := l.Weights.Validate(); err != nil {
		return err
	}
	return stridesOrDilation(l.Strides, l.DilationRate)
}

// stridesOrDilation is Keras' rule for convolutions: a window either steps
// or is dilated, not both.
func stridesOrDilation(strides, dilation Size2) error {
	if max(strides[0], strides[1]) > 1 && max(dilation[0], dilation[1]) > 1 {
		return fmt.Errorf("strides %s with dilation_rate %s: strides above 1 are not supported together with a dilation_rate above 1", strides, dilation)
	}
	return nil
}

// dilated is d with a zero (an unset field of a layer built in Go) read as 1.
func dilated(d Size2) Size2 {
	return Size2{max(d[0], 1), max(d[1], 1)}
}

// effective is the span of a kernel of size k with dilation d: (k-1)*d+1.
func effective(k, d Size2) Size2 {
	d = dilated(d)
	return Size2{(k[0]-1)*d[0] + 1, (k[1]-1)*d[1] + 1}
}

// image checks that in is (height, width, channels).
func image(in []int) error { return axes(in, "height", "width", "channels") }

func (l *Conv2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	k := effective(l.Kernel, l.DilationRate)
	h, w := windowOut(in[0], k[0], l.Strides[0], l.Padding), windowOut(in[1], k[1], l.Strides[1], l.Padding)
	if h < 1 || w < 1 {
		if k != l.Kernel {
			return nil, fmt.Errorf("kernel %s with dilation_rate %s spans %s, larger than the %dx%d input", l.Kernel, l.DilationRate, k, in[0], in[1])
		}
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
// the backend's SIMD matmul (see conv2d).
func (l *Conv2D) Build(b *Builder, x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	cin := dims[3]
	kh, kw := l.Kernel[0], l.Kernel[1]
	sh, sw := l.Strides[0], l.Strides[1]
	d, k := dilated(l.DilationRate), effective(l.Kernel, l.DilationRate)
	kernel := b.Kernel(l.Weights, "kernel", kh, kw, cin, l.Filters)
	oh, ow := windowOut(dims[1], k[0], sh, l.Padding), windowOut(dims[2], k[1], sw, l.Padding)
	if l.Padding == "same" {
		x = padSame(x, oh, ow, k[0], k[1], sh, sw)
	}
	return conv2d(x, kernel, b.epilogue(l.Weights, l.UseBias, l.Filters, l.Activation), kh, kw, sh, sw, d[0], d[1], oh, ow, l.Filters)
}

// conv2d is the valid convolution of x (already padded) with kernel [kh,
// kw, cin, filters], strides sh, sw and dilations dh, dw, as a matrix
// multiplication: banded (bandedConv) for few channels and filters,
// otherwise patches times the kernel (im2colConv). The backend's own
// convolution is generic scalar code, slower than both (see moveNs). The
// epilogue's bias and activation follow the product.
func conv2d(x, kernel *graph.Node, e epilogue, kh, kw, sh, sw, dh, dw, oh, ow, filters int) *graph.Node {
	cin := x.Shape().Dimensions[3]
	span := (kw-1)*dw + 1
	if banded((ow-1)*sw+span, ow, kh, span, cin, filters) {
		return e.finish(bandedConv(x, kernel, e, kh, kw, sh, sw, dh, dw, oh, ow, filters))
	}
	return e.finish(im2colConv(x, kernel, e, kh, kw, sh, sw, dh, dw, oh, ow, filters))
}

// padSame zero-pads the spatial axes of x as TensorFlow does for 'same':
// the total padding is split with the extra row or column at the end.
func padSame(x *graph.Node, oh, ow, kh, kw, sh, sw int) *graph.Node {
	dims := x.Shape().Dimensions
	ph, pw := samePads(dims[1], oh, kh, sh), samePads(dims[2], ow, kw, sw)
	if ph == (compute.PadAxis{}) && pw == (compute.PadAxis{}) {
		return x
	}
	return graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), compute.PadAxis{}, ph, pw, compute.PadAxis{})
}

// samePads is TensorFlow's 'same' padding of an axis of n positions read
// by out windows of size window every stride: the total that the windows
// need, split with the extra position at the end.
func samePads(n, out, window, stride int) compute.PadAxis {
	total := max((out-1)*stride+window-n, 0)
	return compute.PadAxis{Start: total / 2, End: total - total/2}
}
