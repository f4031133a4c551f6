package onnx

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/spec"
)

// shapeLoader declares examples of any shape and loads nothing: the layer
// tests make their own inputs, and compiling a plan needs a loader.
type shapeLoader struct {
	XShape []int  `pipe:"x_shape,required,min=-1" doc:"one example's shape; [-1] for ragged sequences"`
	XType  string `pipe:"x_dtype,oneof=float32|int32" doc:"element type"`
	YShape []int  `pipe:"y_shape" doc:"one label's shape"`
}

func (l *shapeLoader) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.DType(l.XType), Shape: l.XShape}, data.Schema{DType: data.Float32, Shape: l.YShape}
}

func (l *shapeLoader) Load(string) (*data.Dataset, error) {
	return nil, errors.New("onnx_test_shapes makes no data")
}

func init() {
	loaders.Loaders.Register("onnx_test_shapes", "Examples of a declared shape, for the ONNX layer tests.",
		func() loaders.Loader { return &shapeLoader{XType: "float32"} })
}

// layerCase is a tiny plan that tests one layer's mapping (kind) with
// random weights and inputs against pipe's own Outputs.
type layerCase struct {
	name, kind string
	x          string // x_shape of the loader
	int        bool   // int32 examples, else float32
	transforms string // YAML list
	input      string // model.input.shape
	inputs     string // instead of input: model.inputs (YAML list)
	layers     string // YAML list
	out        string // the output shape (the loader's y_shape)
	lo, hi     int32  // integer inputs are drawn from [lo, hi)
}

