package loaders

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Transforms.Register("gaussian_noise", "Adds seeded Gaussian noise N(mean, stddev²) to every feature, then clips to [clip_min, clip_max] when given: the noisy copy of the input that a denoising autoencoder learns to clean (with train.target: input, the target is the input before this step). Not applied by pipe predict, whose inputs are the noisy ones.",
		func() Transform { return &GaussianNoise{Seed: 1} })
}

// Corrupter marks a transform that corrupts the features: a model trained
// towards its input is compared with the input as it was before the first
// one, and prediction leaves them out.
type Corrupter interface {
	Corrupts()
}

// GaussianNoise adds noise drawn from a seeded generator, the same for
// every run of the spec, so that the cache and the golden files hold.
type GaussianNoise struct {
	Stddev  float64  `pipe:"stddev,required,min=0" doc:"standard deviation of the noise"`
	Mean    float64  `pipe:"mean" doc:"mean of the noise (Keras' mnist_denoising_autoencoder draws it with mean 0.5)"`
	Seed    int      `pipe:"seed" doc:"seed of the noise (train and test draw from streams of their own)"`
	ClipMin *float64 `pipe:"clip_min" doc:"lowest value after the noise (none: no clipping)"`
	ClipMax *float64 `pipe:"clip_max" doc:"highest value after the noise (none: no clipping)"`
}

func (*GaussianNoise) Corrupts() {}

func (t *GaussianNoise) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	if x.DType != data.Float32 {
		return x, y, fmt.Errorf("needs float features, got %s: scale them first", x)
	}
	if t.ClipMin != nil && t.ClipMax != nil && *t.ClipMin > *t.ClipMax {
		return x, y, fmt.Errorf("clip_min %v is above clip_max %v", *t.ClipMin, *t.ClipMax)
	}
	return x, y, nil
}

func (t *GaussianNoise) ApplyDataset(ds *data.Dataset) error {
	for stream, split := range []*data.Split{&ds.Train, &ds.Test} {
		r := rand.New(rand.NewPCG(uint64(t.Seed), uint64(stream)))
		noisy := make([]float32, len(split.X.Float))
		for i, v := range split.X.Float {
			v += float32(t.Mean + r.NormFloat64()*t.Stddev)
			if t.ClipMin != nil {
				v = max(v, float32(*t.ClipMin))
			}
			if t.ClipMax != nil {
				v = min(v, float32(*t.ClipMax))
			}
			noisy[i] = v
		}
		split.X.Float = noisy // a new slice: Y may share the old one
	}
	return nil
}

// InputAsTarget makes the features the labels: the step pipe puts before
// the first Corrupter when a model is trained towards its input. It is not
// registered: train.target says it.
type InputAsTarget struct{}

func (InputAsTarget) OutSchemas(x, _ data.Schema) (data.Schema, data.Schema, error) { return x, x, nil }

func (InputAsTarget) ApplyDataset(ds *data.Dataset) error {
	for _, split := range []*data.Split{&ds.Train, &ds.Test} {
		split.Y = split.X
		split.Y.Float = slices.Clone(split.X.Float) // later steps may rewrite x in place
		split.Y.Classes = 0
	}
	return nil
}
