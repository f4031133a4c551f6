package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Image is one picture an image model takes or gives: Height x Width x
// Channels (1: grey, 3: RGB) values, row by row, channels last, as pixel
// intensities 0..255 (clipped when drawn).
type Image struct {
	Height, Width, Channels int
	Pix                     []float32
}

func (im Image) check() error {
	if im.Height < 1 || im.Width < 1 || (im.Channels != 1 && im.Channels != 3) {
		return fmt.Errorf("an image of %dx%dx%d: need a height and width and 1 or 3 channels", im.Height, im.Width, im.Channels)
	}
	if len(im.Pix) != im.Height*im.Width*im.Channels {
		return fmt.Errorf("a %dx%dx%d image with %d values", im.Height, im.Width, im.Channels, len(im.Pix))
	}
	return nil
}

// Stretched is images of values on any scale (pixels scaled to [0, 1],
// standardised ones) as Images to draw together: each channel maps to
// 0..255 between its smallest and its largest value over all of them (a
// channel of one value is mid grey), so that they show alike. Each of
// images holds h x w x c values, channels last; one channel is grey, three
// are RGB, other counts show the first channel in grey.
func Stretched(h, w, c int, images ...[]float32) ([]Image, error) {
	if len(images) == 0 || h < 1 || w < 1 || c < 1 {
		return nil, fmt.Errorf("%d images of %dx%dx%d", len(images), h, w, c)
	}
	size := h * w * c
	lo, hi := make([]float32, c), make([]float32, c)
	for ch := range c {
		lo[ch], hi[ch] = images[0][ch], images[0][ch]
	}
	for _, img := range images {
		if len(img) != size {
			return nil, fmt.Errorf("an image of %d values, want %d", len(img), size)
		}
		for i, v := range img {
			lo[i%c], hi[i%c] = min(lo[i%c], v), max(hi[i%c], v)
		}
	}
	level := func(v float32, ch int) float32 {
		if hi[ch] <= lo[ch] {
			return 128
		}
		return min(max((v-lo[ch])/(hi[ch]-lo[ch]), 0), 1) * 255
	}
	shown := c
	if c != 3 {
		shown = 1
	}
	out := make([]Image, len(images))
	for k, img := range images {
		px := make([]float32, 0, h*w*shown)
		for i := 0; i < size; i += c {
			for ch := range shown {
				px = append(px, level(img[i+ch], ch))
			}
		}
		out[k] = Image{Height: h, Width: w, Channels: shown, Pix: px}
	}
	return out, nil
}

// byte8 is a value as an 8-bit intensity: rounded, clipped to 0..255, NaN
// black.
func byte8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	return uint8(math.Min(255, math.Round(float64(v))))
}

// at is the colour of pixel (x, y).
func (im Image) at(x, y int) color.Color {
	i := (y*im.Width + x) * im.Channels
	if im.Channels == 1 {
		return color.Gray{Y: byte8(im.Pix[i])}
	}
	return color.NRGBA{R: byte8(im.Pix[i]), G: byte8(im.Pix[i+1]), B: byte8(im.Pix[i+2]), A: 255}
}

// EncodePNG writes im as a PNG, a grey one for one channel.
func EncodePNG(im Image) ([]byte, error) {
	if err := im.check(); err != nil {
		return nil, err
	}
	var img draw.Image = image.NewGray(image.Rect(0, 0, im.Width, im.Height))
	if im.Channels == 3 {
		img = image.NewNRGBA(img.Bounds())
	}
	for y := range im.Height {
		for x := range im.Width {
			img.Set(x, y, im.at(x, y))
		}
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// WriteNew writes b to a new file at path and never replaces one: a path
// that exists is an error that says so (errors.Is os.ErrExist).
func WriteNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: pipe does not overwrite it: %w", path, os.ErrExist)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// ImageGrid is a PNG of images in rows under titled columns: a few
// examples, one a row, each column one view of them. ReconstructionsPlot
// is one (the noisy input, the model's reconstruction, the clean target),
// AugmentPlot another (a training image, its augmented copy).
type ImageGrid struct {
	Columns []string
	Rows    [][]Image
}

// Sizes of the grid's image, in pixels: each image is drawn gridZoom
// times its size, nearest neighbour, so that pixels stay pixels.
const (
	gridZoom   = 4
	gridGap    = 6
	gridMargin = 10
	lineHeight = 16 // basicfont.Face7x13's 13 and some room
)

// writeImageGrid draws g under title as a PNG at path.
func writeImageGrid(path, title string, g ImageGrid) error {
	b, err := encodeImageGrid(title, g)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func encodeImageGrid(title string, g ImageGrid) ([]byte, error) {
	if len(g.Rows) == 0 || len(g.Columns) == 0 {
		return nil, errors.New("no images")
	}
	face := basicfont.Face7x13
	textWidth := func(s string) int { return font.MeasureString(face, s).Ceil() }
	colWidth := make([]int, len(g.Columns))
	rowHeight := make([]int, len(g.Rows))
	for c, name := range g.Columns {
		colWidth[c] = textWidth(name)
	}
	for r, row := range g.Rows {
		if len(row) != len(g.Columns) {
			return nil, fmt.Errorf("row %d has %d images for %d columns", r, len(row), len(g.Columns))
		}
		for c, im := range row {
			if err := im.check(); err != nil {
				return nil, fmt.Errorf("row %d, column %d: %w", r, c, err)
			}
			colWidth[c] = max(colWidth[c], im.Width*gridZoom)
			rowHeight[r] = max(rowHeight[r], im.Height*gridZoom)
		}
	}
	width, height := 2*gridMargin+gridGap*(len(colWidth)-1), 2*gridMargin+2*lineHeight+gridGap*len(rowHeight)
	for _, w := range colWidth {
		width += w
	}
	width = max(width, 2*gridMargin+textWidth(title))
	for _, h := range rowHeight {
		height += h
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(s string, x, y int) {
		d := font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	text(title, gridMargin, gridMargin+lineHeight-4)
	x := gridMargin
	for c, name := range g.Columns {
		text(name, x+(colWidth[c]-textWidth(name))/2, gridMargin+2*lineHeight-4)
		x += colWidth[c] + gridGap
	}
	y := gridMargin + 2*lineHeight + gridGap
	for r, row := range g.Rows {
		x := gridMargin
		for c, im := range row {
			x0 := x + (colWidth[c]-im.Width*gridZoom)/2
			for py := range im.Height * gridZoom {
				for px := range im.Width * gridZoom {
					img.Set(x0+px, y+py, im.at(px/gridZoom, py/gridZoom))
				}
			}
			x += colWidth[c] + gridGap
		}
		y += rowHeight[r] + gridGap
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}
