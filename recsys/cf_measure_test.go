//go:build cfmeasure

// Measurements of the rating models on the real data, for reports, not a
// regression test: go test -tags cfmeasure -run CFMeasure -v ./recsys/
// (PIPE_DATA must point at the datasets). CF_SEED picks the split seed,
// CF_ONLY a substring of the runs to keep.

package recsys_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
)

func TestCFMeasure(t *testing.T) {
	dir := testdata.Dir(t, "movielense")
	seed := 1
	if s := os.Getenv("CF_SEED"); s != "" {
		seed, _ = strconv.Atoi(s)
	}
	only := os.Getenv("CF_ONLY")
	load := func(name string, sample int) *data.Dataset {
		e, _ := loaders.Loaders.Lookup(name)
		cfg := e.New()
		split := loaders.DefaultRatingSplit()
		split.SplitSeed, split.SampleUsers = seed, sample
		switch l := cfg.(type) {
		case *loaders.Jester5k:
			l.RatingSplit = split
		case *loaders.MovieLense:
			l.RatingSplit = split
		case *loaders.ML100k:
			l.RatingSplit = split
		}
		ds, err := cfg.(loaders.Loader).Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	sets := map[string]*data.Dataset{}
	get := func(name string) *data.Dataset {
		if sets[name] == nil {
			switch name {
			case "jester1000":
				sets[name] = load("jester5k", 1000)
			case "jester5000":
				sets[name] = load("jester5k", 0)
			default:
				sets[name] = load(name, 0)
			}
		}
		return sets[name]
	}
	type run struct {
		data, label string
		model       func() recsys.Recommender
	}
	knn := func(sim, norm string, k, support int, shrink float64) func() recsys.Recommender {
		return func() recsys.Recommender {
			return &recsys.UserKNN{Similarity: sim, Normalize: norm, K: k, MinSupport: support, Shrinkage: shrink}
		}
	}
	var runs []run
	for _, data := range []string{"movielense", "jester1000", "ml100k"} {
		runs = append(runs, run{data, "global mean", nil})
		for _, shrink := range []float64{0, 25} {
			for _, sim := range []string{"cosine", "pearson"} {
				for _, norm := range []string{"none", "center", "zscore"} {
					runs = append(runs, run{data, fmt.Sprintf("user_knn %s %s k=30 shrinkage=%g", sim, norm, shrink), knn(sim, norm, 30, 1, shrink)})
				}
			}
		}
	}
	runs = append(runs, run{"jester5000", "global mean", nil})
	for _, norm := range []string{"none", "center", "zscore"} {
		runs = append(runs, run{"jester5000", fmt.Sprintf("user_knn pearson %s k=30 shrinkage=25", norm), knn("pearson", norm, 30, 1, 25)})
	}
	if extra := os.Getenv("CF_KNN"); extra != "" { // data:sim:norm:k:support,...
		for _, r := range strings.Split(extra, ",") {
			f := strings.Split(r, ":")
			k, _ := strconv.Atoi(f[3])
			sup, _ := strconv.Atoi(f[4])
			shrink, _ := strconv.ParseFloat(f[5], 64)
			runs = append(runs, run{f[0], "user_knn " + r, knn(f[1], f[2], k, sup, shrink)})
		}
	}
	for _, data := range []string{"movielense", "ml100k"} {
		for _, by := range []string{"user", "item"} {
			runs = append(runs, run{data, "rbm_cf by=" + by, func() recsys.Recommender {
				e, _ := recsys.Models.Lookup("rbm_cf")
				m := e.New().(*recsys.RBMCF)
				m.By = by
				return m
			}})
		}
	}
	if extra := os.Getenv("CF_RBM"); extra != "" { // data:by:hidden:lr:momentum:decay:epochs:batch:cd[:bins],...
		for _, r := range strings.Split(extra, ",") {
			f := strings.Split(r, ":")
			num := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
			runs = append(runs, run{f[0], "rbm_cf " + r, func() recsys.Recommender {
				m := &recsys.RBMCF{By: f[1], Hidden: int(num(2)), LearningRate: num(3), Momentum: num(4), WeightDecay: num(5), Epochs: int(num(6)), BatchSize: int(num(7)), CDSteps: int(num(8))}
				if len(f) > 9 {
					m.Bins = int(num(9))
				}
				return m
			}})
		}
	}
	for _, r := range runs {
		name := r.data + " " + r.label
		if only != "" && !strings.Contains(name, only) {
			continue
		}
		ds := get(r.data)
		start := time.Now()
		var pred []float32
		fallbacks := 0
		if r.model == nil {
			var sum float64
			for _, v := range ds.Train.Y.Float {
				sum += float64(v)
			}
			pred = make([]float32, ds.Test.Len())
			for i := range pred {
				pred[i] = float32(sum / float64(len(ds.Train.Y.Float)))
			}
		} else {
			m := r.model()
			ctx := &recsys.FitContext{Info: ds.Ratings, Seed: 1}
			if os.Getenv("CF_LOG") != "" {
				ctx.Log = t.Logf
			}
			if os.Getenv("CF_VAL") != "" {
				ctx.Val = &ds.Test
			}
			f, h, err := m.Fit(ctx, &ds.Train)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if h != nil {
				for i, n := range h.Names {
					if n == "val_rmse" {
						best := 0
						for e, v := range h.Values[i] {
							if v < h.Values[i][best] {
								best = e
							}
						}
						t.Logf("%s: best val_rmse %.4f at epoch %d; by epoch %s", name, h.Values[i][best], best+1, fmtSeries(h.Values[i]))
					}
				}
			}
			if pred, fallbacks, err = f.Predict(&ds.Test.X); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		rmse, mae := rmseMAE(pred, ds.Test.Y.Float)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		t.Logf("seed %d | %-12s | %-40s | RMSE %.4f | MAE %.4f | fallbacks %d/%d | %.2fs | heap sys %d MiB",
			seed, r.data, r.label, rmse, mae, fallbacks, len(pred), time.Since(start).Seconds(), ms.HeapSys>>20)
	}
}

func fmtSeries(v []float64) string {
	var b strings.Builder
	for i, x := range v {
		if (i+1)%5 == 0 || i == len(v)-1 {
			fmt.Fprintf(&b, " %d:%.4f", i+1, x)
		}
	}
	return b.String()
}
