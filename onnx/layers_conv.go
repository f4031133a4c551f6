package onnx

import (
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
	mappings["global_max_pool1d"] = exportGlobalMaxPool1D
}

// samePads are the padding before and after an axis of n positions for
// 'same': the total that keeps ceil(n/stride) windows, split with the
// extra one at the end. conv2d and max_pool2d pad as TensorFlow does (ops'
// samePads). conv1d uses GoMLX's PadSame, which pads window-1 whatever
// the stride; with stride 1 both agree, with larger strides the windows of
// the two sit differently, and the export follows pipe.
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
	window, strides := []int{kh, kw}, []int{l.Strides[0], l.Strides[1]}
	return b.conv(st, x, l.UseBias, l.Activation, oihw, []int{f, cin, kh, kw}, window, strides, pads(st.In, window, strides, l.Padding, true))
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
	window, strides := []int{kw}, []int{l.Strides}
	return b.conv(st, x, l.UseBias, l.Activation, oiw, []int{f, cin, kw}, window, strides, pads(st.In, window, strides, l.Padding, false))
}

// conv adds Conv (with the bias as its third input) and the activation.
func (b *stackBuilder) conv(st ops.Stage, x tensor, useBias bool, activation string, w []float32, wdims, window, strides, pads []int) (tensor, error) {
	x = b.channelsFirst(x, st.Name)
	inputs := []string{x.name, b.floats(st.Name+"/W", wdims, w)}
	if useBias {
		bias, bdims, err := b.weight(st, "bias", wdims[0])
		if err != nil {
			return x, err
		}
		inputs = append(inputs, b.floats(st.Name+"/B", bdims, bias))
	}
	x.name = b.op("Conv", st.Name, inputs, ints("kernel_shape", window...), ints("strides", strides...),
		ints("pads", pads...))
	x.shape = st.Out
	return b.activation(x, st.Name, activation)
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
