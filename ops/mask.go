package ops

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// Masks (see MaskedLayer): the rule for the layers that do not handle
// them, the masking layer, and helpers for the layers that do.

func init() {
	Layers.Register("masking", "Masks the time steps of (timesteps, features) examples whose features all equal mask_value, Keras' Masking: "+
		"the layers after it that read masks (lstm, gru, simple_rnn, bidirectional, global pooling, multi_head_attention) skip them; masked steps are set to 0.",
		func() Layer { return &Masking{} })
}

// BuildMasked adds the stage to the graph on its inputs' values and masks
// (see MaskedLayer for the rule) and returns its value and mask.
func (st Stage) BuildMasked(b *Builder, xs, masks []*graph.Node) (y, mask *graph.Node) {
	if m, ok := st.Layer.(MaskedLayer); ok {
		return m.BuildMasked(b, xs, masks)
	}
	y = st.Build(b, xs)
	if _, ok := st.Layer.(Merge); ok && len(xs) > 1 && y.Rank() > 2 {
		return y, andMasks(masks)
	}
	return y, nil
}

// andMasks is the AND of the masks that are not nil; nil if none is.
func andMasks(masks []*graph.Node) *graph.Node {
	var out *graph.Node
	for _, m := range masks {
		switch {
		case m == nil:
		case out == nil:
			out = m
		default:
			out = graph.LogicalAnd(out, m)
		}
	}
	return out
}

// maskOf is the first input's mask: nil when masks is empty (a layer
// built by Build).
func maskOf(masks []*graph.Node) *graph.Node {
	if len(masks) == 0 {
		return nil
	}
	return masks[0]
}

// maskAs is mask [B, T] as 1 and 0 of dtype dt.
func maskAs(mask *graph.Node, dt dtypes.DType) *graph.Node {
	return graph.ConvertDType(mask, dt)
}

// Masking is Keras' Masking on (timesteps, features) examples.
type Masking struct {
	MaskValue float64 `pipe:"mask_value" doc:"a step whose features all equal this value is masked (padding)"`
}

func (*Masking) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	return in, nil
}
func (*Masking) Params([]int) int { return 0 }
func (l *Masking) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

// BuildMasked masks the steps of which every feature equals mask_value,
// and, as Keras, sets them to 0.
func (l *Masking) BuildMasked(_ *Builder, xs, _ []*graph.Node) (*graph.Node, *graph.Node) {
	x := xs[0]
	// Any feature that differs: the largest distance is above 0.
	dist := graph.ReduceMax(graph.Abs(graph.AddScalar(x, -l.MaskValue)), -1)
	mask := graph.GreaterThan(dist, graph.ScalarZero(x.Graph(), x.DType())) // [B, T]
	return graph.Mul(x, graph.InsertAxes(maskAs(mask, x.DType()), -1)), mask
}

// passMask is BuildMasked of a layer that works step by step and keeps
// the time axis: its output carries its input's mask.
func passMask(l Layer, b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return l.Build(b, xs[0]), maskOf(masks)
}

func (l *Dropout) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
func (l *SpatialDropout1D) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
func (l *GaussianNoise) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
func (l *Activation) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
func (l *Dense) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
func (l *LayerNorm) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
