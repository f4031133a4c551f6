package ops

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("zero_padding1d", "Adds steps of zeros at the start and end of (timesteps, channels) examples, Keras' ZeroPadding1D.",
		func() Layer { return &ZeroPadding1D{Padding: Edges1{1, 1}} })
	Layers.Register("cropping1d", "Removes steps at the start and end of (timesteps, channels) examples, Keras' Cropping1D.",
		func() Layer { return &Cropping1D{Cropping: Edges1{1, 1}} })
}

// ZeroPadding1D is Keras' ZeroPadding1D.
type ZeroPadding1D struct {
	Padding Edges1 `pipe:"padding" doc:"steps added: 1 at both ends, or [start, end]"`
}

func (l *ZeroPadding1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	return []int{in[0] + l.Padding[0] + l.Padding[1], in[1]}, nil
}

func (*ZeroPadding1D) Params([]int) int { return 0 }

func (l *ZeroPadding1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	return graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), compute.PadAxis{},
		compute.PadAxis{Start: l.Padding[0], End: l.Padding[1]}, compute.PadAxis{})
}

// Cropping1D is Keras' Cropping1D.
type Cropping1D struct {
	Cropping Edges1 `pipe:"cropping" doc:"steps removed: 1 at both ends, or [start, end]"`
}

func (l *Cropping1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	n := in[0] - l.Cropping[0] - l.Cropping[1]
	if n < 1 {
		return nil, fmt.Errorf("cropping %s leaves nothing of the %d steps", l.Cropping, in[0])
	}
	return []int{n, in[1]}, nil
}

func (*Cropping1D) Params([]int) int { return 0 }

func (l *Cropping1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	n := x.Shape().Dimensions[1]
	return graph.SliceAxis(x, 1, graph.AxisRange(l.Cropping[0], n-l.Cropping[1]))
}
