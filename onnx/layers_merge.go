package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/ops"
)

// The merge layers of ops/merge.go. Their inputs are brought to one
// layout first: kept channels-first when all of them are (a residual
// block's add between convolutions then needs no transpose), else
// channels-last.
func init() {
	for kind, op := range map[string]string{"add": "Add", "subtract": "Sub", "multiply": "Mul", "average": "Add", "maximum": "Max", "minimum": "Min"} {
		merges[kind] = func(b *stackBuilder, st ops.Stage, xs []tensor) (tensor, error) {
			return exportElementwise(b, st, xs, op)
		}
	}
	merges["concatenate"] = exportConcatenate
	merges["dot"] = exportDot
}

// sameLayout returns xs all channels-first when every one is, else all
// channels-last.
func (b *stackBuilder) sameLayout(xs []tensor, name string) []tensor {
	first := true
	for _, x := range xs {
		first = first && x.channelsFirst
	}
	out := make([]tensor, len(xs))
	for i, x := range xs {
		if !first {
			x = b.channelsLast(x, name)
		}
		out[i] = x
	}
	return out
}

// exportElementwise folds the inputs with op from the first, as pipe's
// merge does; average divides the sum by their number.
func exportElementwise(b *stackBuilder, st ops.Stage, xs []tensor, op string) (tensor, error) {
	if _, err := layer[*ops.Elementwise](st); err != nil {
		return tensor{}, err
	}
	xs = b.sameLayout(xs, st.Name)
	y := xs[0]
	for _, x := range xs[1:] {
		y.name = b.op(op, st.Name, []string{y.name, x.name})
	}
	if st.Kind == "average" {
		y.name = b.op("Div", st.Name, []string{y.name, b.scalar(st.Name+"/count", float32(len(xs)))})
	}
	y.shape = st.Out
	return y, nil
}

// exportConcatenate is Concat on the axis that holds pipe's axis in the
// inputs' layout.
func exportConcatenate(b *stackBuilder, st ops.Stage, xs []tensor) (tensor, error) {
	l, err := layer[*ops.Concatenate](st)
	if err != nil {
		return tensor{}, err
	}
	rank := len(st.Out)
	a, err := ops.KerasAxis(l.Axis, rank)
	if err != nil {
		return tensor{}, err
	}
	xs = b.sameLayout(xs, st.Name)
	axis := a + 1 // the batch axis first
	if xs[0].channelsFirst {
		axis = a + 2 // [N, C, spatial...]: spatial axis a moves one on
		if a == rank-1 {
			axis = 1
		}
	}
	names := make([]string, len(xs))
	for i, x := range xs {
		names[i] = x.name
	}
	y := xs[0]
	y.name = b.op("Concat", st.Name, names, int1("axis", axis))
	y.shape = st.Out
	return y, nil
}

// exportDot is Einsum contracting the chosen axis of each input, per
// example, after normalize's L2 division (the squared norm at least 1e-12,
// as pipe and Keras); the dot of two vectors keeps one axis, [N, 1].
func exportDot(b *stackBuilder, st ops.Stage, xs []tensor) (tensor, error) {
	l, err := layer[*ops.Dot](st)
	if err != nil {
		return tensor{}, err
	}
	x, y := b.channelsLast(xs[0], st.Name), b.channelsLast(xs[1], st.Name)
	ax, err := ops.KerasAxis(l.Axes[0], len(x.shape))
	if err != nil {
		return tensor{}, err
	}
	ay, err := ops.KerasAxis(l.Axes[len(l.Axes)-1], len(y.shape))
	if err != nil {
		return tensor{}, err
	}
	if l.Normalize {
		x.name, y.name = b.l2Normalize(x.name, ax+1, st.Name), b.l2Normalize(y.name, ay+1, st.Name)
	}
	// n is the batch axis, k the contracted one, the rest one letter each.
	letters := "abcdefghijlmopqrstuvwxy"
	var xi, yi, out []byte
	for i := range x.shape {
		if i == ax {
			xi = append(xi, 'k')
			continue
		}
		xi = append(xi, letters[0])
		out, letters = append(out, letters[0]), letters[1:]
	}
	for i := range y.shape {
		if i == ay {
			yi = append(yi, 'k')
			continue
		}
		yi = append(yi, letters[0])
		out, letters = append(out, letters[0]), letters[1:]
	}
	eq := fmt.Sprintf("n%s,n%s->n%s", xi, yi, out)
	z := x
	z.name = b.op("Einsum", st.Name, []string{x.name, y.name}, str1("equation", eq))
	if len(out) == 0 {
		z.name = b.op("Unsqueeze", st.Name, []string{z.name, b.axes(st.Name+"/axis", 1)})
	}
	z.shape = st.Out
	return z, nil
}

// l2Normalize divides x by its L2 norm along axis (of the batched value).
func (b *stackBuilder) l2Normalize(x string, axis int, name string) string {
	sq := b.op("ReduceSum", name, []string{b.op("Mul", name, []string{x, x}), b.axes(name+"/norm_axis", axis)}, int1("keepdims", 1))
	norm := b.op("Sqrt", name, []string{b.op("Max", name, []string{sq, b.scalar(name+"/epsilon", 1e-12)})})
	return b.op("Div", name, []string{x, norm})
}
