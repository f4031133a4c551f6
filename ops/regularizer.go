package ops

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

// Regularizers is the regularizer registry: penalties on a weight that
// training adds to the loss, Keras' names, params and defaults. A
// layer's kernel_regularizer, bias_regularizer (see Weights) and the like
// choose one; Builder.Weight adds its penalty.
var Regularizers = spec.NewRegistry[Regularizer]("regularizer")

// Regularizer is a penalty on one weight.
type Regularizer interface {
	// Penalty returns the term added to the training loss for weight w,
	// a scalar, or nil when it adds nothing (all factors 0).
	Penalty(w *graph.Node) *graph.Node
}

func init() {
	Regularizers.Register("l1", "L1 penalty: adds l1 * sum(|w|) to the loss.",
		func() Regularizer { return &L1{L1: 0.01} })
	Regularizers.Register("l2", "L2 penalty: adds l2 * sum(w²) to the loss (Keras' l2; not halved as weight decay often is).",
		func() Regularizer { return &L2{L2: 0.01} })
	// Keras' L1L2 class defaults to 0 and 0 (no penalty at all), but the
	// name l1_l2 has meant tf.keras' regularizers.l1_l2(l1=0.01, l2=0.01):
	// a name alone should add a penalty, so the function's defaults are
	// taken.
	Regularizers.Register("l1_l2", "L1 and L2 penalties: adds l1 * sum(|w|) + l2 * sum(w²) to the loss.",
		func() Regularizer { return &L1L2{L1: 0.01, L2: 0.01} })
}

// L1 is Keras' L1.
type L1 struct {
	L1 float64 `pipe:"l1,min=0" doc:"factor of the sum of absolute values"`
}

func (r *L1) Penalty(w *graph.Node) *graph.Node { return (&L1L2{L1: r.L1}).Penalty(w) }

// L2 is Keras' L2.
type L2 struct {
	L2 float64 `pipe:"l2,min=0" doc:"factor of the sum of squares"`
}

func (r *L2) Penalty(w *graph.Node) *graph.Node { return (&L1L2{L2: r.L2}).Penalty(w) }

// L1L2 is Keras' L1L2.
type L1L2 struct {
	L1 float64 `pipe:"l1,min=0" doc:"factor of the sum of absolute values"`
	L2 float64 `pipe:"l2,min=0" doc:"factor of the sum of squares"`
}

func (r *L1L2) Penalty(w *graph.Node) *graph.Node {
	var p *graph.Node
	if r.L1 > 0 {
		p = graph.MulScalar(graph.ReduceAllSum(graph.Abs(w)), r.L1)
	}
	if r.L2 > 0 {
		l2 := graph.MulScalar(graph.ReduceAllSum(graph.Square(w)), r.L2)
		if p == nil {
			p = l2
		} else {
			p = graph.Add(p, l2)
		}
	}
	return p
}
