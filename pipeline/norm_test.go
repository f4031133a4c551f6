package pipeline

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/rundir"
)

// normSpec is a small CNN with batch normalisation after its convolution
// and dropout, in two parts per batch (shards: 2).
const normSpec = `name: mnist_bn
seed: 7
data:
  loader: mnist
  train_limit: 256
  test_limit: 64
  transforms:
    - scale: {divide: 255}
    - reshape: {shape: [28, 28, 1]}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 4, kernel: 5, strides: 2}
    - batch_normalization: {momentum: 0.9}
    - activation: {activation: relu}
    - dropout: {rate: 0.25}
    - flatten
    - dense: {units: 10, activation: softmax}
train:
  loss: categorical_crossentropy
  optimizer: {name: adam}
  batch_size: 32
  shards: 2
  epochs: 3
  validation: test
evaluate: [loss, accuracy]
`

const (
	movingMean = "/batch_normalization/" + ops.StatePrefix + "moving_mean"
	movingVar  = "/batch_normalization/" + ops.StatePrefix + "moving_variance"
)

func varValues(t *testing.T, store *model.Store, path string) []float32 {
	t.Helper()
	v := store.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	return tensors.MustCopyFlatData[float32](v.MustValue())
}

// TestBatchNormSummary: Keras' summary counts the moving statistics as
// non-trainable params, in the layer's row and in the totals.
func TestBatchNormSummary(t *testing.T) {
	p := loadSpec(t, "mnist_bn.yaml", normSpec)
	var b strings.Builder
	p.WriteSummary(&b)
	// conv2d: 5·5·1·4 + 4 = 104; batch_normalization: 8 + 8; dense: 576·10 + 10.
	for _, want := range []string{
		" batch_normalization (batch_normalization)(None, 12, 12, 4)         16 ",
		"Total params: 5,890\nTrainable params: 5,882\nNon-trainable params: 8\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	if p.Params() != 5882 || p.NonTrainableParams() != 8 {
		t.Errorf("Params %d, NonTrainableParams %d; want 5882, 8", p.Params(), p.NonTrainableParams())
	}
}

// TestBatchNormRun trains the small CNN with batch normalisation for a few
// epochs, then checks that the moving statistics moved and stayed out of
// training, that evaluation uses them (an example's output does not depend
// on its batch, and differs from a training-mode pass), that the run's
// checkpoint carries them to predict's model, and that a run interrupted
// and resumed ends bit for bit as the uninterrupted one.
func TestBatchNormRun(t *testing.T) {
	dataDir := testdata.Dir(t, "mnist")
	p := loadSpec(t, "mnist_bn.yaml", normSpec)
	backend, ds := goBackendData(t, p, dataDir)
	epochs := p.Train.Epochs

	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Fit(&ds.Train, &ds.Test, epochs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mean, variance := varValues(t, m.store, movingMean), varValues(t, m.store, movingVar)
	if slices.Equal(mean, make([]float32, 4)) || slices.Contains(variance, 1) {
		t.Errorf("the moving statistics did not move: mean %v, variance %v", mean, variance)
	}
	for v := range m.store.IterVariables() {
		if ops.IsState(v.Path()) == v.Trainable && strings.HasPrefix(v.Path(), "/batch_normalization/") {
			t.Errorf("%s: trainable %v", v.Path(), v.Trainable)
		}
	}
	if m.store.GetVariable("/optimizer/batch_normalization/"+ops.StatePrefix+"moving_mean") != nil {
		t.Error("the optimizer has slots for the moving mean")
	}

	// Evaluation uses the moving statistics: the first example alone gets
	// the output it gets in a batch of 16 (up to the order of the
	// convolution's sums, which the batch size changes).
	batch := subset(&ds.Test, 16)
	all, err := m.Outputs(batch)
	if err != nil {
		t.Fatal(err)
	}
	one, err := m.Outputs(subset(&ds.Test, 1))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(one, all[:10]); d > 1e-5 {
		t.Errorf("inference output of example 0 alone %v, in a batch %v", one, all[:10])
	}

	// The run directory's checkpoint holds the statistics; predict's model
	// gives the outputs of the model in memory.
	runs := t.TempDir()
	dir, err := p.writeRun(Options{RunsDir: runs}, &Result{History: want, model: m}, "")
	if err != nil {
		t.Fatal(err)
	}
	run, err := rundir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := p.loadModel(run, "go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Outputs(batch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, all) {
		t.Errorf("outputs from the checkpoint differ from the model's in memory")
	}
	if g := varValues(t, loaded.store, movingMean); !slices.Equal(g, mean) {
		t.Errorf("checkpoint's moving mean %v, trained %v", g, mean)
	}
	// A training-mode pass on the same batch (batch statistics, dropout)
	// differs; on the checkpoint's copy, as it moves the statistics.
	train, err := model.NewExec(loaded.backend, loaded.store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		outs, _ := loaded.forward(scope, x, true)
		return outs[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.batchColumn(&batch.X, "x", seq(16)) // as the model takes it
	if err != nil {
		t.Fatal(err)
	}
	out, err := train.Call1(tensorOf(x))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(tensors.MustCopyFlatData[float32](out), all) {
		t.Error("a training-mode pass gives the evaluation's outputs")
	}

	// Interrupted in epoch 2 and resumed: the same history and statistics.
	m2 := checkResume(t, p, backend, ds, want, 3, 1, func(m2 *Model) {
		for _, path := range []string{movingMean, movingVar} {
			if v := m2.store.GetVariable(path); v == nil || v.Trainable {
				t.Errorf("%s after loading the checkpoint to resume: %v", path, v)
			}
		}
	})
	for _, path := range []string{movingMean, movingVar, "/batch_normalization/gamma", "/conv2d/kernel"} {
		if g, w := varValues(t, m2.store, path), varValues(t, m.store, path); !slices.Equal(g, w) {
			t.Errorf("%s: resumed %v, uninterrupted %v", path, g, w)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// subset is the first n examples of s.
func subset(s *data.Split, n int) *data.Split {
	idx := seq(n)
	return &data.Split{X: s.X.Take(idx), Y: s.Y.Take(idx)}
}

func seq(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
