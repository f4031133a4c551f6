package ops_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// weightsSpec uses chosen initializers, regularizers, activations and the
// scalar shorthand on a small MNIST model.
const weightsSpec = `
name: weights
seed: 3
data:
  loader: mnist
  train_limit: 1024
  test_limit: 256
  transforms:
    - scale: {divide: 255}
    - reshape: {shape: [28, 28, 1]}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 4, kernel: 3, activation: elu, kernel_initializer: he_uniform, bias_regularizer: {l1: 0.001}}
    - max_pool2d: {pool: 2}
    - flatten
    - dense: {units: 32, kernel_initializer: he_normal, kernel_regularizer: {l2: 0.0001}, bias_initializer: {constant: 0.01}}
    - leaky_relu
    - dropout: 0.25
    - dense: {units: 10, activation: softmax, kernel_initializer: {random_normal: {stddev: 0.01}}}
train:
  loss: categorical_crossentropy
  optimizer: {name: adam, learning_rate: 0.003}
  batch_size: 64
  epochs: 2
evaluate: [loss, accuracy]
`

// TestWeightsSpecTrains compiles and trains a spec that chooses its
// initializers and regularizers: the loss falls and the digits are learnt.
func TestWeightsSpecTrains(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	s, err := spec.Parse("weights.yaml", []byte(weightsSpec))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Run(p, pipeline.Options{DataDir: data, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	loss := res.History.Values[0]
	if len(loss) != 2 || !(loss[1] < loss[0]) {
		t.Errorf("training loss should fall over two epochs: %v", loss)
	}
	if acc := res.Test["accuracy"]; acc < 0.6 {
		t.Errorf("test accuracy %.3f after 2 epochs on 1,024 digits; want > 0.6", acc)
	}
}

// TestWeightsSpecErrors: l2 beside kernel_regularizer is a compile error
// at the layer.
func TestWeightsSpecErrors(t *testing.T) {
	src := strings.Replace(weightsSpec, "kernel_regularizer: {l2: 0.0001}", "kernel_regularizer: {l2: 0.0001}, l2: 0.001", 1)
	s, err := spec.Parse("weights.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Compile(s)
	if err == nil || !strings.Contains(err.Error(), "weights.yaml:18:7: model.layers[3]: dense: l2 is a shorthand for kernel_regularizer") {
		t.Errorf("l2 with kernel_regularizer: %v", err)
	}
}
