package main

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/pipe-ml/pipe/ops"
)

// Registered in init() so that the layer exists before any spec is
// decoded: the decoder looks layer names up in ops.Layers.
func init() {
	ops.Layers.Register("swish", "Swish activation x * sigmoid(beta * x) (Ramachandran et al. 2017); with learn: true, beta is trained, one per feature.",
		func() ops.Layer { return &Swish{Beta: 1} }) // the constructor fills in the defaults
}

// Swish is a layer defined outside pipe. Its struct tags declare its
// params: `pipe` gives the YAML name and the checks the decoder applies
// (so Build never sees a negative beta), `doc` what `pipe doc` would say.
type Swish struct {
	Beta  float64 `pipe:"beta,min=0,max=100" doc:"slope of the sigmoid gate; the starting value when learned"`
	Learn bool    `pipe:"learn" doc:"train beta, one value per feature (the last axis)"`
}

// OutputShape is the input's: swish is element-wise. Shapes are of one
// example, without the batch axis.
func (l *Swish) OutputShape(in []int) ([]int, error) {
	if l.Learn && len(in) == 0 {
		return nil, fmt.Errorf("a learned beta is per feature: the input needs a feature axis")
	}
	return in, nil
}

// Params counts the learned betas, for the summary table and metrics.json;
// it must match the variables that Build creates.
func (l *Swish) Params(in []int) int {
	if !l.Learn {
		return 0
	}
	return in[len(in)-1]
}

// Build adds the layer to the graph; x has the batch axis first. The
// builder's scope is already the layer's own (swish, swish_1, ...), so
// the variable's name only needs to be unique within the layer.
func (l *Swish) Build(b *ops.Builder, x *graph.Node) *graph.Node {
	if !l.Learn {
		return graph.Mul(x, graph.Sigmoid(graph.MulScalar(x, l.Beta)))
	}
	dims := x.Shape().Dimensions
	features := dims[len(dims)-1]
	// Created with its starting value on the first graph built; later
	// graphs (evaluation) and a restored checkpoint reuse the variable.
	beta := b.Scope.VariableWithValue("beta", slices.Repeat([]float32{float32(l.Beta)}, features)).NodeValue(b.Graph)
	// [features] -> [1, ..., 1, features], to broadcast over the batch and
	// any leading axes.
	shape := slices.Repeat([]int{1}, len(dims))
	shape[len(shape)-1] = features
	beta = graph.Reshape(beta, shape...)
	return graph.Mul(x, graph.Sigmoid(graph.Mul(x, beta)))
}
