package onnx

import (
	"slices"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
	"github.com/pipe-ml/pipe/ops"
)

// The mapping of ops/embedding.go; the recurrent layers are in
// layers_recurrent.go, attention in layers_attention.go.
func init() {
	mappings["embedding"] = exportEmbedding
	notExportable["masking"] = "its mask is not carried into the graph: the layers after it would read every step"

}

// exportEmbedding is Gather on the table, after the ids are clamped to
// its rows as pipe clamps them (ONNX's Gather would fail on an id out of
// range, and count negative ids from the end).
func exportEmbedding(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.Embedding](st)
	if err != nil {
		return x, err
	}
	return b.embed(st, "", x, l.InputDim, l.OutputDim)
}

// embed looks the ids x up in the table scope+"embeddings" [rows, dim] of
// stage st.
func (b *stackBuilder) embed(st ops.Stage, scope string, x tensor, rows, dim int) (tensor, error) {
	table, dims, err := b.weight(st, scope+"embeddings", rows, dim)
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	if x.dtype != data.Int32 { // float ids, truncated as pipe converts them
		x.name = b.op("Cast", st.Name, []string{x.name}, int1("to", int(onnxpb.TensorProto_INT32)))
		x.dtype = data.Int32
	}
	lo, hi := b.int32s(st.Name+"/min_id", nil, []int32{0}), b.int32s(st.Name+"/max_id", nil, []int32{int32(rows - 1)})
	ids := b.op("Clip", st.Name, []string{x.name, lo, hi})
	x.name = b.op("Gather", st.Name, []string{b.floats(st.Name+"/"+scope+"embeddings", dims, table), ids}, int1("axis", 0))
	x.shape, x.dtype = append(slices.Clone(x.shape), dim), data.Float32
	return x, nil
}
