// Package evaluators holds the loss and metric registries and the per-epoch
// history they fill.
package evaluators

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Registries of losses and metrics; each entry registers itself in init().
var (
	Losses  = spec.NewRegistry[Loss]("loss")
	Metrics = spec.NewRegistry[Metric]("metric")
)

// Measure is a per-example quantity: Value and Weight have shape [batch],
// and over a batch or a dataset the quantity is ΣValue / ΣWeight. Weight nil
// means 1 per example (a plain mean). A masked loss over rating vectors
// sets Value to the example's summed squared error and Weight to its
// number of observed ratings, so the mean is over ratings, not rows.
type Measure struct {
	Value, Weight *graph.Node
}

// Loss is a training objective.
type Loss interface {
	// Check says whether the loss applies to a model output of shape out
	// and labels y (shapes of one example).
	Check(out []int, y data.Schema) error
	Build(pred, y *graph.Node) Measure
}

// Metric is a quantity measured per epoch on training and validation data.
type Metric interface {
	Check(out []int, y data.Schema) error
	// Build measures the batch; loss is the spec's loss, for the metric
	// that reports it (nil for rating models without a loss).
	Build(pred, y *graph.Node, loss Loss) Measure
}

// Finisher is a metric whose reported value is a function of the mean,
// such as rmse = sqrt(mean squared error).
type Finisher interface {
	Finish(mean float64) float64
}

// Finish applies m's finishing function, if any, to a mean.
func Finish(m Metric, mean float64) float64 {
	if f, ok := m.(Finisher); ok {
		return f.Finish(mean)
	}
	return mean
}

// Mean reduces a measure to the scalar ΣValue / ΣWeight.
func (m Measure) Mean() *graph.Node {
	sum := graph.ReduceAllSum(m.Value)
	if m.Weight == nil {
		return graph.DivScalar(sum, float64(m.Value.Shape().Dimensions[0]))
	}
	return graph.Div(sum, graph.Max(graph.ReduceAllSum(m.Weight), graph.ScalarOne(sum.Graph(), sum.DType())))
}

// Sums returns ΣValue and ΣWeight as a vector of two, for accumulating
// over many batches.
func (m Measure) Sums() *graph.Node {
	v := graph.ReduceAllSum(m.Value)
	w := graph.Scalar(v.Graph(), v.DType(), float64(m.Value.Shape().Dimensions[0]))
	if m.Weight != nil {
		w = graph.ConvertDType(graph.ReduceAllSum(m.Weight), v.DType())
	}
	return graph.Stack([]*graph.Node{v, w}, 0)
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
