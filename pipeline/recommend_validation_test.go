package pipeline

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestRecommenderValidationSeries: a model without epochs (k-NN) held to
// train.validation: 0.1 gets val_rmse and val_mae, one value each, the
// metrics of its predictions for the held-out ratings, which a nested
// sweep chooses by; with the default validation (the test split) its
// history stays empty.
func TestRecommenderValidationSeries(t *testing.T) {
	dir := testdata.Dir(t, "ml-100k")
	src := `name: knn_val
seed: 1
data:
  loader: ml100k
  split: {kind: blocks, k: 5, fold: 0}
model:
  name: knn_with_means
  k: 20
evaluate: [rmse, mae]
`
	held := dotPlan(t, src+"train: {validation: 0.1}\n")
	res, err := Run(held, Options{DataDir: dir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ds, closer, err := held.Data(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	_, val := held.fitSplits(ds)
	pred, _, err := res.fitted.Predict(&val.X)
	if err != nil {
		t.Fatal(err)
	}
	var ss, sa float64
	for i, p := range pred {
		e := float64(p) - float64(val.Y.Float[i])
		ss, sa = ss+e*e, sa+math.Abs(e)
	}
	want := map[string]float64{"val_rmse": math.Sqrt(ss / float64(len(pred))), "val_mae": sa / float64(len(pred))}
	for name, w := range want {
		got := res.History.Series(name)
		if len(got) != 1 || math.Abs(got[0]-w) > 1e-5 {
			t.Errorf("%s = %v, want one value %.6f (the held-out ratings' %s)", name, got, w, name)
		}
	}
	if v := res.History.Series("val_rmse"); len(v) == 1 && math.Abs(v[0]-res.Test["rmse"]) < 1e-9 {
		t.Errorf("val_rmse %v is the test rmse: not measured on the held-out ratings", v)
	}

	plain, err := Run(dotPlan(t, src), Options{DataDir: dir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.History.Names) != 0 {
		t.Errorf("with validation: test the history has %v, want none", plain.History.Names)
	}
}