// layerCases cover every mapping, and within one the variants that take
// different paths: padding, strides, layouts, with and without bias.
var layerCases = []layerCase{
	{name: "dense relu", kind: "dense", x: "[6]", input: "[6]", layers: "[{dense: {units: 4, activation: relu}}]", out: "[4]"},
	{name: "dense softmax no bias", kind: "dense", x: "[6]", input: "[6]", layers: "[{dense: {units: 5, activation: softmax, use_bias: false}}]", out: "[5]"},
	{name: "dense sigmoid tanh", kind: "dense", x: "[6]", input: "[6]", layers: "[{dense: {units: 4, activation: tanh}}, {dense: {units: 1, activation: sigmoid}}]", out: "[1]"},
	{name: "dropout", kind: "dropout", x: "[6]", input: "[6]", layers: "[{dropout: {rate: 0.5}}, {dense: {units: 3}}]", out: "[3]"},
	{name: "flatten", kind: "flatten", x: "[4, 5, 3]", input: "[4, 5, 3]", layers: "[flatten, {dense: {units: 3}}]", out: "[3]"},
	{name: "flatten after conv2d in channels-last order", kind: "flatten", x: "[6, 5, 2]", input: "[6, 5, 2]", layers: "[{conv2d: {filters: 3, kernel: 3}}, flatten, {dense: {units: 4}}]", out: "[4]"},
	{name: "clip", kind: "clip", x: "[6]", input: "[6]", layers: "[{dense: {units: 5}}, {clip: {min: -0.5, max: 0.25}}]", out: "[5]"},
	{name: "activation tanh", kind: "activation", x: "[6]", input: "[6]", layers: "[{activation: {activation: tanh}}]", out: "[6]"},
	{name: "activation softmax over channels", kind: "activation", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {activation: {activation: softmax}}]", out: "[3, 2, 3]"},
	{name: "conv2d valid relu", kind: "conv2d", x: "[8, 7, 3]", input: "[8, 7, 3]", layers: "[{conv2d: {filters: 4, kernel: 3, activation: relu}}]", out: "[6, 5, 4]"},
	{name: "conv2d same strides", kind: "conv2d", x: "[10, 8, 2]", input: "[10, 8, 2]", layers: "[{conv2d: {filters: 3, kernel: [5, 2], strides: [4, 3], padding: same, activation: sigmoid}}]", out: "[3, 3, 3]"},
	{name: "conv2d no bias, many filters", kind: "conv2d", x: "[7, 7, 5]", input: "[7, 7, 5]", layers: "[{conv2d: {filters: 16, kernel: 3, use_bias: false}}, {conv2d: {filters: 8, kernel: 2, padding: same, activation: tanh}}]", out: "[5, 5, 8]"},
	{name: "max_pool2d valid, cropped", kind: "max_pool2d", x: "[5, 7, 2]", input: "[5, 7, 2]", layers: "[{max_pool2d: {pool: 2}}]", out: "[2, 3, 2]"},
	{name: "max_pool2d same strides", kind: "max_pool2d", x: "[7, 6, 3]", input: "[7, 6, 3]", layers: "[{conv2d: {filters: 2, kernel: 2}}, {max_pool2d: {pool: 3, strides: 2, padding: same}}]", out: "[3, 3, 2]"},
	{name: "max_pool2d overlapping", kind: "max_pool2d", x: "[6, 8, 2]", input: "[6, 8, 2]", layers: "[{max_pool2d: {pool: [2, 3], strides: [1, 2]}}]", out: "[5, 3, 2]"},
	{name: "conv1d valid", kind: "conv1d", x: "[9, 3]", input: "[9, 3]", layers: "[{conv1d: {filters: 4, kernel: 3, activation: relu}}]", out: "[7, 4]"},
	{name: "conv1d same strides", kind: "conv1d", x: "[10, 2]", input: "[10, 2]", layers: "[{conv1d: {filters: 3, kernel: 5, strides: 4, padding: same, use_bias: false}}]", out: "[3, 3]"},
	{name: "conv2d dilated same", kind: "conv2d", x: "[9, 8, 2]", input: "[9, 8, 2]", layers: "[{conv2d: {filters: 3, kernel: 3, dilation_rate: 2, padding: same}}]", out: "[9, 8, 3]"},
	{name: "conv2d dilated valid", kind: "conv2d", x: "[9, 8, 2]", input: "[9, 8, 2]", layers: "[{conv2d: {filters: 3, kernel: [2, 3], dilation_rate: [3, 1], activation: relu}}]", out: "[6, 6, 3]"},
	{name: "conv1d dilated", kind: "conv1d", x: "[10, 2]", input: "[10, 2]", layers: "[{conv1d: {filters: 3, kernel: 3, dilation_rate: 2}}]", out: "[6, 3]"},
	{name: "conv2d_transpose same strides", kind: "conv2d_transpose", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{conv2d_transpose: {filters: 3, kernel: 3, strides: 2, padding: same, activation: relu}}]", out: "[8, 6, 3]"},
	{name: "conv2d_transpose valid, kernel below the stride", kind: "conv2d_transpose", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{conv2d_transpose: {filters: 3, kernel: [2, 3], strides: [3, 1]}}]", out: "[12, 5, 3]"},
	{name: "conv2d_transpose same output_padding", kind: "conv2d_transpose", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{conv2d_transpose: {filters: 3, kernel: [2, 4], strides: [3, 2], padding: same, output_padding: [2, 0], use_bias: false}}]", out: "[11, 4, 3]"},
	{name: "conv2d_transpose valid output_padding", kind: "conv2d_transpose", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{conv2d_transpose: {filters: 2, kernel: [3, 2], strides: [2, 3], output_padding: [1, 2]}}]", out: "[10, 10, 2]"},
	{name: "depthwise_conv2d same strides", kind: "depthwise_conv2d", x: "[7, 6, 3]", input: "[7, 6, 3]", layers: "[{depthwise_conv2d: {kernel: 3, strides: 2, padding: same, depth_multiplier: 2, activation: tanh}}]", out: "[4, 3, 6]"},
	{name: "depthwise_conv2d dilated", kind: "depthwise_conv2d", x: "[7, 6, 3]", input: "[7, 6, 3]", layers: "[{depthwise_conv2d: {kernel: 2, dilation_rate: [2, 3], use_bias: false}}]", out: "[5, 3, 3]"},
	{name: "separable_conv2d same strides", kind: "separable_conv2d", x: "[6, 7, 2]", input: "[6, 7, 2]", layers: "[{separable_conv2d: {filters: 3, kernel: [3, 2], strides: 2, padding: same, depth_multiplier: 2, activation: relu}}]", out: "[3, 4, 3]"},
	{name: "separable_conv2d then flatten", kind: "separable_conv2d", x: "[6, 5, 3]", input: "[6, 5, 3]", layers: "[{separable_conv2d: {filters: 2, kernel: 3, use_bias: false}}, flatten, {dense: {units: 2}}]", out: "[2]"},
	{name: "global_max_pool1d", kind: "global_max_pool1d", x: "[7, 3]", input: "[7, 3]", layers: "[global_max_pool1d]", out: "[3]"},
	{name: "global_max_pool1d after conv1d", kind: "global_max_pool1d", x: "[9, 3]", input: "[9, 3]", layers: "[{conv1d: {filters: 4, kernel: 3}}, global_max_pool1d, {dense: {units: 2}}]", out: "[2]"},
	{name: "average_pool2d same strides", kind: "average_pool2d", x: "[7, 6, 3]", input: "[7, 6, 3]", layers: "[{conv2d: {filters: 2, kernel: 2}}, {average_pool2d: {pool: 3, strides: 2, padding: same}}]", out: "[3, 3, 2]"},
	{name: "average_pool2d tiles, same", kind: "average_pool2d", x: "[5, 5, 2]", input: "[5, 5, 2]", layers: "[{average_pool2d: {pool: 2, padding: same}}]", out: "[3, 3, 2]"},
	{name: "max_pool1d same strides", kind: "max_pool1d", x: "[10, 2]", input: "[10, 2]", layers: "[{conv1d: {filters: 2, kernel: 2}}, {max_pool1d: {pool: 3, strides: 2, padding: same}}]", out: "[5, 2]"},
	{name: "average_pool1d same", kind: "average_pool1d", x: "[9, 3]", input: "[9, 3]", layers: "[{average_pool1d: {padding: same}}]", out: "[5, 3]"},
	{name: "global_max_pool2d keepdims", kind: "global_max_pool2d", x: "[5, 4, 3]", input: "[5, 4, 3]", layers: "[{conv2d: {filters: 2, kernel: 2}}, {global_max_pool2d: {keepdims: true}}]", out: "[1, 1, 2]"},
	{name: "global_average_pool2d", kind: "global_average_pool2d", x: "[5, 4, 3]", input: "[5, 4, 3]", layers: "[{conv2d: {filters: 2, kernel: 2}}, global_average_pool2d, {dense: {units: 2}}]", out: "[2]"},
	{name: "global_average_pool1d", kind: "global_average_pool1d", x: "[7, 3]", input: "[7, 3]", layers: "[{global_average_pool1d: {keepdims: true}}]", out: "[1, 3]"},
	{name: "spatial_dropout2d", kind: "spatial_dropout2d", x: "[4, 4, 2]", input: "[4, 4, 2]", layers: "[{spatial_dropout2d: {rate: 0.5}}]", out: "[4, 4, 2]"},
	{name: "spatial_dropout1d", kind: "spatial_dropout1d", x: "[5, 2]", input: "[5, 2]", layers: "[{spatial_dropout1d: {rate: 0.5}}]", out: "[5, 2]"},
	{name: "gaussian_noise", kind: "gaussian_noise", x: "[6]", input: "[6]", layers: "[{gaussian_noise: {stddev: 1}}, {dense: {units: 2}}]", out: "[2]"},
	{name: "embedding, ids out of range clamped", kind: "embedding", x: "[6]", int: true, input: "[6]", layers: "[{embedding: {input_dim: 10, output_dim: 4}}, flatten]", out: "[24]", lo: -3, hi: 13},
	{name: "embedding of float ids", kind: "embedding", x: "[5]", input: "[5]", layers: "[{embedding: {input_dim: 7, output_dim: 3}}]", out: "[5, 3]", lo: -2, hi: 9},
	{name: "lstm", kind: "lstm", x: "[7, 3]", input: "[7, 3]", layers: "[{lstm: {units: 5}}]", out: "[5]"},
	{name: "lstm sequences, no bias", kind: "lstm", x: "[6, 4]", input: "[6, 4]", layers: "[{lstm: {units: 3, return_sequences: true, use_bias: false}}, {lstm: {units: 2}}]", out: "[2]"},
	{name: "lstm after embedding", kind: "lstm", x: "[12]", int: true, input: "[12]", layers: "[{embedding: {input_dim: 20, output_dim: 4}}, {lstm: {units: 6}}, {dense: {units: 1, activation: sigmoid}}]", out: "[1]", lo: 0, hi: 20},
	// Layout layers, on values in either layout.
	{name: "zero_padding2d after conv2d", kind: "zero_padding2d", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {zero_padding2d: {padding: [[1, 2], [0, 3]]}}]", out: "[7, 6, 3]"},
	{name: "zero_padding2d of the input", kind: "zero_padding2d", x: "[3, 4, 2]", input: "[3, 4, 2]", layers: "[{zero_padding2d: {padding: 1}}, flatten, {dense: {units: 2}}]", out: "[2]"},
	{name: "zero_padding1d", kind: "zero_padding1d", x: "[5, 3]", input: "[5, 3]", layers: "[{zero_padding1d: {padding: [2, 1]}}, {conv1d: {filters: 2, kernel: 3}}, {zero_padding1d: {padding: 1}}]", out: "[8, 2]"},
	{name: "cropping2d after conv2d", kind: "cropping2d", x: "[7, 6, 2]", input: "[7, 6, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {cropping2d: {cropping: [[1, 2], [0, 1]]}}]", out: "[3, 4, 3]"},
	{name: "cropping2d of the input", kind: "cropping2d", x: "[6, 5, 2]", input: "[6, 5, 2]", layers: "[{cropping2d: {cropping: [2, 1]}}]", out: "[2, 3, 2]"},
	{name: "cropping1d", kind: "cropping1d", x: "[8, 3]", input: "[8, 3]", layers: "[{cropping1d: {cropping: [1, 2]}}, {conv1d: {filters: 2, kernel: 2}}, {cropping1d: {cropping: 1}}]", out: "[2, 2]"},
	{name: "upsampling2d nearest after conv2d", kind: "upsampling2d", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {upsampling2d: {size: [2, 3]}}]", out: "[6, 6, 3]"},
	{name: "upsampling2d bilinear", kind: "upsampling2d", x: "[4, 3, 2]", input: "[4, 3, 2]", layers: "[{upsampling2d: {size: [3, 2], interpolation: bilinear}}]", out: "[12, 6, 2]"},
	{name: "upsampling2d bilinear after conv2d", kind: "upsampling2d", x: "[4, 5, 2]", input: "[4, 5, 2]", layers: "[{conv2d: {filters: 2, kernel: 2}}, {upsampling2d: {size: 2, interpolation: bilinear}}]", out: "[6, 8, 2]"},
	{name: "upsampling1d", kind: "upsampling1d", x: "[4, 3]", input: "[4, 3]", layers: "[{upsampling1d: {size: 3}}, {conv1d: {filters: 2, kernel: 2}}, {upsampling1d: {size: 2}}]", out: "[22, 2]"},
	{name: "reshape after conv2d", kind: "reshape", x: "[4, 4, 2]", input: "[4, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 3}}, {reshape: {target_shape: [-1, 3]}}]", out: "[4, 3]"},
	{name: "reshape of dense to an image", kind: "reshape", x: "[6]", input: "[6]", layers: "[{dense: {units: 12}}, {reshape: {target_shape: [2, 3, 2]}}, {conv2d: {filters: 2, kernel: 2}}]", out: "[1, 2, 2]"},
	{name: "permute after conv2d", kind: "permute", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {permute: {dims: [3, 1, 2]}}]", out: "[3, 4, 3]"},
	{name: "repeat_vector", kind: "repeat_vector", x: "[4]", input: "[4]", layers: "[{dense: {units: 3}}, {repeat_vector: {n: 5}}]", out: "[5, 3]"},
	// Normalisation, with the moving statistics as inference uses them.
	{name: "batch_normalization after conv2d", kind: "batch_normalization", x: "[6, 5, 2]", input: "[6, 5, 2]", layers: "[{conv2d: {filters: 3, kernel: 3, padding: same}}, batch_normalization, {activation: relu}]", out: "[6, 5, 3]"},
	{name: "batch_normalization of dense, no scale", kind: "batch_normalization", x: "[6]", input: "[6]", layers: "[{dense: {units: 4}}, {batch_normalization: {scale: false, epsilon: 0.01}}]", out: "[4]"},
	{name: "batch_normalization over rows, no center", kind: "batch_normalization", x: "[4, 5, 3]", input: "[4, 5, 3]", layers: "[{conv2d: {filters: 2, kernel: 1}}, {batch_normalization: {axis: 1, center: false}}]", out: "[4, 5, 2]"},
	{name: "layer_normalization of a sequence", kind: "layer_normalization", x: "[5, 4]", input: "[5, 4]", layers: "[layer_normalization, {dense: {units: 2}}]", out: "[5, 2]"},
	{name: "layer_normalization after conv2d", kind: "layer_normalization", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {layer_normalization: {epsilon: 0.1}}]", out: "[4, 3, 3]"},
	{name: "layer_normalization over rows, no center", kind: "layer_normalization", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}}, {layer_normalization: {axis: 1, center: false}}]", out: "[4, 3, 3]"},
	// Activation layers and every activation name.
	{name: "leaky_relu", kind: "leaky_relu", x: "[6]", input: "[6]", layers: "[{leaky_relu: {alpha: 0.1}}]", out: "[6]"},
	{name: "elu", kind: "elu", x: "[6]", input: "[6]", layers: "[{elu: {alpha: 0.5}}]", out: "[6]"},
	{name: "relu", kind: "relu", x: "[6]", input: "[6]", layers: "[relu]", out: "[6]"},
	{name: "relu with threshold, slope and max_value", kind: "relu", x: "[8]", input: "[8]", layers: "[{relu: {max_value: 1.5, negative_slope: 0.2, threshold: -0.5}}]", out: "[8]"},
	{name: "relu capped", kind: "relu", x: "[6]", input: "[6]", layers: "[{relu: {max_value: 0.5}}]", out: "[6]"},
	{name: "activations elu selu gelu swish", kind: "activation", x: "[6]", input: "[6]", layers: "[{activation: elu}, {dense: {units: 6, activation: selu}}, {activation: gelu}, {dense: {units: 5, activation: swish}}, {activation: silu}]", out: "[5]"},
	{name: "activations softplus softsign hard_sigmoid", kind: "activation", x: "[6]", input: "[6]", layers: "[{activation: softplus}, {dense: {units: 6, activation: softsign}}, {activation: hard_sigmoid}, {dense: {units: 4, activation: leaky_relu}}]", out: "[4]"},
	{name: "activations exponential relu6 after conv2d", kind: "activation", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 2, activation: exponential}}, {activation: relu6}]", out: "[4, 3, 3]"},
	// Graphs: merges, in both layouts, and a shared layer.
	{name: "add of a residual block", kind: "add", x: "[6, 5, 2]", input: "[6, 5, 2]", layers: "[{conv2d: {filters: 3, kernel: 3, padding: same}, name: c1}, {conv2d: {filters: 3, kernel: 3, padding: same}, name: c2}, batch_normalization, {add: null, inputs: [c1, batch_normalization]}, {activation: relu}]", out: "[6, 5, 3]"},
	{name: "add of the input and a convolution", kind: "add", x: "[5, 4, 3]", input: "[5, 4, 3]", layers: "[{conv2d: {filters: 3, kernel: 3, padding: same}}, {add: null, inputs: [input, conv2d]}]", out: "[5, 4, 3]"},
	{name: "subtract multiply", kind: "subtract", x: "[6]", input: "[6]", layers: "[{dense: {units: 4}, name: a}, {dense: {units: 4}, name: b, inputs: [input]}, {subtract: null, inputs: [a, b]}, {multiply: null, inputs: [a, subtract]}]", out: "[4]"},
	{name: "multiply", kind: "multiply", x: "[6]", input: "[6]", layers: "[{dense: {units: 3}, name: a}, {multiply: null, inputs: [a, a]}]", out: "[3]"},
	{name: "average of three", kind: "average", x: "[6]", input: "[6]", layers: "[{dense: {units: 4}, name: a}, {dense: {units: 4}, name: b, inputs: [input]}, {dense: {units: 4}, name: c, inputs: [input]}, {average: null, inputs: [a, b, c]}]", out: "[4]"},
	{name: "maximum minimum", kind: "maximum", x: "[6]", input: "[6]", layers: "[{dense: {units: 4}, name: a}, {dense: {units: 4}, name: b, inputs: [input]}, {maximum: null, inputs: [a, b]}, {minimum: null, inputs: [maximum, b], name: min}]", out: "[4]"},
	{name: "minimum", kind: "minimum", x: "[6]", input: "[6]", layers: "[{dense: {units: 6}, name: a}, {minimum: null, inputs: [a, input]}]", out: "[6]"},
	{name: "concatenate channels of two convolutions", kind: "concatenate", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 3, kernel: 2}, name: a}, {conv2d: {filters: 2, kernel: 2}, name: b, inputs: [input]}, {concatenate: null, inputs: [a, b]}, flatten, {dense: {units: 3}}]", out: "[3]"},
	{name: "concatenate rows of the input and a convolution", kind: "concatenate", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 2, kernel: [2, 1]}}, {concatenate: {axis: 1}, inputs: [input, conv2d]}]", out: "[9, 4, 2]"},
	{name: "concatenate rows of two convolutions", kind: "concatenate", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 2, kernel: 2}, name: a}, {conv2d: {filters: 2, kernel: [3, 2]}, name: b, inputs: [input]}, {concatenate: {axis: 1}, inputs: [a, b]}]", out: "[7, 3, 2]"},
	{name: "two inputs, columns of the examples", kind: "", x: "[6]", inputs: "[{name: a, shape: [2], columns: [0, 2]}, {name: b, shape: [4], columns: [2, 6]}]", layers: "[{dense: {units: 3}, inputs: [a], name: da}, {dense: {units: 3}, inputs: [b], name: db}, {add: null, inputs: [da, db]}]", out: "[3]"},
	{name: "user and item ids, as NeuMF", kind: "", x: "[2]", int: true, inputs: "[{name: user, shape: [1], columns: [0, 1]}, {name: item, shape: [1], columns: [1, 2]}]", layers: "[{embedding: {input_dim: 5, output_dim: 3}, inputs: [user], name: u}, {flatten: {}, name: uv}, {embedding: {input_dim: 6, output_dim: 3}, inputs: [item], name: i}, {flatten: {}, name: iv}, {multiply: null, inputs: [uv, iv]}, {concatenate: null, inputs: [multiply, uv]}, {dense: {units: 1}}]", out: "[1]", lo: 0, hi: 5},
	{name: "dot of two vectors", kind: "dot", x: "[6]", input: "[6]", layers: "[{dense: {units: 4}, name: a}, {dense: {units: 4}, name: b, inputs: [input]}, {dot: {axes: [1]}, inputs: [a, b]}]", out: "[1]"},
	{name: "dot normalized, of a sequence and a vector", kind: "dot", x: "[5, 3]", input: "[5, 3]", layers: "[{dense: {units: 4}, name: s}, flatten, {dense: {units: 4}, name: v}, {dot: {axes: [2, 1], normalize: true}, inputs: [s, v]}]", out: "[5]"},
	{name: "dot over rows of two convolutions", kind: "dot", x: "[5, 4, 2]", input: "[5, 4, 2]", layers: "[{conv2d: {filters: 2, kernel: 2}, name: a}, {conv2d: {filters: 3, kernel: [2, 1]}, name: b, inputs: [input]}, {dot: {axes: [1]}, inputs: [a, b]}]", out: "[3, 2, 4, 3]"},
	{name: "a shared dense layer", kind: "dense", x: "[4]", input: "[4]", layers: "[{dense: {units: 4, activation: tanh}, name: d}, {shares: d, name: again}]", out: "[4]"},
	{name: "gru", kind: "gru", x: "[7, 3]", input: "[7, 3]", layers: "[{gru: {units: 5}}]", out: "[5]"},
	{name: "gru sequences, reset before, no bias", kind: "gru", x: "[6, 4]", input: "[6, 4]", layers: "[{gru: {units: 3, return_sequences: true, reset_after: false}}, {gru: {units: 2, reset_after: false, use_bias: false}}]", out: "[2]"},
	{name: "simple_rnn", kind: "simple_rnn", x: "[7, 3]", input: "[7, 3]", layers: "[{simple_rnn: {units: 4}}]", out: "[4]"},
	{name: "simple_rnn relu sequences", kind: "simple_rnn", x: "[6, 2]", input: "[6, 2]", layers: "[{simple_rnn: {units: 3, activation: relu, return_sequences: true}}, {simple_rnn: {units: 2, activation: sigmoid, use_bias: false}}]", out: "[2]"},
	{name: "bidirectional lstm", kind: "bidirectional", x: "[7, 3]", input: "[7, 3]", layers: "[{bidirectional: {layer: {lstm: {units: 4}}}}]", out: "[8]"},
	{name: "bidirectional lstm sequences", kind: "bidirectional", x: "[6, 3]", input: "[6, 3]", layers: "[{bidirectional: {layer: {lstm: {units: 3, return_sequences: true}}}}, {dense: {units: 2}}]", out: "[6, 2]"},
	{name: "bidirectional gru sum sequences", kind: "bidirectional", x: "[6, 3]", input: "[6, 3]", layers: "[{bidirectional: {layer: {gru: {units: 3, return_sequences: true}}, merge_mode: sum}}]", out: "[6, 3]"},
	{name: "bidirectional simple_rnn ave, gru mul", kind: "bidirectional", x: "[5, 2]", input: "[5, 2]", layers: "[{bidirectional: {layer: {simple_rnn: {units: 3, activation: relu, return_sequences: true}}, merge_mode: ave}}, {bidirectional: {layer: {gru: {units: 2, reset_after: false}}, merge_mode: mul}}]", out: "[2]"},
	// Attention and the position embeddings.
	{name: "position_embedding", kind: "position_embedding", x: "[5, 3]", input: "[5, 3]", layers: "[position_embedding]", out: "[5, 3]"},
	{name: "token_and_position_embedding", kind: "token_and_position_embedding", x: "[6]", int: true, input: "[6]", layers: "[{token_and_position_embedding: {vocab_size: 9, maxlen: 10, embed_dim: 4}}]", out: "[6, 4]", lo: -2, hi: 12},
	{name: "multi_head_attention, self", kind: "multi_head_attention", x: "[5, 4]", input: "[5, 4]", layers: "[{multi_head_attention: {num_heads: 2, key_dim: 3}}]", out: "[5, 4]"},
	{name: "multi_head_attention causal, no bias, value_dim and output_shape", kind: "multi_head_attention", x: "[5, 4]", input: "[5, 4]", layers: "[{multi_head_attention: {num_heads: 3, key_dim: 2, value_dim: 5, output_shape: 6, use_bias: false, use_causal_mask: true}}]", out: "[5, 6]"},
	{name: "multi_head_attention, query, value and key", kind: "multi_head_attention", x: "[6, 3]", input: "[6, 3]", layers: "[{dense: {units: 4}, name: q}, {conv1d: {filters: 2, kernel: 2}, name: v, inputs: [input]}, {conv1d: {filters: 3, kernel: 2}, name: k, inputs: [input]}, {multi_head_attention: {num_heads: 2, key_dim: 3}, inputs: [q, v, k]}]", out: "[6, 4]"},
	{name: "a transformer block", kind: "multi_head_attention", x: "[7]", int: true, input: "[7]", layers: "[{token_and_position_embedding: {vocab_size: 20, maxlen: 7, embed_dim: 4}, name: emb}, {multi_head_attention: {num_heads: 2, key_dim: 4}}, {add: null, inputs: [emb, multi_head_attention]}, {layer_normalization: {epsilon: 1.0e-6}}, global_average_pool1d, {dense: {units: 2, activation: softmax}}]", out: "[2]", lo: 0, hi: 20},
	{name: "time_distributed dense", kind: "time_distributed", x: "[5, 3]", input: "[5, 3]", layers: "[{time_distributed: {layer: {dense: {units: 4, activation: tanh}}}}]", out: "[5, 4]"},
	{name: "time_distributed conv2d over frames", kind: "time_distributed", x: "[3, 5, 4, 2]", input: "[3, 5, 4, 2]", layers: "[{time_distributed: {layer: {conv2d: {filters: 2, kernel: 2}}}}, {time_distributed: {layer: flatten}}, {lstm: {units: 3}}]", out: "[3]"},
	// GLocal-K's layers.
	{name: "kernel_dense", kind: "kernel_dense", x: "[6]", input: "[6]", layers: "[{kernel_dense: {units: 4, dim: 2, activation: sigmoid}}]", out: "[4]"},
	{name: "kernel_dense on rows, no bias, shared", kind: "kernel_dense", x: "[4, 6]", input: "[4, 6]", layers: "[{kernel_dense: {units: 6, dim: 3, use_bias: false}, name: k}, {shares: k, name: again}]", out: "[4, 6]"},
	{name: "global_kernel_conv", kind: "global_kernel_conv", x: "[5, 6]", input: "[5, 6]", layers: "[{kernel_dense: {units: 6, dim: 2}, name: recon}, {global_kernel_conv: {size: 3, dot_scale: 0.5}, inputs: [input, recon]}]", out: "[5, 6]"},
	// The input transforms in the graph.
	{name: "scale and reshape", kind: "", x: "[12]", transforms: "[{scale: {divide: 255, subtract: 3}}, {reshape: {shape: [2, -1, 3]}}]", input: "[2, 2, 3]", layers: "[flatten]", out: "[12]", lo: 0, hi: 256},
	{name: "one_hot of x", kind: "", x: "[4]", int: true, transforms: "[{one_hot: {classes: 5, on: x}}]", input: "[4, 5]", layers: "[flatten, {dense: {units: 3}}]", out: "[3]", lo: 0, hi: 5},
	{name: "pad_sequences pre", kind: "", x: "[-1]", int: true, transforms: "[{pad_sequences: {maxlen: 6}}]", input: "[6]", layers: "[{embedding: {input_dim: 9, output_dim: 2}}, flatten]", out: "[12]", lo: 1, hi: 9},
	{name: "pad_sequences post with a value", kind: "", x: "[-1]", int: true, transforms: "[{pad_sequences: {maxlen: 5, padding: post, truncating: post, value: 2}}]", input: "[5]", layers: "[{embedding: {input_dim: 9, output_dim: 2}}, flatten]", out: "[10]", lo: 3, hi: 9},
}

