package evaluators

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/loaders"
)

func init() {
	Metrics.Register("loss", "The training loss, as the spec's train.loss defines it.", func() any { return &LossMetric{} })
	Metrics.Register("accuracy", "Fraction of examples classified right: argmax against one-hot or integer labels, or a 0.5 threshold for a single sigmoid output.",
		func() any { return &Accuracy{} })
}

// LossMetric reports the spec's loss.
type LossMetric struct{}

func (LossMetric) Check([]int, loaders.Schema) error { return nil }
func (LossMetric) Build(pred, y *graph.Node, loss Loss) *graph.Node {
	return loss.Build(pred, y)
}

// Accuracy picks Keras' categorical, sparse or binary accuracy from the shapes.
type Accuracy struct{}

func (Accuracy) Check(out []int, y loaders.Schema) error {
	switch {
	case size(out) == 1 && size(y.Shape) == 1: // binary
	case len(out) == 1 && y.DType == loaders.Int32 && size(y.Shape) == 1: // sparse
	case len(out) == 1 && slices.Equal(out, y.Shape): // one-hot
	default:
		return fmt.Errorf("needs a class-probability output and matching labels, got output %v and labels %s", out, y)
	}
	return nil
}

func (Accuracy) Build(pred, y *graph.Node, _ Loss) *graph.Node {
	batch := pred.Shape().Dimensions[0]
	var hit *graph.Node
	switch {
	case pred.Shape().Size() == batch: // one sigmoid unit
		predicted := graph.GreaterOrEqual(graph.Reshape(pred, batch), graph.Scalar(pred.Graph(), pred.DType(), 0.5))
		actual := graph.GreaterOrEqual(graph.Reshape(asFloat(y, pred), batch), graph.Scalar(pred.Graph(), pred.DType(), 0.5))
		hit = graph.Equal(predicted, actual)
	case y.Shape().Size() == batch: // integer labels
		hit = graph.Equal(graph.ArgMax(pred, -1, y.DType()), graph.Reshape(y, batch))
	default: // one-hot labels
		hit = graph.Equal(graph.ArgMax(pred, -1), graph.ArgMax(y, -1))
	}
	return graph.ConvertDType(hit, pred.DType())
}
