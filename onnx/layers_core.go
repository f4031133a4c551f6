package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/ops"
)

// The mappings of ops/core.go and ops/activation.go.
func init() {
	mappings["dense"] = exportDense
	mappings["dropout"] = exportDropout
	mappings["flatten"] = exportFlatten
	mappings["clip"] = exportClip
	mappings["activation"] = exportActivation
	mappings["leaky_relu"] = exportLeakyReLU
	mappings["elu"] = exportELU
	mappings["relu"] = exportReLU
}

// layer returns st's config as the type its mapping knows, or an error
// for a program that registered another layer under the same name.
func layer[T ops.Layer](st ops.Stage) (T, error) {
	l, ok := st.Layer.(T)
	if !ok {
		return l, fmt.Errorf("its config is a %T, not the %T that pipe export maps", st.Layer, l)
	}
	return l, nil
}

// exportDense is MatMul with the kernel [in, units] as it is, then Add
// of the bias and the activation: pipe's and Keras' x·kernel + bias.
func exportDense(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Dense](st)
	if err != nil {
		return x, err
	}
	kernel, dims, err := b.weight(st, "kernel", st.In[len(st.In)-1], l.Units)
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name) // dense takes flat examples: never channels-first in practice
	x.name = b.op("MatMul", st.Name, []string{x.name, b.floats(st.Name+"/kernel", dims, kernel)})
	if l.UseBias {
		bias, bdims, err := b.weight(st, "bias", l.Units)
		if err != nil {
			return x, err
		}
		x.name = b.op("Add", st.Name, []string{x.name, b.floats(st.Name+"/bias", bdims, bias)})
	}
	x.shape = st.Out
	return b.activation(x, st.Name, l.Activation)
}

// exportDropout adds nothing: dropout acts only in training.
func exportDropout(_ *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	_, err := layer[*ops.Dropout](st)
	return x, err
}

// exportFlatten flattens each example in pipe's channels-last order, as
// Keras does: a channels-first value is transposed back first, or the
// dense layer after it would read its weights in the wrong order.
func exportFlatten(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	if _, err := layer[*ops.Flatten](st); err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	x.name = b.op("Flatten", st.Name, []string{x.name}, int1("axis", 1))
	x.shape = st.Out
	return x, nil
}

// exportClip is Clip to [min, max]: what pipe does outside training.
func exportClip(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Clip](st)
	if err != nil {
		return x, err
	}
	x.name = b.op("Clip", st.Name, []string{x.name, b.scalar(st.Name+"/min", float32(l.Min)), b.scalar(st.Name+"/max", float32(l.Max))})
	return x, nil
}

// exportActivation is the activation alone.
func exportActivation(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Activation](st)
	if err != nil {
		return x, err
	}
	return b.activation(x, st.Name, l.Fn)
}

// exportLeakyReLU is LeakyRelu: x for x >= 0, alpha * x below, as pipe's.
func exportLeakyReLU(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.LeakyReLU](st)
	if err != nil {
		return x, err
	}
	x.name = b.op("LeakyRelu", st.Name, []string{x.name}, float1("alpha", float32(l.Alpha)))
	return x, nil
}

// exportELU is Elu: x for x > 0, alpha * (exp(x) - 1) below.
func exportELU(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.ELU](st)
	if err != nil {
		return x, err
	}
	x.name = b.op("Elu", st.Name, []string{x.name}, float1("alpha", float32(l.Alpha)))
	return x, nil
}

// exportReLU is Relu, or with a threshold or negative slope x where
// x >= threshold and negative_slope * (x - threshold) below; then at most
// max_value.
func exportReLU(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.ReLU](st)
	if err != nil {
		return x, err
	}
	if l.NegativeSlope == 0 && l.Threshold == 0 {
		x.name = b.op("Relu", st.Name, []string{x.name})
	} else {
		threshold := b.scalar(st.Name+"/threshold", float32(l.Threshold))
		below := b.op("Mul", st.Name, []string{b.op("Sub", st.Name, []string{x.name, threshold}), b.scalar(st.Name+"/negative_slope", float32(l.NegativeSlope))})
		above := b.op("GreaterOrEqual", st.Name, []string{x.name, threshold})
		x.name = b.op("Where", st.Name, []string{above, x.name, below})
	}
	if l.MaxValue != nil {
		x.name = b.op("Min", st.Name, []string{x.name, b.scalar(st.Name+"/max_value", float32(*l.MaxValue))})
	}
	return x, nil
}
