package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/ops"
)

// The recurrent layers as ONNX's LSTM, GRU and RNN operators, and
// bidirectional as the same operator with direction bidirectional: one
// node instead of the recurrence unrolled (imdb_lstm has 500 steps), which
// runtimes compute with their own fused kernels. No sequence_lens is
// needed: pipe pads sequences at the front (pad_sequences' default) and
// runs the cell over the padding too, so every sequence of a batch has the
// full length and the last step's hidden state is the output, ONNX's Y_h.
func init() {
	mappings["lstm"] = exportRecurrent
	mappings["gru"] = exportRecurrent
	mappings["simple_rnn"] = exportRecurrent
	mappings["bidirectional"] = exportBidirectional
}

// cell is one direction of a recurrent operator: its weights in ONNX's
// layouts and gate order, W [gates·units, in], R [gates·units, units] and
// B [2·gates·units] (the input biases, then the recurrent ones).
type cell struct {
	op          string // LSTM, GRU or RNN
	units       int
	w, r, bias  []float32
	attrs       []attr   // the operator's, the same for both directions
	activations []string // RNN's activation; nil: the operator's defaults, Keras' too
	sequences   bool     // return_sequences
}

// kerasGate is, for each of ONNX's LSTM gates in its order (input,
// output, forget, cell), the gate's block in Keras' order (input, forget,
// cell, output). GRU's gates z, r, h are in the same order in both.
var kerasGate = [4]int{0, 3, 1, 2}

// transposeGates turns Keras' [rows, gates·units] into ONNX's
// [gates·units, rows], gate g of ONNX taking Keras' block order[g].
func transposeGates(k []float32, rows, units int, order []int) []float32 {
	n := len(order) * units
	out := make([]float32, n*rows)
	for g, kg := range order {
		for j := range units {
			for r := range rows {
				out[(g*units+j)*rows+r] = k[r*n+kg*units+j]
			}
		}
	}
	return out
}

