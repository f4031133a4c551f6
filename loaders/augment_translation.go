package loaders

import (
	"fmt"
	"math"
	"math/rand/v2"
)

func init() {
	Augmentations.Register("random_translation", "Moves each image by a random fraction of its height and width, as Keras' RandomTranslation: the shifts are drawn uniformly from [-height_factor, height_factor] x height and [-width_factor, width_factor] x width (fractions of a pixel included), and what the move uncovers is filled as fill_mode says.",
		func() Augmentation {
			return &RandomTranslation{FillMode: "reflect", Interpolation: "bilinear"}
		})
}

// RandomTranslation is Keras' RandomTranslation with symmetric factors:
// output(y, x) = input(y - dy, x - dx), read between pixels by bilinear
// or nearest interpolation, each pixel outside the image taken as
// fill_mode says.
type RandomTranslation struct {
	HeightFactor  float64 `pipe:"height_factor,min=0,max=1" doc:"the largest vertical move, a fraction of the height (a positive shift moves the image down)"`
	WidthFactor   float64 `pipe:"width_factor,min=0,max=1" doc:"the largest horizontal move, a fraction of the width (a positive shift moves it right)"`
	FillMode      string  `pipe:"fill_mode,oneof=constant|reflect|wrap|nearest" doc:"what fills the uncovered pixels: constant (fill_value), reflect (d c b a | a b c d | d c b a, Keras' default), wrap (a b c d | a b c d), nearest (a a | a b c d | d d)"`
	FillValue     float64 `pipe:"fill_value" doc:"the value of uncovered pixels with fill_mode: constant"`
	Interpolation string  `pipe:"interpolation,oneof=bilinear|nearest" doc:"how a value between pixels is read: bilinear (Keras' default) or nearest"`
}

func (a *RandomTranslation) Validate() error {
	if a.HeightFactor == 0 && a.WidthFactor == 0 {
		return fmt.Errorf("height_factor and width_factor are both 0: the translation would not move anything")
	}
	return nil
}

func (a *RandomTranslation) Apply(img, scratch []float32, im Image, r *rand.Rand) {
	dy := (2*r.Float64() - 1) * a.HeightFactor * float64(im.H)
	dx := (2*r.Float64() - 1) * a.WidthFactor * float64(im.W)
	Translate(img, scratch, im, dy, dx, a.FillMode, float32(a.FillValue), a.Interpolation)
}

// Translate moves img by dy rows down and dx columns right, fractions
// included: output(y, x) = input(y - dy, x - dx), interpolated as
// interpolation says, pixels outside the image as mode says. A whole
// move is exact: it is Shift.
func Translate(img, scratch []float32, im Image, dy, dx float64, mode string, fill float32, interpolation string) {
	if interpolation == "nearest" {
		dy, dx = math.Round(dy), math.Round(dx)
	}
	if dy == math.Trunc(dy) && dx == math.Trunc(dx) {
		Shift(img, scratch, im, int(dy), int(dx), mode, fill)
		return
	}
	copy(scratch, img)
	at := func(y, x, c int) float32 {
		sy, sx := sourceIndex(y, im.H, mode), sourceIndex(x, im.W, mode)
		if sy < 0 || sx < 0 {
			return fill
		}
		return scratch[(sy*im.W+sx)*im.C+c]
	}
	for y := range im.H {
		fy := float64(y) - dy
		y0 := int(math.Floor(fy))
		wy := float32(fy - float64(y0))
		for x := range im.W {
			fx := float64(x) - dx
			x0 := int(math.Floor(fx))
			wx := float32(fx - float64(x0))
			for c := range im.C {
				top := (1-wx)*at(y0, x0, c) + wx*at(y0, x0+1, c)
				bottom := (1-wx)*at(y0+1, x0, c) + wx*at(y0+1, x0+1, c)
				img[(y*im.W+x)*im.C+c] = (1-wy)*top + wy*bottom
			}
		}
	}
}
