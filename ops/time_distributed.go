package ops

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("time_distributed", "Applies a layer to every time step of (timesteps, ...) examples with the same weights, Keras' TimeDistributed, e.g. {layer: {dense: {units: 8}}}.",
		func() Layer { return &TimeDistributed{} })
}

// TimeDistributed is Keras' TimeDistributed: the wrapped layer sees each
// step as an example of its own (the batch and time axes folded into one),
// with one set of weights, in its own scope (time_distributed/dense/...).
// The output carries the input's mask.
type TimeDistributed struct {
	Layer spec.Component `pipe:"layer,required,registry=layer" doc:"the layer to apply to every step, e.g. {dense: {units: 8}}"`
}

// inner returns the wrapped layer, or why it cannot be wrapped.
func (l *TimeDistributed) inner() (Layer, error) {
	in, ok := l.Layer.Config.(Layer)
	if !ok {
		return nil, fmt.Errorf("time_distributed wraps a layer, not %s", l.Layer.Kind)
	}
	if _, merge := in.(Merge); merge {
		return nil, fmt.Errorf("time_distributed wraps a layer of one input, not the merge %s", l.Layer.Kind)
	}
	return in, nil
}

func (l *TimeDistributed) Validate() error {
	_, err := l.inner()
	return err
}

func (l *TimeDistributed) OutputShape(in []int) ([]int, error) {
	r, err := l.inner()
	if err != nil {
		return nil, err
	}
	if len(in) < 2 {
		return nil, fmt.Errorf("time_distributed needs examples of (timesteps, ...) with at least 2 axes, got %d", len(in))
	}
	out, err := r.OutputShape(in[1:])
	if err != nil {
		return nil, fmt.Errorf("%s on each step %s: %w", l.Layer.Kind, FormatShape(in[1:]), err)
	}
	return slices.Concat([]int{in[0]}, out), nil
}

func (l *TimeDistributed) Params(in []int) int {
	r, err := l.inner()
	if err != nil || len(in) < 2 {
		return 0
	}
	return r.Params(in[1:])
}

func (l *TimeDistributed) NonTrainableParams(in []int) int {
	r, err := l.inner()
	if err != nil || len(in) < 2 {
		return 0
	}
	return NonTrainableParams(r, in[1:])
}

func (l *TimeDistributed) Build(b *Builder, x *graph.Node) *graph.Node {
	r, err := l.inner()
	if err != nil {
		panic(err) // Validate refused it when the spec was decoded
	}
	d := x.Shape().Dimensions
	inner := *b
	inner.Scope = b.Scope.In("%s", l.Layer.Kind)
	steps := graph.Reshape(x, slices.Concat([]int{d[0] * d[1]}, d[2:])...)
	y := r.Build(&inner, steps)
	return graph.Reshape(y, slices.Concat(d[:2], y.Shape().Dimensions[1:])...)
}

func (l *TimeDistributed) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	return passMask(l, b, xs, masks)
}