// compileCase writes the case's spec and compiles it.
func compileCase(t *testing.T, c layerCase) *pipeline.Plan {
	t.Helper()
	transforms := c.transforms
	if transforms == "" {
		transforms = "[]"
	}
	input := fmt.Sprintf("input: {shape: %s}", c.input)
	if c.inputs != "" {
		input = "inputs: " + c.inputs
	}
	dtype := "float32"
	if c.int {
		dtype = "int32"
	}
	src := fmt.Sprintf(`name: onnx_layer
seed: 7
data:
  loader: onnx_test_shapes
  x_shape: %s
  x_dtype: %s
  y_shape: %s
  transforms: %s
model:
  %s
  layers: %s
train: {loss: mse, optimizer: sgd, batch_size: 4, epochs: 1}
`, c.x, dtype, c.out, transforms, input, c.layers)
	path := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := pipeline.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return plan
}

// randomExamples draws n raw examples of schema: floats in [-2, 2), or
// integers in [lo, hi) (as floats where the schema is float, when hi > 0,
// plus a fraction so that float ids are truncated); a ragged schema gets
// sequences of 1 to 10 elements.
func randomExamples(r *rand.Rand, s data.Schema, n int, lo, hi int32) data.Array {
	a := data.Array{Schema: s}
	size := data.Elements(s.Shape)
	if slices.Contains(s.Shape, -1) {
		a.Offsets = []int{0}
		for range n {
			a.Offsets = append(a.Offsets, a.Offsets[len(a.Offsets)-1]+1+r.IntN(10))
		}
		size, n = a.Offsets[n], 1
	}
	for range n * size {
		switch {
		case s.DType == data.Int32:
			a.Int = append(a.Int, lo+r.Int32N(hi-lo))
		case hi > 0:
			a.Float = append(a.Float, float32(lo+r.Int32N(hi-lo))+0.25)
		default:
			a.Float = append(a.Float, float32(r.Float64()*4-2))
		}
	}
	return a
}

