package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("multi_head_attention", "Multi-head scaled dot-product attention over (timesteps, features) sequences, Keras' MultiHeadAttention: "+
		"self-attention on one input; with inputs: [query, value] or [query, value, key], the query attends to the value. Masked keys get no attention.",
		func() Layer { return &MultiHeadAttention{UseBias: true} })
}

// MultiHeadAttention is Keras' MultiHeadAttention on sequences. Its
// weights keep Keras' layouts: query, key and value kernels [features,
// heads, key_dim] (value: value_dim) with biases [heads, key_dim], and the
// output kernel [heads, value_dim, output] with a bias [output], each in
// its own scope (query, key, value, attention_output). Kernels start from
// Keras' glorot_uniform with Keras' fans for kernels of 3 axes (the first
// axis counted as a receptive field: fan_in = heads·features for the
// query kernel), biases from zeros.
//
// It is written with matrix products (x·W on [B·T, features], then
// DotGeneral with the batch and head axes as batch axes), rather than
// GoMLX's attention package, whose weights have other layouts and
// initialisers.
type MultiHeadAttention struct {
	NumHeads      int     `pipe:"num_heads,required,min=1,max=100000" doc:"number of attention heads"`
	KeyDim        int     `pipe:"key_dim,required,min=1,max=1000000" doc:"size of each head's query and key projections"`
	ValueDim      *int    `pipe:"value_dim,min=1,max=1000000" doc:"size of each head's value projection; defaults to key_dim"`
	Dropout       float64 `pipe:"dropout,min=0,max=0.999" doc:"fraction of the attention weights dropped in training"`
	UseBias       bool    `pipe:"use_bias" doc:"add learned biases to the projections"`
	Output        *int    `pipe:"output_shape,min=1,max=1000000" doc:"size of the output's features; defaults to the query's"`
	UseCausalMask bool    `pipe:"use_causal_mask" doc:"step t of the query attends only to steps up to t (a decoder's causal mask)"`
}

func (l *MultiHeadAttention) valueDim() int {
	if l.ValueDim == nil {
		return l.KeyDim
	}
	return *l.ValueDim
}

func (l *MultiHeadAttention) outputDim(query []int) int {
	if l.Output == nil {
		return query[len(query)-1]
	}
	return *l.Output
}

func (l *MultiHeadAttention) OutputShape(in []int) ([]int, error) {
	return l.MergeShape([][]int{in})
}

// MergeShape checks [query, value] or [query, value, key] (one input:
// self-attention): sequences, the key as long as the value.
func (l *MultiHeadAttention) MergeShape(ins [][]int) ([]int, error) {
	if len(ins) > 3 {
		return nil, fmt.Errorf("multi_head_attention takes the inputs [query, value] or [query, value, key], got %d", len(ins))
	}
	for i, in := range ins {
		if err := sequence(in); err != nil {
			return nil, fmt.Errorf("%s: %w", []string{"query", "value", "key"}[i], err)
		}
	}
	if len(ins) == 3 && ins[1][0] != ins[2][0] {
		return nil, fmt.Errorf("the key has %d steps and the value %d: they must be as long", ins[2][0], ins[1][0])
	}
	if l.UseCausalMask && len(ins) > 1 && ins[0][0] != ins[1][0] {
		return nil, fmt.Errorf("use_causal_mask needs a query as long as the value, got %d and %d steps", ins[0][0], ins[1][0])
	}
	return []int{ins[0][0], l.outputDim(ins[0])}, nil
}

func (l *MultiHeadAttention) Params(in []int) int { return l.MergeParams([][]int{in}) }

// MergeParams is Keras' count: the query, key and value projections
// (features·heads·dim + heads·dim each) and the output projection
// (heads·value_dim·output + output).
func (l *MultiHeadAttention) MergeParams(ins [][]int) int {
	q, v := ins[0][1], ins[0][1]
	if len(ins) > 1 {
		v = ins[1][1]
	}
	k := v
	if len(ins) > 2 {
		k = ins[2][1]
	}
	h, kd, vd, o := l.NumHeads, l.KeyDim, l.valueDim(), l.outputDim(ins[0])
	n := q*h*kd + k*h*kd + v*h*vd + h*vd*o
	if l.UseBias {
		n += 2*h*kd + h*vd + o
	}
	return n
}

func (l *MultiHeadAttention) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

func (l *MultiHeadAttention) BuildMerge(b *Builder, xs []*graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, xs, nil)
	return y
}

