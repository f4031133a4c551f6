package ops

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
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
	Activation      string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias         bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
	// Keras' names: depthwise_*, pointwise_* and bias_*, no kernel_*.
	DepthwiseInitializer spec.Component `pipe:"depthwise_initializer,registry=initializer" doc:"how the depthwise kernel [kh, kw, in channels, depth_multiplier] starts; default glorot_uniform"`
	PointwiseInitializer spec.Component `pipe:"pointwise_initializer,registry=initializer" doc:"how the pointwise kernel [1, 1, in channels·depth_multiplier, filters] starts; default glorot_uniform"`
	BiasInitializer      spec.Component `pipe:"bias_initializer,registry=initializer" doc:"how the bias starts; default zeros"`
	DepthwiseRegularizer spec.Component `pipe:"depthwise_regularizer,registry=regularizer" doc:"penalty on the depthwise kernel added to the training loss; default none"`
	PointwiseRegularizer spec.Component `pipe:"pointwise_regularizer,registry=regularizer" doc:"penalty on the pointwise kernel added to the training loss; default none"`
	BiasRegularizer      spec.Component `pipe:"bias_regularizer,registry=regularizer" doc:"penalty on the bias added to the training loss; default none"`
}

// Validate checks the initializers and regularizers, and refuses what
// Keras refuses: strides above 1 with a dilation above 1.
func (l *SeparableConv2D) Validate() error {
	if err := validateWeights(
		named{"depthwise_initializer", l.DepthwiseInitializer, true}, named{"pointwise_initializer", l.PointwiseInitializer, true},
		named{"bias_initializer", l.BiasInitializer, true}, named{"depthwise_regularizer", l.DepthwiseRegularizer, false},
		named{"pointwise_regularizer", l.PointwiseRegularizer, false}, named{"bias_regularizer", l.BiasRegularizer, false}); err != nil {
		return err
	}
	return stridesOrDilation(l.Strides, l.DilationRate)
}

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
	dk := depthwiseKernel(b, "depthwise_kernel", l.DepthwiseInitializer, l.DepthwiseRegularizer, l.Kernel, cin, l.DepthMultiplier)
	// Keras' layout and fans (mid, filters) of the [1, 1, mid, filters] kernel.
	pdims := []int{1, 1, mid, l.Filters}
	pk := b.Weight("pointwise_kernel", l.PointwiseInitializer, l.PointwiseRegularizer, glorotUniform, FansOf(pdims), pdims...)
	y := depthwise(x, dk, l.Kernel, l.Strides, l.DilationRate, l.Padding)
	d := y.Shape().Dimensions
	y = graph.Reshape(matMul(graph.Reshape(y, d[0]*d[1]*d[2], mid), graph.Reshape(pk, mid, l.Filters)), d[0], d[1], d[2], l.Filters)
	return b.BiasActivation(Weights{BiasInitializer: l.BiasInitializer, BiasRegularizer: l.BiasRegularizer}, y, l.UseBias, l.Activation)
}