// feeds are the ONNX Runtime runs for raw examples a: one run with the
// whole batch, or one per example of a ragged column (each its own length).
func feeds(a data.Array) []map[string]ortFeed {
	feed := func(b data.Array, dims ...int) map[string]ortFeed {
		switch b.DType {
		case data.Int32:
			return map[string]ortFeed{inputName: intFeed(b.Int, dims...)}
		case data.Uint8: // stored pixels: the exported graph takes them as floats 0..255
			f := make([]float32, len(b.Bytes))
			for i, v := range b.Bytes {
				f[i] = float32(v)
			}
			return map[string]ortFeed{inputName: floatFeed(f, dims...)}
		}
		return map[string]ortFeed{inputName: floatFeed(b.Float, dims...)}
	}
	if !a.Ragged() {
		return []map[string]ortFeed{feed(a, append([]int{a.Len()}, a.Shape...)...)}
	}
	var out []map[string]ortFeed
	for i := range a.Len() {
		e := a.Slice(i, i+1)
		out = append(out, feed(e, 1, e.Offsets[1]))
	}
	return out
}

// TestExportLayers exports each case's plan with random weights and
// compares ONNX Runtime's outputs on random raw inputs with pipe's own.
func TestExportLayers(t *testing.T) {
	ort := newORT(t)
	backend, err := pipeline.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	for i, c := range layerCases {
		t.Run(c.name, func(t *testing.T) {
			plan := compileCase(t, c)
			r := rand.New(rand.NewPCG(uint64(i), 1))
			loaderX, loaderY := plan.Loader.Schemas()
			const n = 5
			raw := randomExamples(r, loaderX, n, c.lo, c.hi)
			ds := &data.Dataset{Test: data.Split{X: raw, Y: data.Array{Schema: loaderY, Float: make([]float32, n*data.Elements(loaderY.Shape))}}}
			ds.Train = ds.Test
			if err := loaders.Apply(plan.Steps[:plan.BatchFrom], ds); err != nil { // the batch steps run in Outputs
				t.Fatal(err)
			}
			m, err := pipeline.NewModel(plan, backend)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Outputs(&ds.Test); err != nil { // creates the variables
				t.Fatal(err)
			}
			randomWeights(t, r, m, plan)
			want, err := m.Outputs(&ds.Test)
			if err != nil {
				t.Fatal(err)
			}
			mp, err := Stack(plan, m.Store(), Meta{})
			if err != nil {
				t.Fatal(err)
			}
			var got []float64
			for _, run := range ort.run(t, mp, feeds(raw)) {
				y := run[outputName]
				if want := append([]int{y.Dims[0]}, plan.Output()...); !slices.Equal(y.Dims, want) {
					t.Fatalf("output shape %v, want %v", y.Dims, want)
				}
				got = append(got, y.Data...)
			}
			d := maxDiff(t, got, want)
			t.Logf("largest difference %.2g", d)
			if d > 1e-5 {
				t.Errorf("ONNX Runtime and pipe differ by %g (more than 1e-5)\nonnx %v\npipe %v", d, got, want)
			}
		})
	}
}

