package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
	"github.com/pipe-ml/pipe/ops"
)

// The mappings of ops/embedding.go and ops/lstm.go.
func init() {
	mappings["embedding"] = exportEmbedding
	mappings["lstm"] = exportLSTM
	for _, k := range []string{"gru", "simple_rnn", "bidirectional"} {
		notExportable[k] = "no ONNX mapping yet (ONNX's GRU and RNN operators, and LSTM with direction bidirectional, would fit)"
	}
	for _, k := range []string{"masking", "time_distributed", "multi_head_attention", "position_embedding", "token_and_position_embedding"} {
		notExportable[k] = "no ONNX mapping yet"
	}
}

// exportEmbedding is Gather on the table, after the ids are clamped to
// its rows as pipe clamps them (ONNX's Gather would fail on an id out of
// range, and count negative ids from the end).
func exportEmbedding(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Embedding](st)
	if err != nil {
		return x, err
	}
	table, dims, err := b.weight(st, "embeddings", l.InputDim, l.OutputDim)
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	if x.dtype != data.Int32 { // float ids, truncated as pipe converts them
		x.name = b.op("Cast", st.Name, []string{x.name}, int1("to", int(onnxpb.TensorProto_INT32)))
		x.dtype = data.Int32
	}
	lo, hi := b.int32s(st.Name+"/min_id", nil, []int32{0}), b.int32s(st.Name+"/max_id", nil, []int32{int32(l.InputDim - 1)})
	ids := b.op("Clip", st.Name, []string{x.name, lo, hi})
	x.name = b.op("Gather", st.Name, []string{b.floats(st.Name+"/embeddings", dims, table), ids}, int1("axis", 0))
	x.shape, x.dtype = st.Out, data.Float32
	return x, nil
}

// kerasGate is, for each of ONNX's LSTM gates in its order (input,
// output, forget, cell), the gate's block in Keras' order (input, forget,
// cell, output).
var kerasGate = [4]int{0, 3, 1, 2}

// exportLSTM is ONNX's LSTM operator, one direction, with its default
// activations (sigmoid gates, tanh cell and output), which are Keras'.
// The weights are reordered from Keras' [in, 4·units] kernel and
// [units, 4·units] recurrent kernel, gates i, f, c, o, to ONNX's W [1,
// 4·units, in] and R [1, 4·units, units], gates i, o, f, c; the bias goes
// to the input half of B, the recurrent half is 0.
//
// The operator rather than the recurrence unrolled step by step: one node
// instead of thousands (imdb_lstm has 500 steps), which runtimes compute
// with their own fused kernels. No sequence_lens is needed: pipe pads
// sequences at the front (pad_sequences' default) and runs the cell over
// the padding too, so every sequence of a batch has the full length and
// the last step's hidden state is the output, as ONNX's Y_h.
func exportLSTM(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.LSTM](st)
	if err != nil {
		return x, err
	}
	if l.GoBackwards || (l.Activation != "" && l.Activation != "tanh") || (l.RecurrentActivation != "" && l.RecurrentActivation != "sigmoid") {
		return x, fmt.Errorf("only the default LSTM is exported: activation tanh, recurrent_activation sigmoid, go_backwards false")
	}
	in, u := st.In[1], l.Units
	kernel, _, err := b.weight(st, "kernel", in, 4*u)
	if err != nil {
		return x, err
	}
	recurrent, _, err := b.weight(st, "recurrent_kernel", u, 4*u)
	if err != nil {
		return x, err
	}
	reorder := func(k []float32, rows int) []float32 { // [rows, 4u] Keras -> [4u, rows] ONNX
		out := make([]float32, 4*u*rows)
		for g, kg := range kerasGate {
			for j := range u {
				for r := range rows {
					out[(g*u+j)*rows+r] = k[r*4*u+kg*u+j]
				}
			}
		}
		return out
	}
	inputs := []string{"", b.floats(st.Name+"/W", []int{1, 4 * u, in}, reorder(kernel, in)), b.floats(st.Name+"/R", []int{1, 4 * u, u}, reorder(recurrent, u))}
	if l.UseBias {
		bias, _, err := b.weight(st, "bias", 4*u)
		if err != nil {
			return x, err
		}
		bb := make([]float32, 8*u) // Wb, then Rb = 0
		for g, kg := range kerasGate {
			copy(bb[g*u:(g+1)*u], bias[kg*u:(kg+1)*u])
		}
		inputs = append(inputs, b.floats(st.Name+"/B", []int{1, 8 * u}, bb))
	}
	x = b.channelsLast(x, st.Name)
	inputs[0] = b.op("Transpose", st.Name, []string{x.name}, ints("perm", 1, 0, 2)) // [T, N, in]
	out := b.node("LSTM", st.Name, inputs, 2, int1("hidden_size", u))               // Y [T, 1, N, u], Y_h [1, N, u]
	if l.ReturnSequences {
		y := b.op("Squeeze", st.Name, []string{out[0], b.axes(st.Name+"/squeeze", 1)})
		x.name = b.op("Transpose", st.Name, []string{y}, ints("perm", 1, 0, 2))
	} else {
		x.name = b.op("Squeeze", st.Name, []string{out[1], b.axes(st.Name+"/squeeze", 0)})
	}
	x.shape = st.Out
	return x, nil
}
