package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("conv2d", "2-D convolution over (height, width, channels) examples, Keras' Conv2D.",
		func() any {
			return &Conv2D{Strides: Size2{1, 1}, Padding: "valid", Activation: "linear", UseBias: true}
		})
	Layers.Register("max_pool2d", "2-D max pooling over (height, width, channels) examples, Keras' MaxPooling2D.",
		func() any { return &MaxPool2D{Pool: Size2{2, 2}, Padding: "valid"} })
}

// Conv2D is Keras' Conv2D with channels last.
type Conv2D struct {
	Filters    int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel     Size2  `pipe:"kernel,required" doc:"window size: 5 or [5, 3]"`
	Strides    Size2  `pipe:"strides" doc:"step of the window: 1 or [2, 1]"`
	Padding    string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output size = ceil(input / stride))"`
	Activation string `pipe:"activation,oneof=linear|relu|sigmoid|tanh|softmax" doc:"activation applied to the output"`
	UseBias    bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
}

// image checks that in is (height, width, channels).
func image(in []int) error {
	if len(in) != 3 {
		return fmt.Errorf("needs examples of shape (height, width, channels), got %d axes", len(in))
	}
	return nil
}

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

func (l *Conv2D) Build(b *Builder, x *graph.Node) *graph.Node {
	cin := x.Shape().Dimensions[3]
	kh, kw := l.Kernel[0], l.Kernel[1]
	kernel := b.GlorotUniform("kernel", kh*kw*cin, kh*kw*l.Filters, kh, kw, cin, l.Filters)
	conv := graph.Convolve(x, kernel).StridePerAxis(l.Strides[0], l.Strides[1])
	if l.Padding == "same" {
		conv = conv.PadSame()
	} else {
		conv = conv.NoPadding()
	}
	y := conv.Done()
	if l.UseBias {
		y = graph.Add(y, graph.Reshape(b.Zeros("bias", l.Filters), 1, 1, 1, l.Filters))
	}
	return applyActivation(l.Activation, y)
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
	p := graph.MaxPool(x).WindowPerAxis(l.Pool[0], l.Pool[1]).StridePerAxis(s[0], s[1])
	if l.Padding == "same" {
		p = p.PadSame()
	} else {
		p = p.NoPadding()
	}
	return p.Done()
}
