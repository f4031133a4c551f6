//go:build cfmeasure

// 5-fold cross-validation of the Surprise models on ml-100k, beside
// Surprise's published table, for reports, not a regression test:
//
//	go test -tags cfmeasure -run CFMeasureSurpriseCV -v ./recsys/
//
// (PIPE_DATA must point at the datasets). CV_SEED picks the folds, CV_ONLY a
// substring of the models to keep.

package recsys_test

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
)

func TestCFMeasureSurpriseCV(t *testing.T) {
	dir := testdata.Dir(t, "ml-100k")
	seed := uint64(1)
	if s := os.Getenv("CV_SEED"); s != "" {
		v, _ := strconv.Atoi(s)
		seed = uint64(v)
	}
	only := os.Getenv("CV_ONLY")
	// test_fraction 0: every rating in Train, users and items indexed once
	// for all folds.
	ds, err := (&loaders.ML100k{RatingSplit: loaders.RatingSplit{TestFraction: 0, SplitSeed: 1}}).Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	folds := cvFolds(&ds.Train, 5, seed)
	knn := func(aggregate string, set func(*recsys.KNN)) func() recsys.Recommender {
		return func() recsys.Recommender {
			m := recsys.NewKNN(aggregate)
			if set != nil {
				set(m)
			}
			return m
		}
	}
	registered := func(name string) func() recsys.Recommender {
		return func() recsys.Recommender {
			e, _ := recsys.Models.Lookup(name)
			return e.New().(recsys.Recommender)
		}
	}
	// Surprise's README table for ml-100k (RMSE, MAE), where it has a row.
	for _, c := range []struct {
		label    string
		surprise [2]float64
		model    func() recsys.Recommender
	}{
		{"slope_one", [2]float64{0.946, 0.743}, registered("slope_one")},
		{"knn_basic (user, msd)", [2]float64{0.98, 0.774}, registered("knn_basic")},
		{"knn_with_means (user, msd)", [2]float64{0.951, 0.749}, registered("knn_with_means")},
		{"knn_baseline (user, msd)", [2]float64{0.931, 0.733}, registered("knn_baseline")},
		{"co_clustering", [2]float64{0.963, 0.753}, registered("co_clustering")},
		{"knn_with_zscore (user, msd)", [2]float64{}, registered("knn_with_zscore")},
		{"knn_baseline (item, pearson_baseline)", [2]float64{}, knn("baseline", func(m *recsys.KNN) { m.UserBased, m.Similarity = false, "pearson_baseline" })},
		{"knn_basic (item, cosine)", [2]float64{}, knn("basic", func(m *recsys.KNN) { m.UserBased, m.Similarity = false, "cosine" })},
		{"knn_with_means (user, pearson)", [2]float64{}, knn("means", func(m *recsys.KNN) { m.Similarity = "pearson" })},
		{"knn_baseline (user, msd, sgd)", [2]float64{}, knn("baseline", func(m *recsys.KNN) { m.BaselineOptions.Method = "sgd" })},
	} {
		if only != "" && !strings.Contains(c.label, only) {
			continue
		}
		var rmses, maes []float64
		var fitTime, predTime float64
		for f, fold := range folds {
			start := time.Now()
			fitted, _, err := c.model().Fit(&recsys.FitContext{Info: ds.Ratings, Seed: 1}, fold[0])
			if err != nil {
				t.Fatalf("%s: %v", c.label, err)
			}
			fitS := time.Since(start).Seconds()
			start = time.Now()
			pred, fallbacks, err := fitted.Predict(&fold[1].X)
			if err != nil {
				t.Fatalf("%s: %v", c.label, err)
			}
			predS := time.Since(start).Seconds()
			rmse, mae := rmseMAE(pred, fold[1].Y.Float)
			rmses, maes = append(rmses, rmse), append(maes, mae)
			fitTime, predTime = fitTime+fitS, predTime+predS
			t.Logf("%-40s fold %d | RMSE %.4f | MAE %.4f | fallbacks %4d/%d | fit %.2fs | predict %.2fs", c.label, f+1, rmse, mae, fallbacks, len(pred), fitS, predS)
		}
		mr, sr := meanStd(rmses)
		mm, sm := meanStd(maes)
		ref := "(not in Surprise's table)"
		if c.surprise[0] > 0 {
			ref = "Surprise " + strconv.FormatFloat(c.surprise[0], 'f', 3, 64) + " / " + strconv.FormatFloat(c.surprise[1], 'f', 3, 64)
		}
		t.Logf("%-40s 5-fold | RMSE %.4f ± %.4f | MAE %.4f ± %.4f | fit %.2fs, predict %.2fs in all | %s", c.label, mr, sr, mm, sm, fitTime, predTime, ref)
	}
}

// cvFolds cuts a seeded random permutation of the ratings into k folds,
// as Surprise's KFold(shuffle=True) does: fold f tests on positions
// [start, stop) of the permutation, the first len % k folds one rating
// longer, and trains on the rest. Each split keeps the ratings' order.
func cvFolds(all *data.Split, k int, seed uint64) [][2]*data.Split {
	n := all.Len()
	perm := rand.New(rand.NewPCG(seed, 0xf01d)).Perm(n)
	foldOf := make([]int, n)
	stop := 0
	for f := range k {
		start := stop
		stop += n / k
		if f < n%k {
			stop++
		}
		for _, p := range perm[start:stop] {
			foldOf[p] = f
		}
	}
	out := make([][2]*data.Split, k)
	for f := range out {
		out[f] = [2]*data.Split{ratingSplit(), ratingSplit()}
		for p := range n {
			s := out[f][0]
			if foldOf[p] == f {
				s = out[f][1]
			}
			s.X.Int = append(s.X.Int, all.X.Int[2*p], all.X.Int[2*p+1])
			s.Y.Float = append(s.Y.Float, all.Y.Float[p])
		}
	}
	return out
}

// meanStd is the mean and population standard deviation (numpy's std, as
// Surprise's cross_validate reports it).
func meanStd(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}
