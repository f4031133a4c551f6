package loaders

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// FuzzImageFolderImage feeds arbitrary bytes to image_folder's decoder at
// small sizes in every colour mode: an error is fine, a panic is not, and
// what decodes has the declared size and values 0..255.
func FuzzImageFolderImage(f *testing.F) {
	var gray, rgba, pal, deep, jpg bytes.Buffer
	g := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(g.Pix, []uint8{0, 50, 100, 150, 200, 250})
	png.Encode(&gray, g)
	n := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	copy(n.Pix, []uint8{255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 9, 9, 9})
	png.Encode(&rgba, n)
	png.Encode(&pal, image.NewPaletted(image.Rect(0, 0, 2, 3), color.Palette{color.Black, color.White}))
	png.Encode(&deep, image.NewGray16(image.Rect(0, 0, 2, 2)))
	jpeg.Encode(&jpg, n, nil)
	for _, b := range [][]byte{gray.Bytes(), rgba.Bytes(), pal.Bytes(), deep.Bytes(), jpg.Bytes()} {
		f.Add(b, uint8(3), uint8(2), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, h, w, mode uint8) {
		height, width := 1+int(h%16), 1+int(w%16)
		colour := []string{"grayscale", "rgb", "rgba"}[int(mode)%3]
		interp := []string{"bilinear", "nearest"}[int(mode/3)%2]
		px, err := decodeFolderImage(body, height, width, colour, interp)
		if err != nil {
			return
		}
		if len(px) != height*width*imageChannels(colour) {
			t.Fatalf("%d values for %dx%d %s", len(px), height, width, colour)
		}
		for _, v := range px {
			if !(v >= 0 && v <= 255) {
				t.Fatalf("value %v outside 0..255", v)
			}
		}
	})
}
