package loaders

import (
	"bytes"
	"image"
	"path/filepath"

	"github.com/pipe-ml/pipe/data"
)

// BytesDecoder is an InputDecoder that also decodes an input held in
// memory, such as the body of a request to `pipe serve`. DecodeInput reads
// the file and decodes its bytes the same way, so a served prediction and
// `pipe predict`'s agree.
type BytesDecoder interface {
	InputDecoder
	// Prepare reads, once, what decoding needs from the data directory (a
	// vocabulary). After it DecodeBytes only reads the decoder, so that a
	// server may decode requests on several goroutines at once.
	Prepare(dataDir string) error
	// DecodeBytes decodes b as DecodeInput decodes a file's content; name
	// stands for the input in error messages (a path, a request field).
	DecodeBytes(dataDir, name string, b []byte) (data.Array, error)
}

// Prepare: MNIST needs nothing from the data directory to decode an image.
func (*MNIST) Prepare(string) error { return nil }

// DecodeBytes decodes a 28x28 PNG or JPEG as MNIST's raw pixels (grey levels 0..255).
func (*MNIST) DecodeBytes(_, name string, b []byte) (data.Array, error) {
	px, err := decodeImage(name, b, 28, 28, 1)
	return data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{28, 28}}, Float: px}, err
}

// Prepare: CIFAR-10 needs nothing from the data directory to decode an image.
func (*CIFAR10) Prepare(string) error { return nil }

// DecodeBytes decodes a 32x32 PNG or JPEG as CIFAR-10's raw pixels (RGB 0..255, HWC).
func (*CIFAR10) DecodeBytes(_, name string, b []byte) (data.Array, error) {
	px, err := decodeImage(name, b, cifarSide, cifarSide, 3)
	return data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{cifarSide, cifarSide, 3}}, Float: px}, err
}

// Prepare reads the word ranks: Keras' word index, or the training
// reviews' frequency ranks (which reads the whole archive, some seconds),
// once however many reviews are decoded.
func (t *IMDB) Prepare(dataDir string) error {
	if t.ranks != nil {
		return nil
	}
	dir, err := datasetDir(dataDir, "imdb")
	if err != nil {
		return err
	}
	if t.WordIndex == "keras" {
		t.ranks, err = kerasWordRanks(filepath.Join(dir, imdbWordIndex))
	} else {
		t.ranks, err = imdbTrainRanks(filepath.Join(dir, imdbArchive), t.StripBR)
	}
	return err
}

// DecodeBytes turns a review's text into word indices with the dataset's
// vocabulary, as the loader turns the archive's reviews.
func (t *IMDB) DecodeBytes(dataDir, _ string, text []byte) (data.Array, error) {
	if err := t.Prepare(dataDir); err != nil {
		return data.Array{}, err
	}
	vocab := newTextVocab()
	words := vocab.tokens(text, t.StripBR, nil)
	ranks := make([]int32, len(vocab.words))
	for i, w := range vocab.words {
		ranks[i] = t.ranks[w] // 0, no rank, for a word new to the dataset
	}
	x := textIndices(nil, words, ranks, t.NumWords)
	return data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: t.NumWords}, Int: x, Offsets: []int{0, len(x)}}, nil
}

// decodeImage decodes a PNG or JPEG of exactly w x h pixels into channels
// (1: grey, 3: RGB) per pixel, row by row, as float32 values 0..255. The
// size is checked from the header before the pixels are decoded, so a small
// file that claims a huge image costs nothing.
func decodeImage(name string, b []byte, w, h, channels int) ([]float32, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, dataErr(name, "not a PNG or JPEG image: %v", err)
	}
	if cfg.Width != w || cfg.Height != h {
		return nil, dataErr(name, "image is %dx%d, the model takes %dx%d", cfg.Width, cfg.Height, w, h)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, dataErr(name, "not a PNG or JPEG image: %v", err)
	}
	bd := img.Bounds()
	out := make([]float32, 0, w*h*channels)
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA() // 16-bit channels
			if channels == 1 {
				// ITU-R 601 luma, as image/color's Gray model.
				out = append(out, float32((19595*r+38470*g+7471*bl+1<<15)>>24))
			} else {
				out = append(out, float32(r>>8), float32(g>>8), float32(bl>>8))
			}
		}
	}
	return out, nil
}
