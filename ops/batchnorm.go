package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
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
	// beta_initializer (zeros), gamma_initializer (ones) and their
	// regularizers.
	GammaBeta
	MovingMeanInitializer     spec.Component `pipe:"moving_mean_initializer,registry=initializer" doc:"how the moving mean starts; default zeros"`
	MovingVarianceInitializer spec.Component `pipe:"moving_variance_initializer,registry=initializer" doc:"how the moving variance starts; default ones"`
}

// Validate checks the chosen initializers and regularizers.
func (l *BatchNorm) Validate() error {
	if err := l.GammaBeta.Validate(); err != nil {
		return err
	}
	return validateWeights(named{"moving_mean_initializer", l.MovingMeanInitializer, true}, named{"moving_variance_initializer", l.MovingVarianceInitializer, true})
}

// GammaBeta are the params that choose how a normalization layer's scale
// gamma and offset beta start and what penalty each adds to the loss,
// Keras' gamma_initializer, beta_initializer, gamma_regularizer and
// beta_regularizer. Left out, gamma starts at ones and beta at zeros,
// without penalty.
type GammaBeta struct {
	BetaInitializer  spec.Component `pipe:"beta_initializer,registry=initializer" doc:"how the offset beta starts; default zeros"`
	GammaInitializer spec.Component `pipe:"gamma_initializer,registry=initializer" doc:"how the scale gamma starts; default ones"`
	BetaRegularizer  spec.Component `pipe:"beta_regularizer,registry=regularizer" doc:"penalty on beta added to the training loss; default none"`
	GammaRegularizer spec.Component `pipe:"gamma_regularizer,registry=regularizer" doc:"penalty on gamma added to the training loss; default none"`
}

// Validate checks the initializers' and regularizers' own params.
func (w GammaBeta) Validate() error {
	return validateWeights(
		named{"beta_initializer", w.BetaInitializer, true}, named{"gamma_initializer", w.GammaInitializer, true},
		named{"beta_regularizer", w.BetaRegularizer, false}, named{"gamma_regularizer", w.GammaRegularizer, false})
}

var ones Initializer = &Constant{Value: 1}

// gamma is the variable gamma [n], ones unless chosen.
func (w GammaBeta) gamma(b *Builder, n int) *graph.Node {
	return b.Weight("gamma", w.GammaInitializer, w.GammaRegularizer, ones, FansOf([]int{n}), n)
}

// beta is the variable beta [n], zeros unless chosen.
func (w GammaBeta) beta(b *Builder, n int) *graph.Node {
	return b.Weight("beta", w.BetaInitializer, w.BetaRegularizer, zeros, FansOf([]int{n}), n)
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
	movingMean := b.StateWeight("moving_mean", l.MovingMeanInitializer, zeros, c)
	movingVar := b.StateWeight("moving_variance", l.MovingVarianceInitializer, ones, c)
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
	return l.normalize(b, x, axis, mean, variance)
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
// the statistics given along axis; gamma (ones unless chosen) and beta
// (zeros unless chosen) are the layer's variables when scale and center.
func (l *BatchNorm) normalize(b *Builder, x *graph.Node, axis int, mean, variance *graph.Node) *graph.Node {
	c := x.Shape().Dimensions[axis]
	inv := graph.Reciprocal(graph.Sqrt(graph.AddScalar(variance, l.Epsilon))) // Rsqrt has no gradient in GoMLX
	if l.Scale {
		inv = graph.Mul(inv, l.gamma(b, c))
	}
	y := graph.Mul(graph.Sub(x, along(mean, x.Rank(), axis)), along(inv, x.Rank(), axis))
	if l.Center {
		y = graph.Add(y, along(l.beta(b, c), x.Rank(), axis))
	}
	return y
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
