package onnx

import (
	"fmt"
	"math"

	"github.com/pipe-ml/pipe/ops"
)

// The transformer's layers: the position embeddings (Add of the learned
// vectors of the sequence's positions) and multi-head attention as
// MatMuls, in pipe's order of operations.
func init() {
	mappings["position_embedding"] = exportPositionEmbedding
	mappings["token_and_position_embedding"] = exportTokenAndPosition
	merges["multi_head_attention"] = exportAttention
}

func exportPositionEmbedding(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	if _, err := layer[*ops.PositionEmbedding](st); err != nil {
		return x, err
	}
	pos, dims, err := b.weight(st, "embeddings", st.In[0], st.In[1])
	if err != nil {
		return x, err
	}
	x = b.channelsLast(x, st.Name)
	x.name = b.op("Add", st.Name, []string{x.name, b.floats(st.Name+"/embeddings", dims, pos)})
	return x, nil
}

// exportTokenAndPosition is the token embedding's Gather plus the first
// steps of the position table (sliced here: the input's length is fixed).
func exportTokenAndPosition(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.TokenAndPositionEmbedding](st)
	if err != nil {
		return x, err
	}
	if x, err = b.embed(st, "token_emb/", x, l.VocabSize, l.EmbedDim); err != nil {
		return x, err
	}
	pos, _, err := b.weight(st, "pos_emb/embeddings", l.MaxLen, l.EmbedDim)
	if err != nil {
		return x, err
	}
	steps := st.In[0]
	x.name = b.op("Add", st.Name, []string{x.name, b.floats(st.Name+"/pos_emb", []int{steps, l.EmbedDim}, pos[:steps*l.EmbedDim])})
	x.shape = st.Out
	return x, nil
}

// exportAttention is Keras' multi-head attention as pipe computes it: the
// query, key and value projections ([N, T, F] times [F, H·D], plus the
// bias, split into heads [N, H, T, D]), the query scaled by 1/√key_dim,
// Softmax of the scores (with the causal mask's -1e9 added where a step
// looks ahead), the weighted values, heads joined and the output
// projection.
func exportAttention(b *stackBuilder, st ops.Stage, xs []tensor) (tensor, error) {
	l, err := layer[*ops.MultiHeadAttention](st)
	if err != nil {
		return tensor{}, err
	}
	for i := range xs {
		xs[i] = b.channelsLast(xs[i], st.Name)
	}
	query, value, key := xs[0], xs[0], xs[0]
	if len(xs) > 1 {
		value, key = xs[1], xs[1]
	}
	if len(xs) > 2 {
		key = xs[2]
	}
	h, kd := l.NumHeads, l.KeyDim
	vd := kd
	if l.ValueDim != nil {
		vd = *l.ValueDim
	}
	tq, tv, out := query.shape[0], value.shape[0], st.Out[1]
	q, err := b.project(st, l, "query", query, kd)
	if err != nil {
		return tensor{}, err
	}
	k, err := b.project(st, l, "key", key, kd)
	if err != nil {
		return tensor{}, err
	}
	v, err := b.project(st, l, "value", value, vd)
	if err != nil {
		return tensor{}, err
	}
	q = b.op("Mul", st.Name, []string{q, b.scalar(st.Name+"/scale", float32(1/math.Sqrt(float64(kd))))})
	kt := b.op("Transpose", st.Name, []string{k}, ints("perm", 0, 1, 3, 2))
	scores := b.op("MatMul", st.Name, []string{q, kt}) // [N, H, Tq, Tv]
	if l.UseCausalMask {
		penalty := make([]float32, tq*tv)
		for i := range tq {
			for j := i + 1; j < tv; j++ {
				penalty[i*tv+j] = -1e9
			}
		}
		scores = b.op("Add", st.Name, []string{scores, b.floats(st.Name+"/causal", []int{tq, tv}, penalty)})
	}
	probs := b.op("Softmax", st.Name, []string{scores}, int1("axis", -1))
	ctx := b.op("MatMul", st.Name, []string{probs, v})                        // [N, H, Tq, V]
	ctx = b.op("Transpose", st.Name, []string{ctx}, ints("perm", 0, 2, 1, 3)) // [N, Tq, H, V]
	ctx = b.op("Reshape", st.Name, []string{ctx, b.axes(st.Name+"/joined", 0, tq, h*vd)})
	kernel, _, err := b.weight(st, "attention_output/kernel", h, vd, out)
	if err != nil {
		return tensor{}, err
	}
	y := query
	y.name = b.op("MatMul", st.Name, []string{ctx, b.floats(st.Name+"/attention_output/kernel", []int{h * vd, out}, kernel)})
	if l.UseBias {
		bias, _, err := b.weight(st, "attention_output/bias", out)
		if err != nil {
			return tensor{}, err
		}
		y.name = b.op("Add", st.Name, []string{y.name, b.floats(st.Name+"/attention_output/bias", []int{out}, bias)})
	}
	y.shape = st.Out
	return y, nil
}

// project is one of attention's projections of x [N, T, F] to heads
// [N, H, T, dim].
func (b *stackBuilder) project(st ops.Stage, l *ops.MultiHeadAttention, name string, x tensor, dim int) (string, error) {
	if len(x.shape) != 2 {
		return "", fmt.Errorf("%s: sequences (timesteps, features) only, got %v", name, x.shape)
	}
	f, h := x.shape[1], l.NumHeads
	kernel, _, err := b.weight(st, name+"/kernel", f, h, dim)
	if err != nil {
		return "", err
	}
	y := b.op("MatMul", st.Name, []string{x.name, b.floats(st.Name+"/"+name+"/kernel", []int{f, h * dim}, kernel)})
	if l.UseBias {
		bias, _, err := b.weight(st, name+"/bias", h, dim)
		if err != nil {
			return "", err
		}
		y = b.op("Add", st.Name, []string{y, b.floats(st.Name+"/"+name+"/bias", []int{h * dim}, bias)})
	}
	y = b.op("Reshape", st.Name, []string{y, b.axes(st.Name+"/"+name+"/heads", 0, x.shape[0], h, dim)})
	return b.op("Transpose", st.Name, []string{y}, ints("perm", 0, 2, 1, 3)), nil
}
