package ops

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/data"
)

func init() {
	Layers.Register("reshape", "Gives each example the shape target_shape, Keras' Reshape; one axis may be -1, inferred from the others.",
		func() Layer { return &Reshape{} })
	Layers.Register("permute", "Reorders the axes of each example, Keras' Permute: dims [2, 1] swaps the two axes of (timesteps, features).",
		func() Layer { return &Permute{} })
	Layers.Register("repeat_vector", "Repeats each flat example n times: (features) -> (n, features), Keras' RepeatVector.",
		func() Layer { return &RepeatVector{} })
}

// Reshape is Keras' Reshape: target_shape is one example's shape, the
// batch axis left out.
type Reshape struct {
	TargetShape []int `pipe:"target_shape,required,min=-1,max=1000000000" doc:"one example's shape, e.g. [7, 7, 64]; one axis may be -1"`
}

func (l *Reshape) OutputShape(in []int) ([]int, error) {
	if len(l.TargetShape) == 0 {
		return nil, fmt.Errorf("target_shape is empty: give at least one axis")
	}
	total, known, unknown := data.Elements(in), 1, -1
	for i, d := range l.TargetShape {
		switch {
		case d == -1 && unknown >= 0:
			return nil, fmt.Errorf("target_shape %v has more than one -1: only one axis can be inferred", l.TargetShape)
		case d == -1:
			unknown = i
		case d == 0:
			return nil, fmt.Errorf("target_shape %v has an axis of size 0", l.TargetShape)
		case d > total:
			return nil, fmt.Errorf("target_shape %v has an axis of %d, the input only %d elements", l.TargetShape, d, total)
		default:
			known *= d // at most total², no overflow
			if known > total {
				return nil, fmt.Errorf("target_shape %v holds more than the input's %d elements", l.TargetShape, total)
			}
		}
	}
	out := slices.Clone(l.TargetShape)
	if unknown >= 0 {
		if total%known != 0 {
			return nil, fmt.Errorf("target_shape %v: %d elements do not divide into axes of %d", l.TargetShape, total, known)
		}
		out[unknown] = total / known
	} else if known != total {
		return nil, fmt.Errorf("target_shape %v holds %d elements, the input %d", l.TargetShape, known, total)
	}
	return out, nil
}

func (*Reshape) Params([]int) int { return 0 }

func (l *Reshape) Build(_ *Builder, x *graph.Node) *graph.Node {
	return graph.Reshape(x, append([]int{x.Shape().Dimensions[0]}, l.TargetShape...)...)
}

// Permute is Keras' Permute: dims numbers an example's axes from 1, the
// batch axis left out.
type Permute struct {
	Dims []int `pipe:"dims,required,min=1,max=64" doc:"the input axis (from 1) that each output axis takes, e.g. [2, 1]"`
}

func (l *Permute) OutputShape(in []int) ([]int, error) {
	if len(l.Dims) != len(in) {
		return nil, fmt.Errorf("dims %v orders %d axes, examples have %d", l.Dims, len(l.Dims), len(in))
	}
	out := make([]int, len(in))
	seen := make([]bool, len(in))
	for i, d := range l.Dims {
		if d < 1 || d > len(in) || seen[d-1] {
			return nil, fmt.Errorf("dims %v is not an order of the axes 1..%d", l.Dims, len(in))
		}
		seen[d-1] = true
		out[i] = in[d-1]
	}
	return out, nil
}

func (*Permute) Params([]int) int { return 0 }

func (l *Permute) Build(_ *Builder, x *graph.Node) *graph.Node {
	perm := append([]int{0}, l.Dims...) // Keras' 1-based axes are x's axes after the batch
	return graph.TransposeAllDims(x, perm...)
}

// RepeatVector is Keras' RepeatVector.
type RepeatVector struct {
	N int `pipe:"n,required,min=1,max=1000000" doc:"times the example is repeated"`
}

func (l *RepeatVector) OutputShape(in []int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("repeat_vector needs a flat input (one axis per example), got %d axes", len(in))
	}
	return []int{l.N, in[0]}, nil
}

func (*RepeatVector) Params([]int) int { return 0 }

func (l *RepeatVector) Build(_ *Builder, x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.BroadcastToDims(graph.Reshape(x, d[0], 1, d[1]), d[0], l.N, d[1])
}