// cellOf reads the weights of the recurrent layer l of stage st under
// scope (the stage's, or a bidirectional copy's).
func (b *stackBuilder) cellOf(st ops.Stage, scope string, l ops.Layer) (cell, error) {
	in := st.In[1]
	read := func(name string, dims ...int) ([]float32, error) {
		v, _, err := b.weight(st, scope+name, dims...)
		return v, err
	}
	var c cell
	var order []int
	var hasBias bool
	var biasDims []int
	switch l := l.(type) {
	case *ops.LSTM:
		if l.GoBackwards || l.Activation != "tanh" || l.RecurrentActivation != "sigmoid" {
			return c, fmt.Errorf("only the default LSTM is exported: activation tanh, recurrent_activation sigmoid, go_backwards false")
		}
		c = cell{op: "LSTM", units: l.Units, sequences: l.ReturnSequences}
		order, hasBias, biasDims = kerasGate[:], l.UseBias, []int{4 * l.Units}
	case *ops.GRU:
		if l.GoBackwards || l.Activation != "tanh" || l.RecurrentActivation != "sigmoid" {
			return c, fmt.Errorf("only the default GRU is exported: activation tanh, recurrent_activation sigmoid, go_backwards false")
		}
		c = cell{op: "GRU", units: l.Units, sequences: l.ReturnSequences}
		order, hasBias, biasDims = []int{0, 1, 2}, l.UseBias, []int{3 * l.Units}
		if l.ResetAfter { // the reset gate after the recurrent product, with its own bias
			c.attrs = append(c.attrs, int1("linear_before_reset", 1))
			biasDims = []int{2, 3 * l.Units}
		}
	case *ops.SimpleRNN:
		fn := map[string]string{"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}[l.Activation]
		if l.GoBackwards || fn == "" {
			return c, fmt.Errorf("only a simple_rnn with activation tanh, relu or sigmoid and go_backwards false is exported")
		}
		c = cell{op: "RNN", units: l.Units, sequences: l.ReturnSequences, activations: []string{fn}}
		order, hasBias, biasDims = []int{0}, l.UseBias, []int{l.Units}
	default:
		return c, fmt.Errorf("its config is a %T, not a recurrent layer that pipe export maps", l)
	}
	u, gates := c.units, len(order)
	kernel, err := read("kernel", in, gates*u)
	if err != nil {
		return c, err
	}
	recurrent, err := read("recurrent_kernel", u, gates*u)
	if err != nil {
		return c, err
	}
	c.w, c.r = transposeGates(kernel, in, u, order), transposeGates(recurrent, u, u, order)
	c.bias = make([]float32, 2*gates*u) // Wb, then Rb: zeros without biases
	if hasBias {
		bias, err := read("bias", biasDims...)
		if err != nil {
			return c, err
		}
		for part := range len(bias) / (gates * u) { // GRU's reset_after: input, then recurrent
			for g, kg := range order {
				copy(c.bias[part*gates*u+g*u:part*gates*u+(g+1)*u], bias[part*gates*u+kg*u:part*gates*u+(kg+1)*u])
			}
		}
	}
	return c, nil
}

// run adds the operator over x [N, T, in] for the cells' directions (one,
// or forward and backward) and returns each direction's output: [N, T,
// units] with return_sequences, else [N, units], in pipe's order.
func (b *stackBuilder) run(st ops.Stage, x tensor, cells []cell) []string {
	c := cells[0]
	gu, in := len(c.w)/st.In[1], st.In[1]
	var w, r, bias []float32
	for _, c := range cells {
		w, r, bias = append(w, c.w...), append(r, c.r...), append(bias, c.bias...)
	}
	d := len(cells)
	inputs := []string{
		b.op("Transpose", st.Name, []string{x.name}, ints("perm", 1, 0, 2)), // [T, N, in]
		b.floats(st.Name+"/W", []int{d, gu, in}, w),
		b.floats(st.Name+"/R", []int{d, gu, c.units}, r),
		b.floats(st.Name+"/B", []int{d, 2 * gu}, bias),
	}
	attrs := append([]attr{int1("hidden_size", c.units)}, c.attrs...)
	if d == 2 {
		attrs = append(attrs, str1("direction", "bidirectional"))
	}
	if c.activations != nil { // one list per direction
		var acts []string
		for _, c := range cells {
			acts = append(acts, c.activations...)
		}
		attrs = append(attrs, strs("activations", acts...))
	}
	out := b.node(c.op, st.Name, inputs, 2, attrs...) // Y [T, D, N, u], Y_h [D, N, u]
	var ys []string
	for i := range d {
		index := b.int64s(fmt.Sprintf("%s/direction_%d", st.Name, i), nil, []int64{int64(i)})
		if c.sequences {
			y := b.op("Gather", st.Name, []string{out[0], index}, int1("axis", 1))          // [T, N, u]
			ys = append(ys, b.op("Transpose", st.Name, []string{y}, ints("perm", 1, 0, 2))) // [N, T, u]
		} else {
			ys = append(ys, b.op("Gather", st.Name, []string{out[1], index}, int1("axis", 0))) // [N, u]
		}
	}
	return ys
}

// exportRecurrent is an lstm, gru or simple_rnn as its ONNX operator, one
// direction, with Keras' weights reordered to ONNX's gates and layouts.
func exportRecurrent(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	c, err := b.cellOf(st, "", st.Layer)
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	x.name = b.run(st, x, []cell{c})[0]
	x.shape = st.Out
	return x, nil
}

// exportBidirectional is the wrapped layer's operator with direction
// bidirectional, the forward copy's weights first, and the two outputs
// merged as pipe merges them (ONNX's backward outputs are already in
// input order, as pipe reverses its backward copy's).
func exportBidirectional(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Bidirectional](st)
	if err != nil {
		return x, err
	}
	fwd, err := b.cellOf(st, "forward_"+l.Layer.Kind+"/", l.Layer.Config.(ops.Layer))
	if err != nil {
		return x, err
	}
	bwd, err := b.cellOf(st, "backward_"+l.Layer.Kind+"/", l.Layer.Config.(ops.Layer))
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	ys := b.run(st, x, []cell{fwd, bwd})
	switch l.MergeMode {
	case "sum":
		x.name = b.op("Add", st.Name, ys)
	case "mul":
		x.name = b.op("Mul", st.Name, ys)
	case "ave":
		x.name = b.op("Mul", st.Name, []string{b.op("Add", st.Name, ys), b.scalar(st.Name+"/half", 0.5)})
	default:
		x.name = b.op("Concat", st.Name, ys, int1("axis", -1))
	}
	x.shape = st.Out
	return x, nil
}
