package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("position_embedding", "Adds a learned vector per position to (timesteps, features) examples: the position embedding of a transformer.",
		func() Layer { return &PositionEmbedding{} })
	Layers.Register("token_and_position_embedding", "Embeds integer ids and adds a learned embedding of each position, "+
		"the TokenAndPositionEmbedding of the keras.io example \"Text classification with Transformer\".",
		func() Layer { return &TokenAndPositionEmbedding{} })
}

// PositionEmbedding adds a learned table [timesteps, features] to each
// example, one row per position, drawn from U(-0.05, 0.05) as Keras'
// Embedding (the keras.io transformer examples embed positions with one).
// It passes its input's mask on.
type PositionEmbedding struct{}

func (*PositionEmbedding) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	return in, nil
}
func (*PositionEmbedding) Params(in []int) int { return in[0] * in[1] }
func (*PositionEmbedding) Build(b *Builder, x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.Add(x, graph.InsertAxes(b.Uniform("embeddings", 0.05, d[1], d[2]), 0))
}
func (l *PositionEmbedding) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}

// TokenAndPositionEmbedding is the keras.io example's layer: an Embedding
// of the ids (vocab_size x embed_dim, scope token_emb) plus an Embedding
// of the positions 0..T-1 (maxlen x embed_dim, scope pos_emb).
type TokenAndPositionEmbedding struct {
	VocabSize int  `pipe:"vocab_size,required,min=1,max=1000000000" doc:"vocabulary size: ids run from 0 to vocab_size-1"`
	MaxLen    int  `pipe:"maxlen,required,min=1,max=10000000" doc:"the longest sequence: one learned position vector per step up to it"`
	EmbedDim  int  `pipe:"embed_dim,required,min=1,max=1000000" doc:"size of the token and position vectors"`
	MaskZero  bool `pipe:"mask_zero" doc:"id 0 is padding: its steps are masked, as embedding's mask_zero"`
}

func (l *TokenAndPositionEmbedding) OutputShape(in []int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("token_and_position_embedding needs examples of (timesteps) ids, got %d axes", len(in))
	}
	if in[0] > l.MaxLen {
		return nil, fmt.Errorf("the sequences have %d steps, more than maxlen %d", in[0], l.MaxLen)
	}
	return []int{in[0], l.EmbedDim}, nil
}

func (l *TokenAndPositionEmbedding) Params([]int) int { return (l.VocabSize + l.MaxLen) * l.EmbedDim }

func (l *TokenAndPositionEmbedding) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

func (l *TokenAndPositionEmbedding) BuildMasked(b *Builder, xs, _ []*graph.Node) (*graph.Node, *graph.Node) {
	tok := &Embedding{InputDim: l.VocabSize, OutputDim: l.EmbedDim, MaskZero: l.MaskZero}
	tb, pb := *b, *b
	tb.Scope, pb.Scope = b.Scope.In("token_emb"), b.Scope.In("pos_emb")
	pb.Seed = b.Seed ^ hash("pos_emb")
	y := tok.Build(&tb, xs[0])
	steps := xs[0].Shape().Dimensions[1]
	pos := graph.Slice(pb.Uniform("embeddings", 0.05, l.MaxLen, l.EmbedDim), graph.AxisRange(0, steps))
	return graph.Add(y, graph.InsertAxes(pos, 0)), tok.mask(xs[0])
}
