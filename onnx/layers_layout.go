package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/ops"
)

// The shape layers that move values rather than compute them: padding and
// cropping (Pad, Slice) and upsampling (Resize) on the spatial axes of
// either layout; reshape, permute and repeat_vector (Reshape, Transpose,
// Expand) in pipe's channels-last order, which their params are given in.
func init() {
	mappings["zero_padding2d"] = exportZeroPadding2D
	mappings["zero_padding1d"] = exportZeroPadding1D
	mappings["cropping2d"] = exportCropping2D
	mappings["cropping1d"] = exportCropping1D
	mappings["upsampling2d"] = exportUpSampling2D
	mappings["upsampling1d"] = exportUpSampling1D
	mappings["reshape"] = exportReshape
	mappings["permute"] = exportPermute
	mappings["repeat_vector"] = exportRepeatVector
}

// spatialAxes are the axes of x's batched value that hold the example's
// spatial axes (all but its channels), in order.
func spatialAxes(x tensor) []int {
	var axes []int
	for i := range len(x.shape) - 1 {
		if x.channelsFirst {
			axes = append(axes, i+2)
		} else {
			axes = append(axes, i+1)
		}
	}
	return axes
}

// pad adds Pad with zeros: before[i] and after[i] on spatial axis i.
func (b *stackBuilder) pad(st ops.Stage, x tensor, before, after []int) tensor {
	rank := len(x.shape) + 1
	pads := make([]int, 2*rank)
	for i, a := range spatialAxes(x) {
		pads[a], pads[rank+a] = before[i], after[i]
	}
	p := make([]int64, len(pads))
	for i, v := range pads {
		p[i] = int64(v)
	}
	x.name = b.op("Pad", st.Name, []string{x.name, b.int64s(st.Name+"/pads", []int{len(p)}, p)})
	x.shape = st.Out
	return x
}

// crop adds Slice: before[i] and after[i] off spatial axis i of st.In.
func (b *stackBuilder) crop(st ops.Stage, x tensor, before, after []int) tensor {
	axes := spatialAxes(x)
	ends := make([]int, len(axes))
	for i := range axes {
		ends[i] = st.In[i] - after[i]
	}
	x.name = b.op("Slice", st.Name, []string{x.name, b.axes(st.Name+"/starts", before...), b.axes(st.Name+"/ends", ends...), b.axes(st.Name+"/axes", axes...)})
	x.shape = st.Out
	return x
}

func exportZeroPadding2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.ZeroPadding2D](st)
	if err != nil {
		return x, err
	}
	p := l.Padding // [[top, bottom], [left, right]]
	return b.pad(st, x, []int{p[0][0], p[1][0]}, []int{p[0][1], p[1][1]}), nil
}

func exportZeroPadding1D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.ZeroPadding1D](st)
	if err != nil {
		return x, err
	}
	return b.pad(st, x, []int{l.Padding[0]}, []int{l.Padding[1]}), nil
}

func exportCropping2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Cropping2D](st)
	if err != nil {
		return x, err
	}
	c := l.Cropping
	return b.crop(st, x, []int{c[0][0], c[1][0]}, []int{c[0][1], c[1][1]}), nil
}

func exportCropping1D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Cropping1D](st)
	if err != nil {
		return x, err
	}
	return b.crop(st, x, []int{l.Cropping[0]}, []int{l.Cropping[1]}), nil
}

// resize adds Resize by the whole factors on the spatial axes: nearest
// repeats each value (asymmetric coordinates, floor), linear interpolates
// at half-pixel centres with the edges clamped, as pipe's bilinear.
func (b *stackBuilder) resize(st ops.Stage, x tensor, factors []int, linear bool) tensor {
	scales := make([]float32, len(x.shape)+1)
	for i := range scales {
		scales[i] = 1
	}
	for i, a := range spatialAxes(x) {
		scales[a] = float32(factors[i])
	}
	attrs := []attr{str1("mode", "nearest"), str1("coordinate_transformation_mode", "asymmetric"), str1("nearest_mode", "floor")}
	if linear {
		attrs = []attr{str1("mode", "linear"), str1("coordinate_transformation_mode", "half_pixel")}
	}
	x.name = b.op("Resize", st.Name, []string{x.name, "", b.floats(st.Name+"/scales", []int{len(scales)}, scales)}, attrs...)
	x.shape = st.Out
	return x
}

func exportUpSampling2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.UpSampling2D](st)
	if err != nil {
		return x, err
	}
	return b.resize(st, x, l.Size[:], l.Interpolation == "bilinear"), nil
}

func exportUpSampling1D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.UpSampling1D](st)
	if err != nil {
		return x, err
	}
	return b.resize(st, x, []int{l.Size}, false), nil
}

// exportReshape is Reshape to the resolved shape, the batch axis copied
// (0), on the value in pipe's order.
func exportReshape(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	if _, err := layer[*ops.Reshape](st); err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	x.name = b.op("Reshape", st.Name, []string{x.name, b.axes(st.Name+"/shape", append([]int{0}, st.Out...)...)})
	x.shape = st.Out
	return x, nil
}

// exportPermute is Transpose by Keras' dims (input axes from 1), the batch
// axis kept first.
func exportPermute(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Permute](st)
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	x.name = b.op("Transpose", st.Name, []string{x.name}, ints("perm", append([]int{0}, l.Dims...)...))
	x.shape = st.Out
	return x, nil
}

// exportRepeatVector is Unsqueeze to [N, 1, F], then Expand to [N, n, F].
func exportRepeatVector(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.RepeatVector](st)
	if err != nil {
		return x, err
	}
	if len(x.shape) != 1 {
		return x, fmt.Errorf("repeat_vector takes flat examples, got %v", x.shape)
	}
	x.name = b.op("Unsqueeze", st.Name, []string{x.name, b.axes(st.Name+"/axis", 1)})
	x.name = b.op("Expand", st.Name, []string{x.name, b.axes(st.Name+"/repeats", 1, l.N, 1)})
	x.shape = st.Out
	return x, nil
}
