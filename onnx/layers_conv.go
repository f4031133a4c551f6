package onnx

import (
	"slices"

	"github.com/pipe-ml/pipe/ops"
)

// The mappings of ops/conv.go and ops/conv1d.go. ONNX's Conv and MaxPool
// take channels first ([N, C, H, W]); pipe's layers take channels last, as
// Keras does, so the value is transposed at the first of them and back at
// the first layer that needs pipe's order (see tensor.channelsFirst).
func init() {
	mappings["conv2d"] = exportConv2D
	mappings["max_pool2d"] = exportMaxPool2D
	mappings["conv1d"] = exportConv1D
	mappings["conv2d_transpose"] = exportConv2DTranspose
	mappings["depthwise_conv2d"] = exportDepthwiseConv2D
	mappings["separable_conv2d"] = exportSeparableConv2D
	mappings["global_max_pool1d"] = exportGlobalMaxPool1D
}

// samePads are the padding before and after an axis of n positions for
// 'same': the total that keeps ceil(n/stride) windows, split with the
// extra one at the end. The convolutions and max_pool2d pad as TensorFlow
// does (ops' samePads); GoMLX's PadSame pads window-1 whatever
// the stride; with stride 1 both agree, with larger strides the windows of
// the two sit differently, and the export follows pipe. window is the
// span of a dilated kernel.
func samePads(n, window, stride int, tensorflow bool) (int, int) {
	if !tensorflow {
		return (window - 1) / 2, window / 2
	}
	out := (n + stride - 1) / stride
	total := max((out-1)*stride+window-n, 0)
	return total / 2, total - total/2
}

// pads are ONNX's pads attribute, [begins..., ends...], for the spatial
// axes of in (channels last) under padding.
func pads(in []int, window, strides []int, padding string, tensorflow bool) []int {
	begins, ends := make([]int, len(window)), make([]int, len(window))
	if padding == "same" {
		for i := range window {
			begins[i], ends[i] = samePads(in[i], window[i], strides[i], tensorflow)
		}
	}
	return append(begins, ends...)
}

// exportConv2D is Conv with the Keras kernel [kh, kw, in, filters] (HWIO)
// transposed to ONNX's [filters, in, kh, kw] (OIHW).
func exportConv2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Conv2D](st)
	if err != nil {
		return x, err
	}
	k, _, err := b.weight(st, "kernel", l.Kernel[0], l.Kernel[1], st.In[2], l.Filters)
	if err != nil {
		return x, err
	}
	kh, kw, cin, f := l.Kernel[0], l.Kernel[1], st.In[2], l.Filters
	oihw := make([]float32, len(k))
	for i := range kh {
		for j := range kw {
			for c := range cin {
				for o := range f {
					oihw[((o*cin+c)*kh+i)*kw+j] = k[((i*kw+j)*cin+c)*f+o]
				}
			}
		}
	}
	return b.conv(st, x, l.UseBias, l.Activation, oihw, []int{f, cin, kh, kw}, l.Strides[:], l.DilationRate[:], l.Padding)
}

// exportConv1D is Conv over one spatial axis, the Keras kernel [k, in,
// filters] transposed to [filters, in, k].
func exportConv1D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Conv1D](st)
	if err != nil {
		return x, err
	}
	k, _, err := b.weight(st, "kernel", l.Kernel, st.In[1], l.Filters)
	if err != nil {
		return x, err
	}
	kw, cin, f := l.Kernel, st.In[1], l.Filters
	oiw := make([]float32, len(k))
	for j := range kw {
		for c := range cin {
			for o := range f {
				oiw[(o*cin+c)*kw+j] = k[(j*cin+c)*f+o]
			}
		}
	}
	return b.conv(st, x, l.UseBias, l.Activation, oiw, []int{f, cin, kw}, []int{l.Strides}, []int{l.DilationRate}, l.Padding)
}

