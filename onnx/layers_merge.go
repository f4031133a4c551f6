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
	notExportable["dot"] = "no ONNX mapping yet (MatMul over the chosen axes, with normalize's L2 division, would do)"
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
	a := l.Axis - 1 // Keras counts the batch axis as 0
	if l.Axis < 0 {
		a = rank + l.Axis
	}
	if a < 0 || a >= rank {
		return tensor{}, fmt.Errorf("axis %d is not an axis of examples of rank %d", l.Axis, rank)
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
