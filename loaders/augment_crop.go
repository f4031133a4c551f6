package loaders

import (
	"math/rand/v2"
)

func init() {
	Augmentations.Register("random_crop", "Pads each image by padding pixels on every side, then crops it back to its size at a random offset: the standard CIFAR recipe (pad 4, crop 32x32). Unlike Keras' RandomCrop, which crops to a smaller size, the image keeps its shape.",
		func() Augmentation { return &RandomCrop{Padding: 4, FillMode: "constant"} })
}

// RandomCrop pads by Padding on every side and crops the image's size
// back at an offset drawn uniformly from 0..2*Padding on each axis: a
// translation by a whole number of pixels in -Padding..Padding.
type RandomCrop struct {
	Padding   int     `pipe:"padding,min=1" doc:"pixels of padding on each side; the crop moves the image by up to this many pixels either way"`
	FillMode  string  `pipe:"fill_mode,oneof=constant|reflect|wrap|nearest" doc:"what the padding holds: constant (fill_value, zero by default, as the recipe pads), or Keras' reflect, wrap and nearest"`
	FillValue float64 `pipe:"fill_value" doc:"the padding's value with fill_mode: constant"`
}

func (a *RandomCrop) Apply(img, scratch []float32, im Image, r *rand.Rand) {
	// The crop's offset into the padded image, from the top left.
	dy, dx := r.IntN(2*a.Padding+1), r.IntN(2*a.Padding+1)
	Shift(img, scratch, im, a.Padding-dy, a.Padding-dx, a.FillMode, float32(a.FillValue))
}

// Shift moves img down by dy and right by dx whole pixels (negative: up,
// left), filling what it uncovers as fill_mode says; scratch is a buffer
// of img's length.
func Shift(img, scratch []float32, im Image, dy, dx int, mode string, fill float32) {
	copy(scratch, img)
	for y := range im.H {
		sy := sourceIndex(y-dy, im.H, mode)
		for x := range im.W {
			sx := sourceIndex(x-dx, im.W, mode)
			out := img[(y*im.W+x)*im.C : (y*im.W+x+1)*im.C]
			if sy < 0 || sx < 0 {
				for c := range out {
					out[c] = fill
				}
				continue
			}
			copy(out, scratch[(sy*im.W+sx)*im.C:(sy*im.W+sx+1)*im.C])
		}
	}
}
