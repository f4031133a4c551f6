package onnx

import (
	"math"

	"github.com/pipe-ml/pipe/ops"
)

// The normalisation layers: batch_normalization with its moving
// statistics, as inference uses them, and layer_normalization, each
// written out in pipe's own order of operations so that the two agree to
// rounding.
func init() {
	mappings["batch_normalization"] = exportBatchNorm
	mappings["layer_normalization"] = exportLayerNorm
}

// alongAxis returns x in a layout where per-example axis a can be reached
// by broadcasting, with the dims that a vector along it takes: the channels
// of a channels-first value lead its example, other axes are reached in
// pipe's channels-last order.
func (b *stackBuilder) alongAxis(x tensor, a int, c int, name string) (tensor, []int) {
	n := len(x.shape)
	if !(x.channelsFirst && a == n-1) {
		x = b.channelsLast(x, name)
	}
	after := n - 1 - a // the example's axes after a
	if x.channelsFirst {
		after = n - 1 // the spatial axes after the channels
	}
	dims := []int{c}
	for range after {
		dims = append(dims, 1)
	}
	return x, dims
}

// exportBatchNorm is (x - moving_mean) * gamma / sqrt(moving_variance +
// epsilon) + beta, pipe's inference, with the factor computed here.
func exportBatchNorm(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.BatchNorm](st)
	if err != nil {
		return x, err
	}
	a, err := ops.KerasAxis(l.Axis, len(st.In))
	if err != nil {
		return x, err
	}
	c := st.In[a]
	mean, _, err := b.weight(st, ops.StatePrefix+"moving_mean", c)
	if err != nil {
		return x, err
	}
	variance, _, err := b.weight(st, ops.StatePrefix+"moving_variance", c)
	if err != nil {
		return x, err
	}
	inv := make([]float32, c)
	for i, v := range variance {
		inv[i] = 1 / float32(math.Sqrt(float64(v+float32(l.Epsilon))))
	}
	if l.Scale {
		gamma, _, err := b.weight(st, "gamma", c)
		if err != nil {
			return x, err
		}
		for i := range inv {
			inv[i] *= gamma[i]
		}
	}
	x, dims := b.alongAxis(x, a, c, st.Name)
	x.name = b.op("Sub", st.Name, []string{x.name, b.floats(st.Name+"/moving_mean", dims, mean)})
	x.name = b.op("Mul", st.Name, []string{x.name, b.floats(st.Name+"/factor", dims, inv)})
	if l.Center {
		return b.byFeature(st, x, "Add", "beta", dims)
	}
	return x, nil
}

// byFeature applies op to x and the stage's vector variable name, shaped
// dims to reach the feature axis.
func (b *stackBuilder) byFeature(st ops.Stage, x tensor, op, name string, dims []int) (tensor, error) {
	v, _, err := b.weight(st, name, dims[0])
	if err != nil {
		return x, err
	}
	x.name = b.op(op, st.Name, []string{x.name, b.floats(st.Name+"/"+name, dims, v)})
	return x, nil
}

// exportLayerNorm normalises each example over one axis, as pipe does:
// (x - mean) / sqrt(variance + epsilon) * gamma + beta. ONNX's
// LayerNormalization normalises over every axis from the given one on,
// which is pipe's only for the last, so the steps are written out.
func exportLayerNorm(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.LayerNorm](st)
	if err != nil {
		return x, err
	}
	a, err := ops.KerasAxis(l.Axis, len(st.In))
	if err != nil {
		return x, err
	}
	c := st.In[a]
	x, dims := b.alongAxis(x, a, c, st.Name)
	axis := a + 1
	if x.channelsFirst {
		axis = 1
	}
	mean := b.op("ReduceMean", st.Name, []string{x.name}, ints("axes", axis), int1("keepdims", 1))
	centred := b.op("Sub", st.Name, []string{x.name, mean})
	variance := b.op("ReduceMean", st.Name, []string{b.op("Mul", st.Name, []string{centred, centred})}, ints("axes", axis), int1("keepdims", 1))
	std := b.op("Sqrt", st.Name, []string{b.op("Add", st.Name, []string{variance, b.scalar(st.Name+"/epsilon", float32(l.Epsilon))})})
	x.name = b.op("Div", st.Name, []string{centred, std})
	if l.Scale {
		if x, err = b.byFeature(st, x, "Mul", "gamma", dims); err != nil {
			return x, err
		}
	}
	if l.Center {
		return b.byFeature(st, x, "Add", "beta", dims)
	}
	return x, nil
}
