package rundir

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
)

// AugmentSamples are a few training images and their augmented copies,
// as the model sees them (after the data transforms), for augment.png.
type AugmentSamples struct {
	H, W, C   int         // each image's shape, channels last
	Originals [][]float32 // one image each
	Augmented [][]float32 // the same images augmented, in the same order
}

// Layout of augment.png: images scaled up by a whole factor to about
// augmentSide pixels, augmentGap pixels apart on white.
const (
	augmentSide = 96
	augmentGap  = 6
)

// write draws the originals in the top row and each one's augmented copy
// below it. Values map to 0..255 per channel between the smallest and the
// largest value of that channel over every image shown, so that pixels
// scaled to [0, 1] and standardised ones both show; one channel is grey,
// three are RGB, other counts show the first channel in grey.
func (s *AugmentSamples) write(path string) error {
	n := len(s.Originals)
	if n == 0 || len(s.Augmented) != n || s.H < 1 || s.W < 1 || s.C < 1 {
		return fmt.Errorf("%d originals and %d augmented images of %dx%dx%d", n, len(s.Augmented), s.H, s.W, s.C)
	}
	size := s.H * s.W * s.C
	lo, hi := make([]float32, s.C), make([]float32, s.C)
	for c := range s.C {
		lo[c], hi[c] = s.Originals[0][c], s.Originals[0][c]
	}
	for _, img := range append(append([][]float32{}, s.Originals...), s.Augmented...) {
		if len(img) != size {
			return fmt.Errorf("an image of %d values, want %d", len(img), size)
		}
		for i, v := range img {
			lo[i%s.C], hi[i%s.C] = min(lo[i%s.C], v), max(hi[i%s.C], v)
		}
	}
	scale := max(1, augmentSide/max(s.H, s.W))
	cw, ch := s.W*scale+augmentGap, s.H*scale+augmentGap
	out := image.NewRGBA(image.Rect(0, 0, n*cw+augmentGap, 2*ch+augmentGap))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	level := func(v float32, c int) uint8 {
		if hi[c] <= lo[c] {
			return 128
		}
		return uint8(min(max((v-lo[c])/(hi[c]-lo[c]), 0), 1)*255 + 0.5)
	}
	for row, imgs := range [][][]float32{s.Originals, s.Augmented} {
		for k, img := range imgs {
			x0, y0 := augmentGap+k*cw, augmentGap+row*ch
			for y := range s.H * scale {
				for x := range s.W * scale {
					at := ((y/scale)*s.W + x/scale) * s.C
					px := color.RGBA{A: 255}
					if s.C == 3 {
						px.R, px.G, px.B = level(img[at], 0), level(img[at+1], 1), level(img[at+2], 2)
					} else {
						g := level(img[at], 0)
						px.R, px.G, px.B = g, g, g
					}
					out.SetRGBA(x0+x, y0+y, px)
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, out); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
