package loaders

import (
	"fmt"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Augmentations are the random changes that training makes to each batch
// of images (train.augment): flips, crops, translations. They are never
// applied to validation, evaluation or prediction inputs.
var Augmentations = spec.NewRegistry[Augmentation]("augmentation")

// Augmentation is one random change to an image. Training applies the
// listed augmentations in order to each example of a batch, on the host,
// drawing from a generator seeded by the spec's seed, the epoch and the
// step, so that a resumed run draws what the uninterrupted one would.
type Augmentation interface {
	// Apply rewrites img, one image of Image's shape (height, width,
	// channels, channels last, row after row), drawing from r. scratch is
	// a buffer of the same length whose content it may overwrite.
	Apply(img, scratch []float32, im Image, r *rand.Rand)
}

// Image is the shape of the images an augmentation works on.
type Image struct{ H, W, C int }

// ImageOf returns the image shape of examples x: float32 of shape
// (height, width, channels), or an error saying why x is not that.
func ImageOf(x data.Schema) (Image, error) {
	if x.DType != data.Float32 || len(x.Shape) != 3 || x.Shape[0] < 1 || x.Shape[1] < 1 || x.Shape[2] < 1 {
		return Image{}, fmt.Errorf("augmentation needs images, float32 examples of shape (height, width, channels), got %s (reshape to [h, w, c] and scale the pixels in data.transforms)", x)
	}
	return Image{H: x.Shape[0], W: x.Shape[1], C: x.Shape[2]}, nil
}

// Augment applies augs in order to each of the n images of buf, laid out
// one after the other.
func Augment(augs []Augmentation, buf []float32, im Image, r *rand.Rand) {
	size := im.H * im.W * im.C
	scratch := make([]float32, size)
	for i := 0; i+size <= len(buf); i += size {
		for _, a := range augs {
			a.Apply(buf[i:i+size], scratch, im, r)
		}
	}
}

// fillModes are Keras' ways of filling what a translation uncovers.
const fillModes = "constant|reflect|wrap|nearest"

// sourceIndex maps a coordinate i outside 0..n-1 to the one whose value
// fills it, as Keras' fill_mode does: reflect about the edge of the last
// pixel (d c b a | a b c d | d c b a), wrap around (a b c d | a b c d),
// repeat the edge (a a | a b c d | d d). It returns -1 for constant (the
// fill value) and for an i outside.
func sourceIndex(i, n int, mode string) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "reflect":
		period := 2 * n
		i %= period
		if i < 0 {
			i += period
		}
		if i >= n {
			i = period - 1 - i
		}
		return i
	case "wrap":
		i %= n
		if i < 0 {
			i += n
		}
		return i
	case "nearest":
		return min(max(i, 0), n-1)
	}
	return -1
}