// randomWeights gives every variable of the plan's layers values in
// [-0.5, 0.5): biases too, which start at zero; moving variances, which
// must be positive, in [0.1, 1.1).
func randomWeights(t *testing.T, r *rand.Rand, m *pipeline.Model, plan *pipeline.Plan) {
	t.Helper()
	set := 0
	for v := range m.Store().IterVariables() {
		if !slices.ContainsFunc(plan.Stages, func(st ops.Stage) bool { return strings.HasPrefix(v.Path(), "/"+st.Name+"/") }) {
			continue
		}
		dims := v.Shape().Dimensions
		vals := make([]float32, data.Elements(dims))
		variance := strings.HasSuffix(v.Path(), "moving_variance") // must be positive
		for i := range vals {
			vals[i] = float32(r.Float64() - 0.5)
			if variance {
				vals[i] += 0.6
			}
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, dims...)); err != nil {
			t.Fatal(err)
		}
		set++
	}
	if set == 0 && plan.Params() > 0 {
		t.Fatal("no layer variable found in the store")
	}
}

// TestExportEveryLayerMapped: each registered layer has an ONNX mapping with a
// runtime test case, or an explicit mark with the reason it cannot be
// exported; and no mapping is left for a layer that is gone.
func TestExportEveryLayerMapped(t *testing.T) {
	tested := map[string]bool{}
	for _, c := range layerCases {
		tested[c.kind] = true
	}
	for _, name := range ops.Layers.Names() {
		_, mapped := mappings[name]
		mapped = mapped || merges[name] != nil
		reason, marked := notExportable[name]
		switch {
		case mapped && marked:
			t.Errorf("layer %s is both mapped and marked not exportable", name)
		case mapped && !tested[name]:
			t.Errorf("layer %s has an ONNX mapping but no case in layerCases", name)
		case marked && strings.TrimSpace(reason) == "":
			t.Errorf("layer %s is marked not exportable without a reason", name)
		case !mapped && !marked:
			t.Errorf("layer %s has neither an ONNX mapping nor a not-exportable mark with a reason (onnx.notExportable)", name)
		}
	}
	for _, name := range Mapped() {
		if !slices.Contains(ops.Layers.Names(), name) {
			t.Errorf("mapping for %s, which is not a registered layer", name)
		}
	}
}