// BuildMasked attends from the query (xs[0]) to the value (xs[1], else
// the query) through the key (xs[2], else the value). Masked steps of the
// value and key get no attention: their scores get -1e9 before the
// softmax, as Keras' masked softmax does; the output carries the query's
// mask.
func (l *MultiHeadAttention) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	query, value := xs[0], xs[0]
	qMask, vMask := maskOf(masks), maskOf(masks)
	if len(xs) > 1 {
		value, vMask = xs[1], masks1(masks, 1)
	}
	key, kMask := value, vMask
	if len(xs) > 2 {
		key, kMask = xs[2], masks1(masks, 2)
	}
	h, kd, vd := l.NumHeads, l.KeyDim, l.valueDim()
	qd := query.Shape().Dimensions
	batch, tq, out := qd[0], qd[1], l.outputDim(qd[1:])
	tv := value.Shape().Dimensions[1]

	q := l.project(b, "query", query, kd) // [B, H, Tq, K]
	k := l.project(b, "key", key, kd)     // [B, H, Tv, K]
	v := l.project(b, "value", value, vd) // [B, H, Tv, V]
	q = graph.MulScalar(q, 1/math.Sqrt(float64(kd)))
	scores := graph.DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [B, H, Tq, Tv]

	if allow := l.attentionMask(b.Graph, qMask, vMask, kMask, batch, tq, tv); allow != nil {
		dt := scores.DType()
		// Keras' Softmax with a mask: (1 - mask)·(-1e9) added to the scores.
		penalty := graph.MulScalar(graph.OneMinus(graph.ConvertDType(allow, dt)), -1e9)
		scores = graph.Add(scores, graph.InsertAxes(penalty, 1))
	}
	probs := graph.Softmax(scores, -1)
	if b.Training && l.Dropout > 0 {
		keep := graph.GreaterOrEqual(b.Scope.RandomUniform(b.Graph, probs.Shape()), graph.Scalar(b.Graph, probs.DType(), l.Dropout))
		probs = graph.Where(keep, graph.MulScalar(probs, 1/(1-l.Dropout)), graph.ZerosLike(probs))
	}
	ctx := graph.DotGeneral(probs, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B, H, Tq, V]
	ctx = graph.Reshape(graph.TransposeAllDims(ctx, 0, 2, 1, 3), batch*tq, h*vd)

	ob := l.sub(b, "attention_output")
	kernel := ob.GlorotUniform("kernel", vd*h, out*h, h, vd, out) // Keras' fans of [H, V, O]: V·H and O·H
	y := graph.Reshape(matMul(ctx, graph.Reshape(kernel, h*vd, out)), batch, tq, out)
	if l.UseBias {
		y = graph.Add(y, graph.Reshape(ob.Zeros("bias", out), 1, 1, out))
	}
	return y, qMask
}

// masks1 is masks[i], nil where masks has no such entry.
func masks1(masks []*graph.Node, i int) *graph.Node {
	if i < len(masks) {
		return masks[i]
	}
	return nil
}

// sub is the builder of a projection: its own scope, and initial weights
// from a generator of their own.
func (l *MultiHeadAttention) sub(b *Builder, name string) *Builder {
	s := *b
	s.Scope = b.Scope.In("%s", name)
	s.Seed = b.Seed ^ hash(name)
	return &s
}

// project is x [B, T, F]·kernel [F, H, D] + bias [H, D], as [B, H, T, D].
func (l *MultiHeadAttention) project(b *Builder, name string, x *graph.Node, dim int) *graph.Node {
	d := x.Shape().Dimensions
	batch, steps, features, h := d[0], d[1], d[2], l.NumHeads
	pb := l.sub(b, name)
	// Keras' fans of a [F, H, D] kernel: F is taken for a receptive field.
	fanIn, fanOut := features*h, features*dim
	kernel := pb.GlorotUniform("kernel", fanIn, fanOut, features, h, dim)
	y := matMul(graph.Reshape(x, batch*steps, features), graph.Reshape(kernel, features, h*dim))
	if l.UseBias {
		y = graph.Add(y, graph.Reshape(pb.Zeros("bias", h, dim), 1, h*dim))
	}
	return graph.TransposeAllDims(graph.Reshape(y, batch, steps, h, dim), 0, 2, 1, 3)
}

// attentionMask is Keras' attention mask [B, Tq, Tv] from the query's,
// value's and key's masks and the causal mask; nil when there is none.
func (l *MultiHeadAttention) attentionMask(g *graph.Graph, qMask, vMask, kMask *graph.Node, batch, tq, tv int) *graph.Node {
	var allow *graph.Node
	and := func(m *graph.Node) {
		m = graph.BroadcastToDims(m, batch, tq, tv)
		if allow == nil {
			allow = m
		} else {
			allow = graph.LogicalAnd(allow, m)
		}
	}
	if qMask != nil {
		and(graph.InsertAxes(qMask, -1))
	}
	if vMask != nil {
		and(graph.InsertAxes(vMask, 1))
	}
	if kMask != nil && kMask != vMask {
		and(graph.InsertAxes(kMask, 1))
	}
	if l.UseCausalMask {
		s := shapes.Make(dtypes.Int32, 1, tq, tv)
		and(graph.GreaterOrEqual(graph.Iota(g, s, 1), graph.Iota(g, s, 2))) // key step <= query step
	}
	return allow
}
