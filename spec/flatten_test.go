package spec

import (
	"slices"
	"testing"
)

// TestFlatten lists a resolved spec's leaves at the paths --set takes:
// components as their kind with their params under them, plain lists
// whole.
func TestFlatten(t *testing.T) {
	src := `name: mnist_cnn
data:
  loader: mnist
  transforms:
    - scale: {divide: 255}
    - one_hot
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 3, kernel: [5, 5]}
    - dense:
train:
  optimizer:
    adadelta: {learning_rate: 1}
  early_stopping: {monitor: val_loss, patience: 3}
evaluate: [loss, accuracy]
golden: null
`
	got, err := Flatten([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Leaf{
		{"name", "mnist_cnn"},
		{"data.loader", "mnist"},
		{"data.transforms[0]", "scale"},
		{"data.transforms[0].divide", "255"},
		{"data.transforms[1]", "one_hot"},
		{"model.input.shape", "[28, 28, 1]"},
		{"model.layers[0]", "conv2d"},
		{"model.layers[0].filters", "3"},
		{"model.layers[0].kernel", "[5, 5]"},
		{"model.layers[1]", "dense"},
		{"train.optimizer", "adadelta"},
		{"train.optimizer.learning_rate", "1"},
		{"train.early_stopping.monitor", "val_loss"},
		{"train.early_stopping.patience", "3"},
		{"evaluate", "[loss, accuracy]"},
		{"golden", "null"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
	if _, err := Flatten([]byte("a: [")); err == nil {
		t.Error("invalid YAML: no error")
	}
}
