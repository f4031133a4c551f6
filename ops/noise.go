package ops

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("spatial_dropout2d", "Drops whole channels of (height, width, channels) examples during training, scaling the rest by 1/(1-rate), Keras' SpatialDropout2D; does nothing at evaluation.",
		func() Layer { return &SpatialDropout2D{} })
	Layers.Register("spatial_dropout1d", "Drops whole channels of (timesteps, channels) examples during training, scaling the rest by 1/(1-rate), Keras' SpatialDropout1D; does nothing at evaluation.",
		func() Layer { return &SpatialDropout1D{} })
	Layers.Register("gaussian_noise", "Adds noise drawn from N(0, stddev²) during training, Keras' GaussianNoise; does nothing at evaluation.",
		func() Layer { return &GaussianNoise{} })
}

// SpatialDropout2D is Keras' SpatialDropout2D with channels last: one draw
// per example and channel, so neighbouring pixels, which are correlated,
// are dropped together.
type SpatialDropout2D struct {
	Rate float64 `pipe:"rate,required,min=0,max=0.999" doc:"fraction of channels dropped during training"`
}

func (*SpatialDropout2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	return in, nil
}
func (*SpatialDropout2D) Params([]int) int { return 0 }
func (l *SpatialDropout2D) Build(b *Builder, x *graph.Node) *graph.Node {
	return channelDropout(b, x, l.Rate)
}

// SpatialDropout1D is Keras' SpatialDropout1D: one draw per example and
// channel, for all its steps.
type SpatialDropout1D struct {
	Rate float64 `pipe:"rate,required,min=0,max=0.999" doc:"fraction of channels dropped during training"`
}

func (*SpatialDropout1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	return in, nil
}
func (*SpatialDropout1D) Params([]int) int { return 0 }
func (l *SpatialDropout1D) Build(b *Builder, x *graph.Node) *graph.Node {
	return channelDropout(b, x, l.Rate)
}

// channelDropout is inverted dropout with Keras' noise_shape (batch, 1,
// ..., 1, channels): a whole channel of an example is kept or dropped.
func channelDropout(b *Builder, x *graph.Node, rate float64) *graph.Node {
	if !b.Training || rate == 0 {
		return x
	}
	mask := batchAndChannels(x.Shape().Dimensions)
	keep := graph.GreaterOrEqual(b.Scope.RandomUniform(b.Graph, shapes.Make(x.DType(), mask...)), graph.Scalar(b.Graph, x.DType(), rate))
	scale := graph.Where(keep, graph.Scalar(b.Graph, x.DType(), 1/(1-rate)), graph.ScalarZero(b.Graph, x.DType()))
	return graph.Mul(x, scale) // scale broadcasts over the spatial axes
}

// GaussianNoise is Keras' GaussianNoise.
type GaussianNoise struct {
	Stddev float64 `pipe:"stddev,required,min=0" doc:"standard deviation of the noise added during training"`
}

func (*GaussianNoise) OutputShape(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("gaussian_noise needs examples with at least one axis")
	}
	return in, nil
}
func (*GaussianNoise) Params([]int) int { return 0 }
func (l *GaussianNoise) Build(b *Builder, x *graph.Node) *graph.Node {
	if !b.Training || l.Stddev == 0 {
		return x
	}
	return graph.Add(x, graph.MulScalar(b.Scope.RandomNormal(b.Graph, x.Shape()), l.Stddev))
}