// TestExportEveryRatingModel: each registered rating model is exported or
// says why not.
func TestExportEveryRatingModel(t *testing.T) {
	for _, name := range recsys.Models.Names() {
		if mappedModels[name] == (notExportableModels[name] != "") {
			t.Errorf("rating model %s: mapped %v, not-exportable reason %q: want exactly one", name, mappedModels[name], notExportableModels[name])
		}
	}
}

// TestExportUnmappedLayer: a layer without a mapping, or marked not
// exportable, fails the export with an error at its spec position that
// names it (and the reason), before any file is made.
func TestExportUnmappedLayer(t *testing.T) {
	plan := compileCase(t, layerCases[6]) // dense, clip
	saved := mappings["clip"]
	t.Cleanup(func() { mappings["clip"] = saved; delete(notExportable, "clip") })

	check := func(want ...string) {
		t.Helper()
		m, err := Stack(plan, nil, Meta{})
		var u *UnsupportedError
		var se *spec.Error
		if m != nil || !errors.As(err, &u) || !errors.As(err, &se) {
			t.Fatalf("got %v, %v; want an UnsupportedError with a spec position", m, err)
		}
		for _, w := range append(want, "spec.yaml:", "model.layers[1]") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	}
	delete(mappings, "clip")
	check("layer clip (clip) has no ONNX mapping", "dense")
	notExportable["clip"] = "a reason given by the mark"
	check("layer clip (clip) cannot be exported to ONNX: a reason given by the mark")
}

