package ops

import (
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("separable_conv2d", "Depthwise separable 2-D convolution (a depthwise convolution, then a 1x1 convolution across channels) over (height, width, channels) examples, Keras' SeparableConv2D.",
		func() Layer {
			return &SeparableConv2D{Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, DepthMultiplier: 1, Padding: "valid", Activation: "linear", UseBias: true}
		})
}

// SeparableConv2D is Keras' SeparableConv2D with channels last: the
// depthwise convolution of depthwise_conv2d (without its bias), then a
// pointwise [cin*depth_multiplier, filters] product at every position,
// the bias and the activation.
type SeparableConv2D struct {
	Filters         int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel          Size2  `pipe:"kernel,required" doc:"window size of the depthwise step: 3 or [3, 5]"`
	Strides         Size2  `pipe:"strides" doc:"step of the window: 1 or [2, 1]"`
	DilationRate    Size2  `pipe:"dilation_rate" doc:"spacing of the kernel's taps: 1 or [2, 2]; above 1 only with strides 1"`
	DepthMultiplier int    `pipe:"depth_multiplier,min=1,max=100000" doc:"channels of the depthwise step per input channel"`
	Padding         string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output size = ceil(input / stride))"`
	Activation      string `pipe:"activation,oneof=linear|relu|sigmoid|tanh|softmax" doc:"activation applied to the output"`
	UseBias         bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
}

// Validate refuses what Keras refuses: strides above 1 with a dilation above 1.
func (l *SeparableConv2D) Validate() error { return stridesOrDilation(l.Strides, l.DilationRate) }

func (l *SeparableConv2D) OutputShape(in []int) ([]int, error) {
	h, w, err := windows(in, l.Kernel, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	return []int{h, w, l.Filters}, nil
}

// Params: the depthwise kernel [kh, kw, cin, dm], the pointwise kernel
// [1, 1, cin*dm, filters] and a bias per filter.
func (l *SeparableConv2D) Params(in []int) int {
	mid := in[2] * l.DepthMultiplier
	n := l.Kernel[0]*l.Kernel[1]*mid + mid*l.Filters
	if l.UseBias {
		n += l.Filters
	}
	return n
}

func (l *SeparableConv2D) Build(b *Builder, x *graph.Node) *graph.Node {
	cin := x.Shape().Dimensions[3]
	mid := cin * l.DepthMultiplier
	dk := depthwiseKernel(b, "depthwise_kernel", l.Kernel, cin, l.DepthMultiplier)
	// Keras' fans of the [1, 1, mid, filters] kernel.
	pk := b.GlorotUniform("pointwise_kernel", mid, l.Filters, 1, 1, mid, l.Filters)
	y := depthwise(x, dk, l.Kernel, l.Strides, l.DilationRate, l.Padding)
	d := y.Shape().Dimensions
	y = graph.Reshape(matMul(graph.Reshape(y, d[0]*d[1]*d[2], mid), graph.Reshape(pk, mid, l.Filters)), d[0], d[1], d[2], l.Filters)
	return b.biasActivation(y, l.UseBias, l.Activation)
}
