package ops

import (
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("layer_normalization", "Normalises each example over its feature axis, Keras' LayerNormalization: the same in training and at evaluation.",
		func() Layer { return &LayerNorm{Axis: -1, Epsilon: 1e-3, Center: true, Scale: true} })
}

// LayerNorm is Keras 3's LayerNormalization on one axis: every position of
// every example is normalised by the mean and biased variance of its
// values along Axis, then scaled by gamma and offset by beta (one per
// feature of Axis). It keeps no state.
type LayerNorm struct {
	Axis    int     `pipe:"axis,min=-100,max=100" doc:"the axis normalised over, counting the batch axis as Keras does: -1 is the last; not the batch axis 0"`
	Epsilon float64 `pipe:"epsilon,min=0" doc:"added to the variance before its square root"`
	Center  bool    `pipe:"center" doc:"add a learned offset beta per feature"`
	Scale   bool    `pipe:"scale" doc:"multiply by a learned gamma per feature"`
	// beta_initializer (zeros), gamma_initializer (ones) and their
	// regularizers.
	GammaBeta
}

// Validate checks the chosen initializers and regularizers.
func (l *LayerNorm) Validate() error { return l.GammaBeta.Validate() }

func (l *LayerNorm) OutputShape(in []int) ([]int, error) {
	if _, err := featureAxis(l.Axis, in); err != nil {
		return nil, err
	}
	return in, nil
}

func (l *LayerNorm) Params(in []int) int {
	return features(l.Axis, in) * (b2i(l.Center) + b2i(l.Scale))
}

func (l *LayerNorm) Build(b *Builder, x *graph.Node) *graph.Node {
	axis, err := featureAxis(l.Axis, x.Shape().Dimensions[1:])
	if err != nil {
		panic(err) // OutputShape refused it at compile time
	}
	mean := graph.ReduceAndKeep(x, graph.ReduceMean, axis)
	centered := graph.Sub(x, mean)
	variance := graph.ReduceAndKeep(graph.Square(centered), graph.ReduceMean, axis)
	y := graph.Div(centered, graph.Sqrt(graph.AddScalar(variance, l.Epsilon)))
	c := x.Shape().Dimensions[axis]
	if l.Scale {
		y = graph.Mul(y, along(l.gamma(b, c), x.Rank(), axis))
	}
	if l.Center {
		y = graph.Add(y, along(l.beta(b, c), x.Rank(), axis))
	}
	return y
}
