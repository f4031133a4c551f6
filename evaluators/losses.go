package evaluators

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/data"
)

func init() {
	Losses.Register("categorical_crossentropy", "Cross-entropy of predicted class probabilities (a softmax output) against one-hot labels.",
		func() Loss { return &CategoricalCE{} })
	Losses.Register("sparse_categorical_crossentropy", "Cross-entropy of predicted class probabilities against integer class labels.",
		func() Loss { return &SparseCategoricalCE{} })
	Losses.Register("binary_crossentropy", "Cross-entropy of predicted probabilities (a sigmoid output) against 0/1 labels.",
		func() Loss { return &BinaryCE{} })
	Losses.Register("mse", "Mean squared error.", func() Loss { return &MSE{} })
	Losses.Register("masked_mse", "Mean squared error over observed labels only; NaN labels are missing (rating vectors for AutoRec).",
		func() Loss { return &MaskedMSE{} })
}

// epsilon clips probabilities away from 0 and 1 before the log, as Keras
// does (backend.epsilon() = 1e-7), so a confident wrong answer costs a large
// but finite loss.
const epsilon = 1e-7

func clippedLog(p *graph.Node) *graph.Node { return graph.Log(graph.ClipScalar(p, epsilon, 1-epsilon)) }

// asFloat converts labels to the prediction's dtype and shape.
func asFloat(y, like *graph.Node) *graph.Node {
	y = graph.ConvertDType(y, like.DType())
	if !slices.Equal(y.Shape().Dimensions, like.Shape().Dimensions) {
		y = graph.Reshape(y, like.Shape().Dimensions...)
	}
	return y
}

// sameSize checks that labels can be compared element-wise with the output.
// A -1 in y (a size known only once the data is read, such as the length
// of a rating vector) is checked when the data is loaded.
func sameSize(out []int, y data.Schema) error {
	if slices.Contains(y.Shape, -1) && len(out) == len(y.Shape) {
		return nil
	}
	if data.Elements(out) != data.Elements(y.Shape) {
		return fmt.Errorf("model output %v and labels %v differ in size", out, y.Shape)
	}
	return nil
}

// CategoricalCE is Keras' categorical_crossentropy on probabilities.
type CategoricalCE struct{}

func (CategoricalCE) Check(out []int, y data.Schema) error {
	if y.DType != data.Float32 || !slices.Equal(out, y.Shape) {
		return fmt.Errorf("needs one-hot float labels shaped like the output %v, got %s (add a one_hot transform, or use sparse_categorical_crossentropy)", out, y)
	}
	return nil
}

func (CategoricalCE) Build(pred, y *graph.Node) Measure {
	// Keras rescales the output to sum to 1 before taking the log.
	p := graph.Div(pred, graph.ReduceAndKeep(pred, graph.ReduceSum, -1))
	return Measure{Value: perExample(graph.Neg(graph.ReduceSum(graph.Mul(asFloat(y, p), clippedLog(p)), -1)))}
}

// SparseCategoricalCE is Keras' sparse_categorical_crossentropy on probabilities.
type SparseCategoricalCE struct{}

func (SparseCategoricalCE) Check(out []int, y data.Schema) error {
	if y.DType != data.Int32 || len(out) != 1 || data.Elements(y.Shape) != 1 {
		return fmt.Errorf("needs integer labels and a vector output, got labels %s and output %v", y, out)
	}
	if y.Classes > out[0] {
		return fmt.Errorf("the data has %d classes, the output only %d units", y.Classes, out[0])
	}
	return nil
}

func (SparseCategoricalCE) Build(pred, y *graph.Node) Measure {
	classes := pred.Shape().Dimensions[1]
	oneHot := graph.OneHot(graph.Reshape(y, -1), classes, pred.DType())
	return CategoricalCE{}.Build(pred, oneHot)
}

// BinaryCE is Keras' binary_crossentropy on probabilities.
type BinaryCE struct{}

func (BinaryCE) Check(out []int, y data.Schema) error { return sameSize(out, y) }

func (BinaryCE) Build(pred, y *graph.Node) Measure {
	t := asFloat(y, pred)
	pos := graph.Mul(t, clippedLog(pred))
	neg := graph.Mul(graph.OneMinus(t), clippedLog(graph.OneMinus(pred)))
	return Measure{Value: perExample(graph.Neg(graph.Add(pos, neg)))}
}

// MSE is the mean squared error per example.
type MSE struct{}

func (MSE) Check(out []int, y data.Schema) error { return sameSize(out, y) }

func (MSE) Build(pred, y *graph.Node) Measure {
	return Measure{Value: perExample(graph.Square(graph.Sub(pred, asFloat(y, pred))))}
}

// MaskedMSE is the squared error over the observed entries of the labels
// only: a label that is NaN is missing and costs nothing. Over a batch it is
// the mean over observed entries, the AutoRec objective (Sedhain et al. 2015)
// without its regularisation, which layers add with their l2 param.
type MaskedMSE struct{}

func (MaskedMSE) Check(out []int, y data.Schema) error {
	if y.DType != data.Float32 {
		return fmt.Errorf("needs float labels with NaN for missing entries, got %s", y)
	}
	return sameSize(out, y)
}

func (MaskedMSE) Build(pred, y *graph.Node) Measure {
	sq, observed := maskedError(pred, y, graph.Square)
	return Measure{Value: sumPerExample(sq), Weight: sumPerExample(observed)}
}

// maskedError applies fn to pred - y where y is observed (not NaN), and
// returns it with zeros at missing entries, and the 0/1 mask of observed ones.
func maskedError(pred, y *graph.Node, fn func(*graph.Node) *graph.Node) (err, observed *graph.Node) {
	t := asFloat(y, pred)
	isObserved := graph.Equal(t, t) // NaN != NaN
	zero := graph.ZerosLike(pred)
	err = graph.Where(isObserved, fn(graph.Sub(pred, graph.Where(isObserved, t, zero))), zero)
	return err, graph.ConvertDType(isObserved, pred.DType())
}

// sumPerExample sums every axis but the batch axis.
func sumPerExample(x *graph.Node) *graph.Node {
	if x.Rank() <= 1 {
		return x
	}
	axes := make([]int, 0, x.Rank()-1)
	for i := 1; i < x.Rank(); i++ {
		axes = append(axes, i)
	}
	return graph.ReduceSum(x, axes...)
}
