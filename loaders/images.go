package loaders

import (
	_ "image/jpeg" // pipe predict accepts JPEG
	_ "image/png"  // and PNG images
	"os"

	"github.com/pipe-ml/pipe/data"
)

// InputDecoder is a loader that can turn a file a user gives to
// `pipe predict` into one example of its raw features, before transforms.
// dataDir is there for what the decoding needs from the dataset (a
// vocabulary).
type InputDecoder interface {
	DecodeInput(dataDir, path string) (data.Array, error)
}

// DecodeInput reads a 28x28 image as MNIST's raw pixels (grey levels 0..255).
func (*MNIST) DecodeInput(_, path string) (data.Array, error) {
	px, err := readImage(path, 28, 28, 1)
	return data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{28, 28}}, Float: px}, err
}

// DecodeInput reads a 32x32 image as CIFAR-10's raw pixels (RGB 0..255, HWC).
func (*CIFAR10) DecodeInput(_, path string) (data.Array, error) {
	px, err := readImage(path, cifarSide, cifarSide, 3)
	return data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{cifarSide, cifarSide, 3}}, Float: px}, err
}

// readImage decodes a PNG or JPEG of exactly w x h pixels into channels
// (1: grey, 3: RGB) per pixel, row by row, as float32 values 0..255.
func readImage(path string, w, h, channels int) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	return decodeImage(path, b, w, h, channels)
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