// conv adds Conv (with the bias as its third input) and the activation.
// wdims are [out channels, in channels per group, spatial...]; groups
// above 1 split the input channels into that many groups.
func (b *stackBuilder) conv(st ops.Stage, x tensor, useBias bool, activation string, w []float32, wdims []int, strides, dilations []int, padding string, extra ...attr) (tensor, error) {
	x = b.channelsFirst(x, st.Name)
	inputs := []string{x.name, b.floats(st.Name+"/W", wdims, w)}
	if useBias {
		bias, bdims, err := b.weight(st, "bias", wdims[0])
		if err != nil {
			return x, err
		}
		inputs = append(inputs, b.floats(st.Name+"/B", bdims, bias))
	}
	window, span := wdims[2:], slices.Clone(wdims[2:])
	attrs := []attr{ints("kernel_shape", window...), ints("strides", strides...)}
	if slices.ContainsFunc(dilations, func(d int) bool { return d > 1 }) {
		for i, d := range dilations {
			span[i] = (window[i]-1)*d + 1
		}
		attrs = append(attrs, ints("dilations", dilations...))
	}
	attrs = append(attrs, ints("pads", pads(st.In, span, strides, padding, true)...))
	x.name = b.op("Conv", st.Name, inputs, append(attrs, extra...)...)
	x.shape = st.Out
	return b.activation(x, st.Name, activation)
}

// exportConv2DTranspose is ConvTranspose with the Keras kernel [kh, kw,
// filters, in] transposed to ONNX's [in, filters, kh, kw]. ONNX crops the
// full transposed convolution by pads and extends its end by
// output_padding; the output begins where Keras' does (ops'
// Conv2DTranspose), and where it reaches past the full convolution (valid,
// kernel below the stride) the end is extended instead of cropped.
func exportConv2DTranspose(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Conv2DTranspose](st)
	if err != nil {
		return x, err
	}
	kh, kw, f, cin := l.Kernel[0], l.Kernel[1], l.Filters, st.In[2]
	k, _, err := b.weight(st, "kernel", kh, kw, f, cin)
	if err != nil {
		return x, err
	}
	iohw := make([]float32, len(k))
	for i := range kh {
		for j := range kw {
			for o := range f {
				for c := range cin {
					iohw[((c*f+o)*kh+i)*kw+j] = k[((i*kw+j)*f+o)*cin+c]
				}
			}
		}
	}
	begins, ends, extend := make([]int, 2), make([]int, 2), make([]int, 2)
	for i := range 2 {
		full := (st.In[i]-1)*l.Strides[i] + l.Kernel[i]
		_, begins[i] = l.Placement(st.In[i], i)
		if end := full - begins[i] - st.Out[i]; end >= 0 {
			ends[i] = end
		} else {
			extend[i] = -end
		}
	}
	x = b.channelsFirst(x, st.Name)
	inputs := []string{x.name, b.floats(st.Name+"/W", []int{cin, f, kh, kw}, iohw)}
	if l.UseBias {
		bias, bdims, err := b.weight(st, "bias", f)
		if err != nil {
			return x, err
		}
		inputs = append(inputs, b.floats(st.Name+"/B", bdims, bias))
	}
	attrs := []attr{ints("kernel_shape", kh, kw), ints("strides", l.Strides[:]...), ints("pads", append(begins, ends...)...)}
	if extend[0] > 0 || extend[1] > 0 {
		attrs = append(attrs, ints("output_padding", extend...))
	}
	x.name = b.op("ConvTranspose", st.Name, inputs, attrs...)
	x.shape = st.Out
	return b.activation(x, st.Name, l.Activation)
}

