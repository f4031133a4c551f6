package ops

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("conv2d_transpose", "Transposed 2-D convolution (learned upsampling) over (height, width, channels) examples, Keras' Conv2DTranspose.",
		func() Layer {
			return &Conv2DTranspose{Strides: Size2{1, 1}, Padding: "valid", Activation: "linear", UseBias: true}
		})
}

// Conv2DTranspose is Keras' Conv2DTranspose with channels last and no
// dilation: each input position adds the kernel, scaled by its channels,
// into the output at stride steps.
type Conv2DTranspose struct {
	Filters       int    `pipe:"filters,required,min=1,max=1000000" doc:"output channels"`
	Kernel        Size2  `pipe:"kernel,required" doc:"window size: 3 or [3, 2]"`
	Strides       Size2  `pipe:"strides" doc:"step between the windows in the output (the upsampling factor): 1 or [2, 2]"`
	Padding       string `pipe:"padding,oneof=valid|same" doc:"valid (output = (input-1)*stride + max(kernel, stride)) or same (output = input*stride)"`
	OutputPadding *Pad2  `pipe:"output_padding" doc:"rows and columns added at the end of the output, each less than its stride; when set, the output is (input-1)*stride + kernel (valid) or (input-1)*stride + kernel%2 (same), plus this"`
	Activation    string `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias       bool   `pipe:"use_bias" doc:"add a learned bias per filter"`
	// kernel_initializer (glorot_uniform, with Keras' fans of the
	// [kh, kw, filters, in channels] kernel), bias_initializer (zeros)
	// and their regularizers.
	Weights
}

// Validate checks the initializers and regularizers, and refuses an output
// padding of a stride or more, as Keras does.
func (l *Conv2DTranspose) Validate() error {
	if err := l.Weights.Validate(); err != nil {
		return err
	}
	if p := l.OutputPadding; p != nil && (p[0] >= l.Strides[0] || p[1] >= l.Strides[1]) {
		return fmt.Errorf("output_padding %s must be less than strides %s", *p, l.Strides)
	}
	return nil
}

// Placement is the output length and the positions cropped at the start of
// the full transposed convolution ((n-1)*stride + kernel positions) along
// an axis of n inputs, as Keras (TensorFlow's conv2d_transpose) places
// them: the output is the input of a convolution with this kernel, stride
// and padding that gives n, and 'same' pads that convolution with the
// smaller half first.
func (l *Conv2DTranspose) Placement(n, i int) (out, crop int) {
	k, s := l.Kernel[i], l.Strides[i]
	switch {
	case l.Padding == "valid" && l.OutputPadding == nil:
		return (n-1)*s + max(k, s), 0
	case l.Padding == "valid":
		return (n-1)*s + k + l.OutputPadding[i], 0
	case l.OutputPadding == nil:
		return n * s, max(k-s, 0) / 2
	}
	op := l.OutputPadding[i]
	return (n-1)*s + k%2 + op, max(k-k%2-op, 0) / 2
}

func (l *Conv2DTranspose) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	h, _ := l.Placement(in[0], 0)
	w, _ := l.Placement(in[1], 1)
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("an output of %dx%d: the output padding is too small for kernel %s", h, w, l.Kernel)
	}
	return []int{h, w, l.Filters}, nil
}

// Params: the kernel [kh, kw, filters, in channels] and a bias per filter.
func (l *Conv2DTranspose) Params(in []int) int {
	n := l.Kernel[0] * l.Kernel[1] * l.Filters * in[2]
	if l.UseBias {
		n += l.Filters
	}
	return n
}

// Build computes the transposed convolution as an ordinary one, so that it
// runs on the matmul lowerings of conv2d: the input with stride-1 zeros
// between its rows and columns, padded by kernel-1 less the cropped
// positions, convolved at stride 1 with the kernel flipped and its channel
// axes swapped. Of the dilated input's values, all but 1 in
// strides[0]*strides[1] are zeros: that much of the work is wasted, the
// price of reusing the fast convolutions.
func (l *Conv2DTranspose) Build(b *Builder, x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	batch, h, w, cin := dims[0], dims[1], dims[2], dims[3]
	kh, kw, sh, sw := l.Kernel[0], l.Kernel[1], l.Strides[0], l.Strides[1]
	// Keras' fans of a [kh, kw, filters, cin] kernel: receptive field
	// times filters, and times cin.
	kernel := b.Kernel(l.Weights, "kernel", kh, kw, l.Filters, cin)
	oh, top := l.Placement(h, 0)
	ow, left := l.Placement(w, 1)
	if sh > 1 || sw > 1 {
		// [b, h, 1, w, 1, c] padded to [b, h, sh, w, sw, c]: each value followed by zeros.
		x = graph.Reshape(x, batch, h, 1, w, 1, cin)
		x = graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), compute.PadAxis{}, compute.PadAxis{}, compute.PadAxis{End: sh - 1},
			compute.PadAxis{}, compute.PadAxis{End: sw - 1}, compute.PadAxis{})
		x = graph.Reshape(x, batch, h*sh, w*sw, cin)
	}
	x = padTo(x, 1, kh-1-top, oh+kh-1)
	x = padTo(x, 2, kw-1-left, ow+kw-1)
	flipped := graph.Transpose(graph.Reverse(kernel, 0, 1), 2, 3) // [kh, kw, cin, filters]
	return conv2d(x, flipped, b.epilogue(l.Weights, l.UseBias, l.Filters, l.Activation), kh, kw, 1, 1, 1, 1, oh, ow, l.Filters)
}

// padTo zero-pads axis of x with start positions before it and, at the
// end, to length n, or crops the end to n.
func padTo(x *graph.Node, axis, start, n int) *graph.Node {
	end := n - start - x.Shape().Dimensions[axis]
	pads := make([]compute.PadAxis, x.Rank())
	pads[axis] = compute.PadAxis{Start: start, End: max(end, 0)}
	if start > 0 || end > 0 {
		x = graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), pads...)
	}
	if end < 0 {
		ranges := make([]graph.SliceAxisSpec, x.Rank())
		for i := range ranges {
			ranges[i] = graph.AxisRange()
		}
		ranges[axis] = graph.AxisRange(0, n)
		x = graph.Slice(x, ranges...)
	}
	return x
}
