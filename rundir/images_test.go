package rundir

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEncodePNG: values are pixel intensities, rounded and clipped to
// 0..255; one channel is a grey PNG, three an RGB one.
func TestEncodePNG(t *testing.T) {
	b, err := EncodePNG(Image{Height: 1, Width: 3, Channels: 1, Pix: []float32{-4, 127.6, 300}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if g, ok := img.(*image.Gray); err != nil || !ok || string(g.Pix) != "\x00\x80\xff" {
		t.Errorf("grey: %v %T %v", err, img, img)
	}
	b, err = EncodePNG(Image{Height: 1, Width: 1, Channels: 3, Pix: []float32{10, 20, 30}})
	if err != nil {
		t.Fatal(err)
	}
	img, _ = png.Decode(bytes.NewReader(b))
	if r, g, bl, _ := img.At(0, 0).RGBA(); r>>8 != 10 || g>>8 != 20 || bl>>8 != 30 {
		t.Errorf("RGB: %v", img.At(0, 0))
	}
	if _, err := EncodePNG(Image{Height: 2, Width: 2, Channels: 1, Pix: make([]float32, 3)}); err == nil {
		t.Error("an image of 3 values for 2x2 was encoded")
	}
}

// TestWriteNew: a new file is written; an existing one is left alone.
func TestWriteNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.png")
	if err := WriteNew(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	err := WriteNew(path, []byte("two"))
	if b, _ := os.ReadFile(path); !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "does not overwrite") || string(b) != "one" {
		t.Errorf("second write: %v, file %q", err, b)
	}
}

// TestImageGrid: column titles over rows of images, each drawn gridZoom
// times its size at its place in the grid.
func TestImageGrid(t *testing.T) {
	black := Image{Height: 2, Width: 3, Channels: 1, Pix: make([]float32, 6)}
	white := Image{Height: 2, Width: 3, Channels: 1, Pix: []float32{255, 255, 255, 255, 255, 255}}
	grey := Image{Height: 2, Width: 3, Channels: 1, Pix: []float32{0, 0, 0, 0, 0, 100}}
	g := ImageGrid{Columns: []string{"a", "b"}, Rows: [][]Image{{black, grey}, {grey, black}}}
	b, err := encodeImageGrid("t", g)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// Columns of 12 pixels (3 * gridZoom; the titles are narrower).
	w, h := 2*gridMargin+12+gridGap+12, 2*gridMargin+2*lineHeight+2*gridGap+2*8
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("%v; want %dx%d", img.Bounds(), w, h)
	}
	top := gridMargin + 2*lineHeight + gridGap
	at := func(x, y int) uint8 { return color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y }
	right := gridMargin + 12 + gridGap // the second column's left edge
	for _, c := range []struct {
		x, y int
		want uint8
	}{
		{gridMargin, top, 0},                          // row 1, black
		{right + 11, top + 7, 100},                    // row 1, grey's last pixel, zoomed
		{right + 7, top + 3, 0},                       // row 1, grey's black part
		{gridMargin + 11, top + 8 + gridGap + 7, 100}, // row 2, grey
		{gridMargin - 1, top, 255},                    // the margin
	} {
		if got := at(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d, %d) is %d, want %d", c.x, c.y, got, c.want)
		}
	}
	if _, err := encodeImageGrid("t", ImageGrid{Columns: []string{"a"}, Rows: [][]Image{{black, white}}}); err == nil {
		t.Error("a row of two images under one column was drawn")
	}
}

// TestStretched: each channel maps to 0..255 between its smallest and
// largest value over all the images; a flat channel is mid grey; four
// channels show the first in grey; mis-sized images are refused.
func TestStretched(t *testing.T) {
	a := []float32{-1, 5, 7, 1, 5, 9} // 1x2 RGB: channel 0 -1..3, 1 flat, 2 7..9
	b := []float32{3, 5, 8, 0, 5, 7}
	got, err := Stretched(1, 2, 3, a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0, 128, 0, 127.5, 128, 255}, {255, 128, 127.5, 63.75, 128, 0}}
	if len(got) != 2 {
		t.Fatalf("%d images", len(got))
	}
	for k, im := range got {
		if im.Height != 1 || im.Width != 2 || im.Channels != 3 || !slices.Equal(im.Pix, want[k]) {
			t.Errorf("image %d: %+v, want pixels %v", k, im, want[k])
		}
	}
	a[0] = 100 // the images are copies
	if got[0].Pix[0] != 0 {
		t.Error("Stretched kept the caller's slice")
	}
	got, err = Stretched(1, 1, 4, []float32{0, 9, 9, 9}, []float32{2, 0, 0, 0})
	if err != nil || got[0].Channels != 1 || !slices.Equal(got[0].Pix, []float32{0}) || !slices.Equal(got[1].Pix, []float32{255}) {
		t.Errorf("four channels: %+v, %v", got, err)
	}
	if _, err := Stretched(1, 2, 3, a, b[:5]); err == nil {
		t.Error("an image of 5 values for 1x2x3 was taken")
	}
}
