package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("depthwise_conv2d", "Depthwise 2-D convolution (each input channel convolved on its own) over (height, width, channels) examples, Keras' DepthwiseConv2D.",
		func() Layer {
			return &DepthwiseConv2D{Strides: Size2{1, 1}, DilationRate: Size2{1, 1}, DepthMultiplier: 1, Padding: "valid", Activation: "linear", UseBias: true}
		})
}

// DepthwiseConv2D is Keras' DepthwiseConv2D with channels last: input
// channel c gives the output channels c*depth_multiplier + m, each its own
// kh x kw filter of channel c alone.
type DepthwiseConv2D struct {
	Kernel          Size2  `pipe:"kernel,required" doc:"window size: 3 or [3, 5]"`
	Strides         Size2  `pipe:"strides" doc:"step of the window: 1 or [2, 1]"`
	DilationRate    Size2  `pipe:"dilation_rate" doc:"spacing of the kernel's taps: 1 or [2, 2]; above 1 only with strides 1"`
	DepthMultiplier int    `pipe:"depth_multiplier,min=1,max=100000" doc:"output channels per input channel"`
	Padding         string `pipe:"padding,oneof=valid|same" doc:"valid (no padding) or same (output size = ceil(input / stride))"`
	Activation      string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias         bool   `pipe:"use_bias" doc:"add a learned bias per output channel"`
	// Keras' names: depthwise_*, not kernel_*.
	DepthwiseInitializer spec.Component `pipe:"depthwise_initializer,registry=initializer" doc:"how the depthwise kernel [kh, kw, in channels, depth_multiplier] starts; default glorot_uniform"`
	BiasInitializer      spec.Component `pipe:"bias_initializer,registry=initializer" doc:"how the bias starts; default zeros"`
	DepthwiseRegularizer spec.Component `pipe:"depthwise_regularizer,registry=regularizer" doc:"penalty on the depthwise kernel added to the training loss; default none"`
	BiasRegularizer      spec.Component `pipe:"bias_regularizer,registry=regularizer" doc:"penalty on the bias added to the training loss; default none"`
}

// Validate checks the initializers and regularizers, and refuses what
// Keras refuses: strides above 1 with a dilation above 1.
func (l *DepthwiseConv2D) Validate() error {
	if err := validateWeights(named{"depthwise_initializer", l.DepthwiseInitializer, true}, named{"bias_initializer", l.BiasInitializer, true},
		named{"depthwise_regularizer", l.DepthwiseRegularizer, false}, named{"bias_regularizer", l.BiasRegularizer, false}); err != nil {
		return err
	}
	return stridesOrDilation(l.Strides, l.DilationRate)
}

// windows is the output size of a window k (its span with dilation d) at
// strides s over the image in, or an error when it does not fit.
func windows(in []int, kernel, strides, dilation Size2, padding string) (int, int, error) {
	if err := image(in); err != nil {
		return 0, 0, err
	}
	k := effective(kernel, dilation)
	h, w := windowOut(in[0], k[0], strides[0], padding), windowOut(in[1], k[1], strides[1], padding)
	if h < 1 || w < 1 {
		return 0, 0, fmt.Errorf("kernel %s spans %s, larger than the %dx%d input", kernel, k, in[0], in[1])
	}
	return h, w, nil
}

func (l *DepthwiseConv2D) OutputShape(in []int) ([]int, error) {
	h, w, err := windows(in, l.Kernel, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	return []int{h, w, in[2] * l.DepthMultiplier}, nil
}

// Params: the kernel [kh, kw, in channels, depth_multiplier] and a bias
// per output channel.
func (l *DepthwiseConv2D) Params(in []int) int {
	n := l.Kernel[0] * l.Kernel[1] * in[2] * l.DepthMultiplier
	if l.UseBias {
		n += in[2] * l.DepthMultiplier
	}
	return n
}

func (l *DepthwiseConv2D) Build(b *Builder, x *graph.Node) *graph.Node {
	kernel := depthwiseKernel(b, "kernel", l.DepthwiseInitializer, l.DepthwiseRegularizer, l.Kernel, x.Shape().Dimensions[3], l.DepthMultiplier)
	y := depthwise(x, kernel, l.Kernel, l.Strides, l.DilationRate, l.Padding)
	return b.BiasActivation(Weights{BiasInitializer: l.BiasInitializer, BiasRegularizer: l.BiasRegularizer}, y, l.UseBias, l.Activation)
}

// depthwiseKernel is the variable name of shape [kh, kw, cin, dm], drawn
// by init (glorot_uniform when left out) with Keras' fans for that shape
// (the receptive field times each of its last two axes), with the
// penalty of reg.
func depthwiseKernel(b *Builder, name string, init, reg spec.Component, k Size2, cin, dm int) *graph.Node {
	dims := []int{k[0], k[1], cin, dm}
	return b.Weight(name, init, reg, glorotUniform, FansOf(dims), dims...)
}

// depthwise convolves each channel of x [batch, h, w, cin] with its own
// filters, kernel [kh, kw, cin, dm], into [batch, oh, ow, cin*dm]. The
// windows are gathered as patches (as for im2colConv), multiplied by the
// kernel and summed over the window: a matmul per channel would be
// [kh*kw] by [kh*kw, dm], too small for the backend's matmul to pay.
func depthwise(x, kernel *graph.Node, k, s, dilation Size2, padding string) *graph.Node {
	dims := x.Shape().Dimensions
	batch, cin := dims[0], dims[3]
	dm := kernel.Shape().Dimensions[3]
	d, span := dilated(dilation), effective(k, dilation)
	oh, ow := windowOut(dims[1], span[0], s[0], padding), windowOut(dims[2], span[1], s[1], padding)
	if padding == "same" {
		x = padSame(x, oh, ow, span[0], span[1], s[0], s[1])
	}
	p := graph.Reshape(patches(x, k[0], k[1], s[0], s[1], d[0], d[1], oh, ow), batch*oh*ow, k[0]*k[1], cin, 1)
	y := graph.ReduceSum(graph.Mul(p, graph.Reshape(kernel, 1, k[0]*k[1], cin, dm)), 1)
	return graph.Reshape(y, batch, oh, ow, cin*dm)
}
