package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("batch_normalization", "Normalises each feature (channel) over the batch, Keras' BatchNormalization: in training by the batch's mean and variance, which also move the layer's moving statistics; at evaluation and prediction by the moving statistics.",
		func() Layer { return &BatchNorm{Axis: -1, Momentum: 0.99, Epsilon: 1e-3, Center: true, Scale: true} })
}

// BatchNorm is Keras 3's BatchNormalization. Training normalises by the
// batch's mean and biased variance over every axis but Axis, and moves the
// state towards them: moving = moving*momentum + batch*(1-momentum), the
// biased variance too (Keras 3 uses ops.moments for both; tf.keras 2's
// fused kernel used n/(n-1) times it for the moving variance). Gradients
// flow through the batch statistics, as in Keras. With train.shards > 1
// each part of the batch is normalised by its own statistics and the state
// moves by their mean (see StateUpdates); data-parallel training on
// several devices reduces over the whole batch, so it normalises as one.
type BatchNorm struct {
	Axis     int     `pipe:"axis,min=-100,max=100" doc:"the feature axis, counting the batch axis as Keras does: -1 is the last (channels), 1 the first of an example; not the batch axis 0"`
	Momentum float64 `pipe:"momentum,min=0,max=1" doc:"momentum of the moving mean and variance"`
	Epsilon  float64 `pipe:"epsilon,min=0" doc:"added to the variance before its square root"`
	Center   bool    `pipe:"center" doc:"add a learned offset beta per feature"`
	Scale    bool    `pipe:"scale" doc:"multiply by a learned gamma per feature"`
}

func (l *BatchNorm) OutputShape(in []int) ([]int, error) {
	if _, err := featureAxis(l.Axis, in); err != nil {
		return nil, err
	}
	return in, nil
}

// features is the size of the feature axis (0 when it does not fit in).
func features(axis int, in []int) int {
	a, err := featureAxis(axis, in)
	if err != nil {
		return 0
	}
	return in[a-1]
}

func (l *BatchNorm) Params(in []int) int {
	return features(l.Axis, in) * (b2i(l.Center) + b2i(l.Scale))
}

// NonTrainableParams counts the moving mean and variance.
func (l *BatchNorm) NonTrainableParams(in []int) int { return 2 * features(l.Axis, in) }

func (l *BatchNorm) Build(b *Builder, x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	axis, err := featureAxis(l.Axis, dims[1:])
	if err != nil {
		panic(err) // OutputShape refused it at compile time
	}
	c := dims[axis]
	movingMean := b.State("moving_mean", 0, c)
	movingVar := b.State("moving_variance", 1, c)
	var mean, variance *graph.Node
	if b.Training {
		mean, variance = moments(x, axis)
		update := func(moving, batch *graph.Node) *graph.Node {
			return graph.Add(graph.MulScalar(moving, l.Momentum), graph.MulScalar(graph.StopGradient(batch), 1-l.Momentum))
		}
		b.SetState(movingMean, update(movingMean.NodeValue(b.Graph), mean))
		b.SetState(movingVar, update(movingVar.NodeValue(b.Graph), variance))
	} else {
		mean, variance = movingMean.NodeValue(b.Graph), movingVar.NodeValue(b.Graph)
	}
	return normalize(b, x, axis, mean, variance, l.Epsilon, l.Center, l.Scale)
}

// featureAxis resolves a Keras axis (batch axis 0, negative from the end)
// on per-example shape in to an axis of the batched input: 1..len(in).
func featureAxis(axis int, in []int) (int, error) {
	rank := len(in) + 1
	a := axis
	if a < 0 {
		a += rank
	}
	switch {
	case len(in) == 0:
		return 0, fmt.Errorf("needs examples with at least one axis")
	case a == 0:
		return 0, fmt.Errorf("axis %d is the batch axis: give the feature axis, -1 for the last", axis)
	case a < 0 || a >= rank:
		return 0, fmt.Errorf("axis %d is outside an input of %d axes with the batch axis (-%d..%d)", axis, rank, rank-1, rank-1)
	}
	return a, nil
}

// moments returns x's mean and biased variance over every axis but axis,
// each of shape [dims[axis]].
func moments(x *graph.Node, axis int) (mean, variance *graph.Node) {
	var reduce []int
	for i := range x.Rank() {
		if i != axis {
			reduce = append(reduce, i)
		}
	}
	mean = graph.ReduceMean(x, reduce...)
	variance = graph.ReduceMean(graph.Square(graph.Sub(x, along(mean, x.Rank(), axis))), reduce...)
	return mean, variance
}

// along reshapes vector v to rank axes, v's values on axis, 1 elsewhere,
// to broadcast over an input of that rank.
func along(v *graph.Node, rank, axis int) *graph.Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[axis] = v.Shape().Dimensions[0]
	return graph.Reshape(v, dims...)
}

// normalize is (x - mean) / sqrt(variance + epsilon) * gamma + beta, with
// the statistics given along axis; gamma (ones) and beta (zeros) are the
// layer's variables when scale and center.
func normalize(b *Builder, x *graph.Node, axis int, mean, variance *graph.Node, epsilon float64, center, scale bool) *graph.Node {
	c := x.Shape().Dimensions[axis]
	inv := graph.Reciprocal(graph.Sqrt(graph.AddScalar(variance, epsilon))) // Rsqrt has no gradient in GoMLX
	if scale {
		inv = graph.Mul(inv, b.variable("gamma", filled(c, 1), []int{c}))
	}
	y := graph.Mul(graph.Sub(x, along(mean, x.Rank(), axis)), along(inv, x.Rank(), axis))
	if center {
		y = graph.Add(y, along(b.Zeros("beta", c), x.Rank(), axis))
	}
	return y
}

func filled(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