// depthwiseWeights is the Keras depthwise kernel [kh, kw, cin, dm] as
// ONNX's grouped Conv weights [cin*dm, 1, kh, kw]: output channel c*dm+m
// reads input channel c, as in Keras.
func depthwiseWeights(k []float32, kh, kw, cin, dm int) ([]float32, []int) {
	out := make([]float32, len(k))
	for i := range kh {
		for j := range kw {
			for c := range cin {
				for m := range dm {
					out[((c*dm+m)*kh+i)*kw+j] = k[((i*kw+j)*cin+c)*dm+m]
				}
			}
		}
	}
	return out, []int{cin * dm, 1, kh, kw}
}

// exportDepthwiseConv2D is Conv with one group per input channel.
func exportDepthwiseConv2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.DepthwiseConv2D](st)
	if err != nil {
		return x, err
	}
	kh, kw, cin, dm := l.Kernel[0], l.Kernel[1], st.In[2], l.DepthMultiplier
	k, _, err := b.weight(st, "kernel", kh, kw, cin, dm)
	if err != nil {
		return x, err
	}
	w, wdims := depthwiseWeights(k, kh, kw, cin, dm)
	return b.conv(st, x, l.UseBias, l.Activation, w, wdims, l.Strides[:], l.DilationRate[:], l.Padding, int1("group", cin))
}

// exportSeparableConv2D is the grouped Conv of the depthwise step, without
// bias, then a 1x1 Conv with the pointwise kernel [1, 1, cin*dm, filters]
// transposed to [filters, cin*dm, 1, 1], the bias and the activation.
func exportSeparableConv2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.SeparableConv2D](st)
	if err != nil {
		return x, err
	}
	kh, kw, cin, dm, f := l.Kernel[0], l.Kernel[1], st.In[2], l.DepthMultiplier, l.Filters
	dk, _, err := b.weight(st, "depthwise_kernel", kh, kw, cin, dm)
	if err != nil {
		return x, err
	}
	pk, _, err := b.weight(st, "pointwise_kernel", 1, 1, cin*dm, f)
	if err != nil {
		return x, err
	}
	w, wdims := depthwiseWeights(dk, kh, kw, cin, dm)
	x, err = b.conv(st, x, false, "linear", w, wdims, l.Strides[:], l.DilationRate[:], l.Padding, int1("group", cin))
	if err != nil {
		return x, err
	}
	pw := make([]float32, len(pk))
	for p := range cin * dm {
		for o := range f {
			pw[o*cin*dm+p] = pk[p*f+o]
		}
	}
	// The 1x1 step sees the depthwise output: unpadded, stride 1.
	point := st
	point.In = st.Out[:2:2]
	point.In = append(point.In, cin*dm)
	return b.conv(point, x, l.UseBias, l.Activation, pw, []int{f, cin * dm, 1, 1}, []int{1, 1}, nil, "valid")
}

// exportMaxPool2D is MaxPool. ONNX ignores padded positions in the
// maximum, as pipe's 'same' pooling does; with 'valid', both drop the
// rows and columns that do not fill a window.
func exportMaxPool2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.MaxPool2D](st)
	if err != nil {
		return x, err
	}
	window, strides := []int{l.Pool[0], l.Pool[1]}, []int{l.Pool[0], l.Pool[1]}
	if l.Strides != nil {
		strides = []int{l.Strides[0], l.Strides[1]}
	}
	x = b.channelsFirst(x, st.Name)
	x.name = b.op("MaxPool", st.Name, []string{x.name}, ints("kernel_shape", window...), ints("strides", strides...),
		ints("pads", pads(st.In, window, strides, l.Padding, true)...))
	x.shape = st.Out
	return x, nil
}

// exportGlobalMaxPool1D is ReduceMax over the time axis.
func exportGlobalMaxPool1D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	if _, err := layer[*ops.GlobalMaxPool1D](st); err != nil {
		return x, err
	}
	axis := 1 // [N, T, C]
	if x.channelsFirst {
		axis = 2 // [N, C, T]
	}
	x.name = b.op("ReduceMax", st.Name, []string{x.name}, ints("axes", axis), int1("keepdims", 0))
	x.shape, x.channelsFirst = st.Out, false
	return x, nil
}