// TestExportCheckpointMismatch: weights that do not fit the spec (a checkpoint
// of another model) are an error naming the variable, not a panic or a
// graph that reads the wrong weights.
func TestExportCheckpointMismatch(t *testing.T) {
	backend, err := pipeline.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	m, err := pipeline.NewModel(compileCase(t, layerCases[0]), backend) // dense: 4 units
	if err != nil {
		t.Fatal(err)
	}
	x := data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{6}}, Float: make([]float32, 6)}
	if _, err := m.Outputs(&data.Split{X: x}); err != nil {
		t.Fatal(err)
	}
	other := layerCases[0]
	other.layers, other.out = "[{dense: {units: 3, activation: relu}}]", "[3]"
	_, err = Stack(compileCase(t, other), m.Store(), Meta{})
	if err == nil || !strings.Contains(err.Error(), "/dense/kernel has shape [6 4], the spec gives [6 3]") {
		t.Errorf("got %v, want an error about /dense/kernel's shape", err)
	}
}

// TestExportSeveralOutputs: a model of two outputs exports with y_<layer>
// for each, and each matches pipe's output of that layer: the first as
// the two-output model gives it, the second as a model with only that
// output gives it on the same weights.
func TestExportSeveralOutputs(t *testing.T) {
	ort := newORT(t)
	backend, err := pipeline.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	const features = `
    - conv2d: {filters: 3, kernel: 2}
      name: features
    - conv2d: {filters: 3, kernel: 1}
      inputs: [features]
    - global_max_pool2d:
      name: pooled`
	spec := func(layers, outputs string) *pipeline.Plan {
		src := `name: two_outputs
data: {loader: onnx_test_shapes, x_shape: [5, 4, 2], y_shape: [3]}
model:
  input: {shape: [5, 4, 2]}
  layers:` + layers + `
  outputs: ` + outputs + `
train: {loss: mse, optimizer: sgd, batch_size: 4, epochs: 1}
`
		path := filepath.Join(t.TempDir(), "spec.yaml")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		plan, err := pipeline.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return plan
	}
	both := spec(features+`
    - flatten:
      inputs: [features]
    - dense: {units: 3, activation: softmax}
      name: class`, "[{layer: class}, {layer: pooled}]")
	second := spec(features, "[{layer: pooled}]")
	r := rand.New(rand.NewPCG(9, 1))
	loaderX, _ := both.Loader.Schemas()
	const n = 4
	raw := randomExamples(r, loaderX, n, 0, 0)
	split := data.Split{X: raw, Y: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{3}}, Float: make([]float32, n*3)}}
	outputs := func(plan *pipeline.Plan, from *pipeline.Model) (*pipeline.Model, []float32) {
		m, err := pipeline.NewModel(plan, backend)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Outputs(&split); err != nil { // creates the variables
			t.Fatal(err)
		}
		if from == nil {
			randomWeights(t, r, m, plan)
		} else {
			for v := range m.Store().IterVariables() {
				w := from.Store().GetVariable(v.Path())
				if w == nil {
					continue
				}
				val, err := w.Value()
				if err != nil {
					t.Fatal(err)
				}
				if err := v.SetValue(val); err != nil {
					t.Fatal(err)
				}
			}
		}
		y, err := m.Outputs(&split)
		if err != nil {
			t.Fatal(err)
		}
		return m, y
	}
	m, class := outputs(both, nil)
	_, pooled := outputs(second, m)
	mp, err := Stack(both, m.Store(), Meta{})
	if err != nil {
		t.Fatal(err)
	}
	run := ort.run(t, mp, feeds(raw))[0]
	for name, want := range map[string][]float32{"y_class": class, "y_pooled": pooled} {
		got, ok := run[name]
		if !ok {
			t.Fatalf("no output %s among %d", name, len(run))
		}
		if d := maxDiff(t, got.Data, want); d > 1e-5 {
			t.Errorf("%s: ONNX Runtime and pipe differ by %g", name, d)
		}
	}
}
