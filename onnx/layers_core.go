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
	// ONNX has LeakyRelu, Elu and Relu with Clip for these; mapping them
	// waits on ONNX Runtime cases in layers_test.go.
	for _, kind := range []string{"leaky_relu", "elu", "relu"} {
		notExportable[kind] = "pipe does not map this activation layer to ONNX yet; the activation layer or a layer's activation param exports linear, relu, sigmoid, tanh and softmax"
	}
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
