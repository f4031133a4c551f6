package pipeline

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// twoHeadSpec is a graph with two outputs: a classifier and a decoder that
// reconstructs the (noisy) input, with dropout and shuffling.
const twoHeadSpec = `name: two_heads
seed: 3
data:
  loader: mnist
  train_limit: 256
  test_limit: 64
  transforms:
    - scale: {divide: 255}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28]}
  layers:
    - flatten
    - dense: {units: 32, activation: relu}
      name: code
    - dropout: 0.2
    - dense: {units: 10, activation: softmax}
      name: class
    - dense: {units: 784, activation: sigmoid}
      name: decoded
      inputs: [code]
    - reshape: {target_shape: [28, 28]}
      name: image
  outputs:
    - {layer: class}
    - {layer: image, loss: mse, loss_weight: 2, target: input}
train:
  loss: categorical_crossentropy
  optimizer: adam
  batch_size: 32
  epochs: 2
evaluate: [loss, accuracy]
`

// loadSpecErr writes src to a file called name in a new temporary folder,
// so that errors and run directories have a spec file, and Loads it with
// sets.
func loadSpecErr(t *testing.T, name, src string, sets ...string) (*Plan, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path, sets...)
}

// loadSpec is loadSpecErr failing the test on an error.
func loadSpec(t *testing.T, name, src string, sets ...string) *Plan {
	t.Helper()
	p, err := loadSpecErr(t, name, src, sets...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoHeads: each output trains with its own loss and target; the
// reported loss is their weighted sum, each with a series of its own, and
// the metrics measure the first output. The run directory it writes
// opens again: pipe evaluate measures the same.
func TestTwoHeads(t *testing.T) {
	p := loadSpec(t, "two_heads.yaml", twoHeadSpec)
	if len(p.Heads) != 2 || p.Heads[0].Target != "label" || p.Heads[1].Target != "input" || p.Heads[1].Weight != 2 {
		t.Fatalf("heads %+v", p.Heads)
	}
	opt := Options{DataDir: testdata.Dir(t, "mnist"), RunsDir: t.TempDir()}
	res, err := Run(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if _, test, err := EvaluateRun(res.Dir, opt); err != nil || !reflect.DeepEqual(test, res.Test) {
		t.Errorf("evaluate %v, %v; the run measured %v", test, err, res.Test)
	}
	h := res.History
	class, image, total := h.Series("class_loss"), h.Series("image_loss"), h.Series("loss")
	if len(class) != 2 || len(image) != 2 {
		t.Fatalf("series: %v", h.Last())
	}
	if image[1] >= image[0] || class[1] >= class[0] {
		t.Errorf("a head did not learn: class %v, image %v", class, image)
	}
	// The total is the weighted sum of the heads' means, batch by batch, so
	// it matches on the epoch's means up to the last batch's weight.
	for i := range total {
		if want := class[i] + 2*image[i]; math.Abs(total[i]-want) > 1e-3*want {
			t.Errorf("epoch %d: loss %v, class + 2 * image = %v", i, total[i], want)
		}
	}
	if acc := h.Series("val_accuracy"); len(acc) != 2 || acc[1] < 0.3 {
		t.Errorf("accuracy of the class head %v", acc)
	}
}

// TestDenoisingTarget: with train.target: input and a noise transform, the
// model's labels are the clean input and its input the noisy copy.
func TestDenoisingTarget(t *testing.T) {
	src := `name: denoise
seed: 3
data:
  loader: mnist
  train_limit: 64
  test_limit: 16
  transforms:
    - scale: {divide: 255}
    - gaussian_noise: {stddev: 0.5, clip_min: 0, clip_max: 1}
model:
  input: {shape: [28, 28]}
  layers:
    - flatten
    - dense: {units: 784, activation: sigmoid}
    - reshape: {target_shape: [28, 28]}
train: {loss: mse, optimizer: adam, target: input}
`
	p := loadSpec(t, "denoise.yaml", src)
	if !p.InputInY || !slices.Equal(p.Y.Shape, []int{28, 28}) {
		t.Fatalf("labels %v, input in y %v", p.Y, p.InputInY)
	}
	ds, closer, err := p.Data(testdata.Dir(t, "mnist"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	x, y := ds.Train.X.Float, ds.Train.Y.Float
	differ := 0
	for i := range x {
		if y[i] < 0 || y[i] > 1 || x[i] < 0 || x[i] > 1 {
			t.Fatalf("values out of [0, 1]: x %v, y %v", x[i], y[i])
		}
		if x[i] != y[i] {
			differ++
		}
	}
	if differ < len(x)/2 {
		t.Errorf("only %d of %d inputs differ from their clean labels", differ, len(x))
	}
	// The clean labels are the scaled pixels: whole multiples of 1/255.
	for _, v := range y[:2000] {
		if r := v * 255; math.Abs(float64(r)-math.Round(float64(r))) > 1e-3 {
			t.Fatalf("label %v is not a clean pixel", v)
		}
	}
	// Prediction leaves the noise out: its inputs are the noisy ones.
	for _, tr := range p.inputTransforms() {
		if _, ok := tr.(interface{ Corrupts() }); ok {
			t.Error("predict applies the noise")
		}
	}
}
