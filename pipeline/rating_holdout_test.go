package pipeline

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/rundir"
)

// ratingVectorsSpec is I-AutoRec on 100 Jester users, small enough for a
// test: one example per joke, its vector of 100 users' ratings.
const ratingVectorsSpec = `name: autorec_val
seed: 4
data:
  loader: jester5k
  test_fraction: 0.3
  split_seed: 1
  sample_users: 100
  transforms:
    - rating_matrix: {by: item}
model:
  input: {shape: [100]}
  layers:
    - dense: {units: 20, activation: sigmoid}
    - dense: {units: 100}
train:
  loss: masked_mse
  optimizer: {name: adam, learning_rate: 0.01}
  batch_size: 16
  epochs: 3
  validation: 0.1
evaluate: [rmse]
`

// TestRatingVectorsValidation: train.validation: 0.1 on rating vectors
// holds out a tenth of the training ratings, not a tenth of the vectors:
// each held-out rating is missing from the training inputs (0) and
// targets (NaN), every other one is left as it was, and val_rmse is the
// RMSE of the trained model's predictions of exactly the held-out ones.
func TestRatingVectorsValidation(t *testing.T) {
	dir := testdata.Dir(t, "jester5k")
	p := dotPlan(t, ratingVectorsSpec)
	ds, closer, err := p.Data(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	rest, val := p.fitSplits(ds)
	orig := ds.Train
	if rest.Len() != orig.Len() || val.Len() != orig.Len() {
		t.Fatalf("%d training and %d validation vectors of %d: whole vectors were held out", rest.Len(), val.Len(), orig.Len())
	}
	observed, held := 0, 0
	for i, y := range orig.Y.Float {
		isNaN := func(v float32) bool { return math.IsNaN(float64(v)) }
		if !isNaN(y) {
			observed++
		}
		if val.X.Float[i] != rest.X.Float[i] {
			t.Fatalf("cell %d: validation input %g, training input %g: not the inputs the model trained on", i, val.X.Float[i], rest.X.Float[i])
		}
		if v := val.Y.Float[i]; !isNaN(v) {
			held++
			if v != y || rest.X.Float[i] != 0 || !isNaN(rest.Y.Float[i]) {
				t.Fatalf("held-out cell %d: rating %g, validation target %g, training input %g, training target %g", i, y, v, rest.X.Float[i], rest.Y.Float[i])
			}
			continue
		}
		if rest.X.Float[i] != orig.X.Float[i] || isNaN(rest.Y.Float[i]) != isNaN(y) || (!isNaN(y) && rest.Y.Float[i] != y) {
			t.Fatalf("cell %d not held out but changed: input %g -> %g, target %g -> %g", i, orig.X.Float[i], rest.X.Float[i], y, rest.Y.Float[i])
		}
	}
	if want := int(float64(observed) * 0.1); held != want || held == 0 {
		t.Fatalf("%d of %d training ratings held out, want %d", held, observed, want)
	}

	res, err := Train(p, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	out, err := res.model.Outputs(val)
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	for i, v := range val.Y.Float {
		if !math.IsNaN(float64(v)) {
			e := float64(out[i]) - float64(v)
			ss += e * e
		}
	}
	want := math.Sqrt(ss / float64(held))
	got := res.History.Series("val_rmse")
	if len(got) != 3 || math.Abs(got[2]-want) > 1e-4 {
		t.Errorf("val_rmse %v, want the held-out ratings' RMSE %.5f after the last epoch", got, want)
	}
	if math.Abs(got[2]-res.Test["rmse"]) < 1e-6 {
		t.Errorf("val_rmse %v is the test rmse", got[2])
	}
}

// TestRatingVectorsRunFiles: a run on rating vectors (I-AutoRec) writes
// its outputs as predictions.arrow rows, one per test vector (ONNX export
// is checked against them), and no classification report: a vector of
// ratings is no class.
func TestRatingVectorsRunFiles(t *testing.T) {
	dir := testdata.Dir(t, "jester5k")
	p, err := Load(filepath.Join("..", "specs", "cf", "jester5k_i_autorec.yaml"), "train.epochs=1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(p, Options{DataDir: dir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	if res.Predictions == nil || len(res.Predictions.Probabilities) != res.TestExamples || res.TestExamples == 0 {
		t.Errorf("predictions %v for %d test vectors", res.Predictions != nil, res.TestExamples)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, rundir.PredictionsFile)); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, rundir.ReportFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v; want no classification report for rating vectors", rundir.ReportFile, err)
	}
}
