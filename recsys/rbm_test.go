package recsys_test

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
)

func TestRBMRegistered(t *testing.T) {
	e, ok := recsys.Models.Lookup("rbm_cf")
	if !ok {
		t.Fatal("rbm_cf is not registered")
	}
	m, ok := e.New().(*recsys.RBMCF)
	if !ok {
		t.Fatalf("config %T", e.New())
	}
	want := recsys.RBMCF{By: "item", Hidden: 100, CDSteps: 1, LearningRate: 0.005, Momentum: 0.9, WeightDecay: 0.005, Epochs: 40, BatchSize: 16}
	if m.By != want.By || m.Hidden != want.Hidden || m.CDSteps != want.CDSteps || m.LearningRate != want.LearningRate ||
		m.Momentum != want.Momentum || m.WeightDecay != want.WeightDecay || m.Epochs != want.Epochs || m.BatchSize != want.BatchSize || m.Bins != 0 {
		t.Errorf("defaults %+v", m)
	}
	var _ recsys.Recommender = m
}

// A 200-user sample of MovieLense: both orientations learn (beat the
// global mean on held-out ratings), report their history, and give the
// same predictions for the same seed whatever the number of workers.
func TestRBMMovieLenseSample(t *testing.T) {
	dir := testdata.Dir(t, "movielense")
	split := loaders.DefaultRatingSplit()
	split.SampleUsers = 200
	ds, err := (&loaders.MovieLense{RatingSplit: split}).Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	baseRMSE := globalMeanRMSE(ds)
	for _, by := range []string{"user", "item"} {
		fit := func(seed uint64, procs int) ([]float32, int, []float64) {
			prev := runtime.GOMAXPROCS(procs)
			defer runtime.GOMAXPROCS(prev)
			m := &recsys.RBMCF{By: by, Hidden: 50, CDSteps: 1, LearningRate: 0.005, Momentum: 0.9, WeightDecay: 0.01, Epochs: 12, BatchSize: 8}
			f, h, err := m.Fit(&recsys.FitContext{Info: ds.Ratings, Seed: seed, Val: &ds.Test}, &ds.Train)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(h.Names, []string{"rmse", "val_rmse"}) || len(h.Values[0]) != 12 || len(h.Values[1]) != 12 {
				t.Fatalf("history %v with %d values", h.Names, len(h.Values[0]))
			}
			pred, fb, err := f.Predict(&ds.Test.X)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range pred {
				if p < 1 || p > 5 {
					t.Fatalf("prediction %d is %v, outside [1, 5]", i, p)
				}
			}
			return pred, fb, h.Values[1]
		}
		pred, fb, val := fit(7, 2)
		rmse, mae := rmseMAE(pred, ds.Test.Y.Float)
		t.Logf("by %s: RMSE %.4f MAE %.4f, %d fallbacks of %d (global mean %.4f); val_rmse by epoch %.4f", by, rmse, mae, fb, len(pred), baseRMSE, val)
		if rmse >= baseRMSE-0.03 {
			t.Errorf("by %s: RMSE %.4f does not beat the global mean %.4f", by, rmse, baseRMSE)
		}
		if float32(val[len(val)-1]) != float32(rmse) {
			t.Errorf("last val_rmse %.6f differs from the RMSE of Predict %.6f", val[len(val)-1], rmse)
		}
		again, fb2, _ := fit(7, 1)
		if !slices.Equal(pred, again) || fb2 != fb {
			t.Errorf("by %s: seed 7 on one worker gave different predictions", by)
		}
		other, _, _ := fit(8, 2)
		if slices.Equal(pred, other) {
			t.Errorf("by %s: seeds 7 and 8 gave the same predictions", by)
		}
	}
}

// Jester's continuous scale needs bins; with bins the model trains.
func TestRBMBins(t *testing.T) {
	info := &data.RatingInfo{Users: names(3), Items: names(3), Scale: [2]float32{-10, 10}}
	train := ratingSplit([3]float32{0, 0, 7.91}, [3]float32{0, 1, -3.2}, [3]float32{1, 0, 9.9}, [3]float32{1, 2, 0}, [3]float32{2, 1, -9.95})
	m := &recsys.RBMCF{By: "user", Hidden: 4, CDSteps: 2, LearningRate: 0.05, Momentum: 0.5, Epochs: 3, BatchSize: 2}
	if _, _, err := m.Fit(&recsys.FitContext{Info: info, Seed: 1}, train); err == nil || !strings.Contains(err.Error(), "bins") {
		t.Errorf("continuous ratings without bins: %v", err)
	}
	m.Bins = 21
	f, h, err := m.Fit(&recsys.FitContext{Info: info, Seed: 1}, train)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Values) != 1 || len(h.Values[0]) != 3 {
		t.Errorf("history %+v", h)
	}
	// u0/i2: i2 was rated (by u1) so the model predicts; u2/i2 likewise;
	// an item nobody rated would fall back, but all three were rated.
	pred, fb, err := f.Predict(pairs([2]int32{0, 2}, [2]int32{2, 2}))
	if err != nil || fb != 0 {
		t.Fatalf("%v, %d fallbacks", err, fb)
	}
	for _, p := range pred {
		if p < -10 || p > 10 {
			t.Errorf("prediction %v outside the scale", p)
		}
	}
	m.Bins = 1
	if _, _, err := m.Fit(&recsys.FitContext{Info: info, Seed: 1}, train); err == nil {
		t.Error("bins 1 was accepted")
	}
}
