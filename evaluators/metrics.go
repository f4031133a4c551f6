package evaluators

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/data"
)

func init() {
	Metrics.Register("loss", "The training loss, as the spec's train.loss defines it.", func() Metric { return &LossMetric{} })
	Metrics.Register("accuracy", "Fraction of examples classified right: argmax against one-hot or integer labels, or a 0.5 threshold for a single sigmoid output.",
		func() Metric { return &Accuracy{} })
	Metrics.Register("rmse", "Root mean squared error over observed labels (NaN labels are missing).", func() Metric { return &RMSE{} })
	Metrics.Register("mae", "Mean absolute error over observed labels (NaN labels are missing).", func() Metric { return &MAE{} })
}

// LossMetric reports the spec's loss.
type LossMetric struct{}

func (LossMetric) Check([]int, data.Schema) error { return nil }
func (LossMetric) Build(pred, y *graph.Node, loss Loss) Measure {
	return loss.Build(pred, y)
}

// Accuracy picks Keras' categorical, sparse or binary accuracy from the shapes.
type Accuracy struct{}

func (Accuracy) Check(out []int, y data.Schema) error {
	switch {
	case data.Elements(out) == 1 && data.Elements(y.Shape) == 1: // binary
	case len(out) == 1 && y.DType == data.Int32 && data.Elements(y.Shape) == 1: // sparse
	case len(out) == 1 && slices.Equal(out, y.Shape): // one-hot
	default:
		return fmt.Errorf("needs a class-probability output and matching labels, got output %v and labels %s", out, y)
	}
	return nil
}

func (Accuracy) Build(pred, y *graph.Node, _ Loss) Measure {
	batch := pred.Shape().Dimensions[0]
	var hit *graph.Node
	switch {
	case pred.Shape().Size() == batch: // one sigmoid unit
		predicted := graph.GreaterOrEqual(graph.Reshape(pred, batch), graph.Scalar(pred.Graph(), pred.DType(), 0.5))
		actual := graph.GreaterOrEqual(graph.Reshape(asFloat(y, pred), batch), graph.Scalar(pred.Graph(), pred.DType(), 0.5))
		// The Go backend has no Equal on booleans: equal is not-xor.
		hit = graph.LogicalNot(graph.LogicalXor(predicted, actual))
	case y.Shape().Size() == batch: // integer labels
		hit = graph.Equal(graph.ArgMax(pred, -1, y.DType()), graph.Reshape(y, batch))
	default: // one-hot labels
		hit = graph.Equal(graph.ArgMax(pred, -1), graph.ArgMax(y, -1))
	}
	return Measure{Value: graph.ConvertDType(hit, pred.DType())}
}

// RMSE is the root of the mean squared error over observed labels (NaN
// labels are missing), the rating-prediction error of the course's table.
type RMSE struct{}

func (RMSE) Check(out []int, y data.Schema) error { return sameSize(out, y) }
func (RMSE) Build(pred, y *graph.Node, _ Loss) Measure {
	sq, observed := maskedError(pred, y, graph.Square)
	return Measure{Value: sumPerExample(sq), Weight: sumPerExample(observed)}
}
func (RMSE) Finish(mean float64) float64 { return math.Sqrt(mean) }

// MAE is the mean absolute error over observed labels.
type MAE struct{}

func (MAE) Check(out []int, y data.Schema) error { return sameSize(out, y) }
func (MAE) Build(pred, y *graph.Node, _ Loss) Measure {
	abs, observed := maskedError(pred, y, graph.Abs)
	return Measure{Value: sumPerExample(abs), Weight: sumPerExample(observed)}
}
