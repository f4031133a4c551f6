// Package evaluators holds the loss and metric registries and the per-epoch
// history they fill.
package evaluators

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/spec"
)

// Registries of losses and metrics; each entry registers itself in init().
var (
	Losses  = spec.NewRegistry("loss")
	Metrics = spec.NewRegistry("metric")
)

// Loss is a training objective.
type Loss interface {
	// Check says whether the loss applies to a model output of shape out
	// and labels y (shapes of one example).
	Check(out []int, y loaders.Schema) error
	// Build returns the loss of each example: shape [batch].
	Build(pred, y *graph.Node) *graph.Node
}

// Metric is a quantity averaged over examples and reported per epoch.
type Metric interface {
	Check(out []int, y loaders.Schema) error
	// Build returns the metric of each example, shape [batch]; loss is the
	// spec's loss, for metrics that report it.
	Build(pred, y *graph.Node, loss Loss) *graph.Node
}

// perExample reduces every axis but the batch axis by mean, so a loss over
// a sequence or an image is one number per example.
func perExample(x *graph.Node) *graph.Node {
	if x.Rank() <= 1 {
		return x
	}
	axes := make([]int, 0, x.Rank()-1)
	for i := 1; i < x.Rank(); i++ {
		axes = append(axes, i)
	}
	return graph.ReduceMean(x, axes...)
}
