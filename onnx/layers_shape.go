package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/ops"
)

// The mappings of ops' pooling layers and of the layers that act only in
// training (noise, spatial dropout), which add nothing. Pools are ONNX's
// pools on channels-first values, padded as TensorFlow. Padding, cropping,
// upsampling and reshaping are in layers_layout.go.
func init() {
	mappings["average_pool2d"] = exportAveragePool2D
	mappings["max_pool1d"] = exportPool1D
	mappings["average_pool1d"] = exportPool1D
	mappings["global_max_pool2d"] = exportGlobalPool
	mappings["global_average_pool2d"] = exportGlobalPool
	mappings["global_average_pool1d"] = exportGlobalPool
	mappings["spatial_dropout2d"] = exportTrainingOnly
	mappings["spatial_dropout1d"] = exportTrainingOnly
	mappings["gaussian_noise"] = exportTrainingOnly
}

// exportAveragePool2D is AveragePool without the padded cells in the
// mean (count_include_pad 0), as pipe's and TensorFlow's.
func exportAveragePool2D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.AveragePool2D](st)
	if err != nil {
		return x, err
	}
	window, strides := []int{l.Pool[0], l.Pool[1]}, []int{l.Pool[0], l.Pool[1]}
	if l.Strides != nil {
		strides = []int{l.Strides[0], l.Strides[1]}
	}
	return b.pool(st, x, "AveragePool", window, strides, l.Padding), nil
}

// exportPool1D is MaxPool or AveragePool over [N, C, T].
func exportPool1D(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	switch l := st.Layer.(type) {
	case *ops.MaxPool1D:
		return b.pool(st, x, "MaxPool", []int{l.Pool}, []int{strideOr(l.Strides, l.Pool)}, l.Padding), nil
	case *ops.AveragePool1D:
		return b.pool(st, x, "AveragePool", []int{l.Pool}, []int{strideOr(l.Strides, l.Pool)}, l.Padding), nil
	}
	return x, fmt.Errorf("its config is a %T, not a 1-D pool that pipe export maps", st.Layer)
}

func strideOr(s *int, pool int) int {
	if s == nil {
		return pool
	}
	return *s
}

// pool adds an ONNX pool (op) over the spatial axes of x, channels first.
func (b *stackBuilder) pool(st ops.Stage, x tensor, op string, window, strides []int, padding string) tensor {
	x = b.channelsFirst(x, st.Name)
	attrs := []attr{ints("kernel_shape", window...), ints("strides", strides...), ints("pads", pads(st.In, window, strides, padding, true)...)}
	if op == "AveragePool" {
		attrs = append(attrs, int1("count_include_pad", 0))
	}
	x.name = b.op(op, st.Name, []string{x.name}, attrs...)
	x.shape = st.Out
	return x
}

// exportGlobalPool is ReduceMax or ReduceMean over the spatial axes; with
// keepdims a channels-first value stays so ([N, C, 1, 1]).
func exportGlobalPool(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	var op string
	var keep bool
	switch l := st.Layer.(type) {
	case *ops.GlobalMaxPool2D:
		op, keep = "ReduceMax", l.Keepdims
	case *ops.GlobalAveragePool2D:
		op, keep = "ReduceMean", l.Keepdims
	case *ops.GlobalAveragePool1D:
		op, keep = "ReduceMean", l.Keepdims
	default:
		return x, fmt.Errorf("its config is a %T, not a global pool that pipe export maps", st.Layer)
	}
	r := len(st.In)
	axes := make([]int, 0, r-1) // [N, spatial..., C]
	for i := 1; i < r; i++ {
		axes = append(axes, i)
	}
	if x.channelsFirst { // [N, C, spatial...]
		for i := range axes {
			axes[i]++
		}
	}
	k := 0
	if keep {
		k = 1
	}
	x.name = b.op(op, st.Name, []string{x.name}, ints("axes", axes...), int1("keepdims", k))
	x.shape = st.Out
	x.channelsFirst = x.channelsFirst && keep
	return x, nil
}

// exportTrainingOnly adds nothing: the layer acts only in training.
func exportTrainingOnly(_ *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	switch st.Layer.(type) {
	case *ops.SpatialDropout2D, *ops.SpatialDropout1D, *ops.GaussianNoise:
		return x, nil
	}
	return x, fmt.Errorf("its config is a %T, not a layer that acts only in training", st.Layer)
}
