package loaders

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // pipe predict accepts JPEG
	_ "image/png"  // and PNG images
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pipe-ml/pipe/data"
)

// InputDecoder is a loader that can turn an input a user gives to `pipe
// predict` (a file, or stdin) into one example of its raw features,
// before transforms. dataDir is there for what the decoding needs from the
// dataset (a vocabulary).
type InputDecoder interface {
	// InputKind says what the inputs must be, checked before decoding.
	InputKind() InputKind
	// DecodeInput decodes content, read from the input called name.
	DecodeInput(dataDir, name string, content []byte) (data.Array, error)
}

// InputKind is what a loader's predict inputs are: UTF-8 text, or a PNG
// or JPEG image; What says it to a user ("a 28x28 PNG or JPEG image").
type InputKind struct {
	Text bool
	// File is a file whose format the loader checks itself (a table's
	// row: CSV, Parquet or Arrow); only an empty one is refused here.
	File bool
	What string
}

// CheckInput says what content is when it is not of kind: an image given
// for a text model (read as text, a JPEG would get a prediction like any
// review), text or a PDF given for an image model, text that is not
// UTF-8, or nothing at all. nil when it is of kind.
func CheckInput(kind InputKind, content []byte) error {
	got, image, text := sniff(content)
	if kind.Text && text || kind.File && len(content) > 0 || !kind.Text && !kind.File && image {
		return nil
	}
	return fmt.Errorf("%s, but the model takes %s", got, kind.What)
}

// sniff names what content is, and whether it is an image pipe decodes or
// UTF-8 text. The content type comes from the first bytes, as browsers
// sniff it (net/http.DetectContentType).
func sniff(content []byte) (what string, image, text bool) {
	ct := http.DetectContentType(content)
	switch {
	case len(content) == 0:
		return "an empty file", false, false
	case ct == "image/png":
		return "a PNG image", true, false
	case ct == "image/jpeg":
		return "a JPEG image", true, false
	case strings.HasPrefix(ct, "image/"):
		return "an image of type " + ct + " (pipe reads PNG and JPEG)", false, false
	case strings.HasPrefix(ct, "text/plain; charset=utf-16"):
		return "UTF-16 text (save it as UTF-8)", false, false
	case strings.HasPrefix(ct, "text/"):
		// Text by its first 512 bytes; all of it must be UTF-8, as the
		// dataset's reviews are, and hold no NUL (binary data).
		if !utf8.Valid(content) {
			return "text that is not valid UTF-8 (Latin-1 or another encoding: save it as UTF-8)", false, false
		}
		if bytes.IndexByte(content, 0) >= 0 {
			return "binary data (it holds NUL bytes)", false, false
		}
		return "text", false, true
	}
	return "binary data (" + ct + ")", false, false
}

// InputKind: a 28x28 image, grey or colour (read as grey).
func (*MNIST) InputKind() InputKind {
	return InputKind{What: "a 28x28 PNG or JPEG image (a digit, light on dark as in MNIST)"}
}

// DecodeInput reads a 28x28 image as MNIST's raw pixels (grey levels 0..255).
func (*MNIST) DecodeInput(_, name string, content []byte) (data.Array, error) {
	px, err := readImage(name, content, 28, 28, 1)
	return data.Array{Schema: data.Schema{DType: data.Uint8, Shape: []int{28, 28}}, Bytes: px}, err
}

// InputKind: a 32x32 colour image.
func (*CIFAR10) InputKind() InputKind {
	return InputKind{What: fmt.Sprintf("a %dx%d PNG or JPEG image", cifarSide, cifarSide)}
}

// DecodeInput reads a 32x32 image as CIFAR-10's raw pixels (RGB 0..255, HWC).
func (*CIFAR10) DecodeInput(_, name string, content []byte) (data.Array, error) {
	px, err := readImage(name, content, cifarSide, cifarSide, 3)
	return data.Array{Schema: data.Schema{DType: data.Uint8, Shape: []int{cifarSide, cifarSide, 3}}, Bytes: px}, err
}

// readImage decodes a PNG or JPEG of exactly w x h pixels into channels
// (1: grey, 3: RGB) per pixel, row by row, as bytes 0..255.
func readImage(name string, content []byte, w, h, channels int) ([]uint8, error) {
	img, _, err := image.Decode(bytes.NewReader(content))
	if err != nil {
		return nil, dataErr(name, "not a PNG or JPEG image: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		return nil, dataErr(name, "image is %dx%d, the model takes %dx%d", b.Dx(), b.Dy(), w, h)
	}
	out := make([]uint8, 0, w*h*channels)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA() // 16-bit channels
			if channels == 1 {
				// ITU-R 601 luma, as image/color's Gray model.
				out = append(out, uint8((19595*r+38470*g+7471*bl+1<<15)>>24))
			} else {
				out = append(out, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			}
		}
	}
	return out, nil
}

// ApplyToInput runs the spec's column transforms of x over one decoded input.
func ApplyToInput(transforms []ColumnTransform, a data.Array) (data.Array, error) {
	for _, t := range transforms {
		if t.Column() != "x" {
			continue
		}
		var err error
		if a, err = t.Apply(a); err != nil {
			return a, err
		}
	}
	return a, nil
}
