package loaders

import (
	"math/rand/v2"
)

func init() {
	Augmentations.Register("random_flip", "Flips each image left to right and/or upside down, each with probability 1/2, as Keras' RandomFlip.",
		func() Augmentation { return &RandomFlip{Mode: "horizontal_and_vertical"} })
}

// RandomFlip is Keras' RandomFlip: horizontal mirrors the columns,
// vertical the rows, each drawn independently with probability 1/2.
type RandomFlip struct {
	Mode string `pipe:"mode,oneof=horizontal|vertical|horizontal_and_vertical" doc:"which flips to draw: horizontal (left-right), vertical (upside down), or both, each independently (Keras' default)"`
}

func (a *RandomFlip) Apply(img, _ []float32, im Image, r *rand.Rand) {
	if a.Mode != "vertical" && r.IntN(2) == 1 {
		FlipHorizontal(img, im)
	}
	if a.Mode != "horizontal" && r.IntN(2) == 1 {
		FlipVertical(img, im)
	}
}

// FlipHorizontal mirrors img left to right, in place.
func FlipHorizontal(img []float32, im Image) {
	for y := range im.H {
		row := img[y*im.W*im.C : (y+1)*im.W*im.C]
		for l, r := 0, im.W-1; l < r; l, r = l+1, r-1 {
			for c := range im.C {
				row[l*im.C+c], row[r*im.C+c] = row[r*im.C+c], row[l*im.C+c]
			}
		}
	}
}

// FlipVertical turns img upside down, in place.
func FlipVertical(img []float32, im Image) {
	stride := im.W * im.C
	for t, b := 0, im.H-1; t < b; t, b = t+1, b-1 {
		top, bottom := img[t*stride:(t+1)*stride], img[b*stride:(b+1)*stride]
		for i := range top {
			top[i], bottom[i] = bottom[i], top[i]
		}
	}
}
