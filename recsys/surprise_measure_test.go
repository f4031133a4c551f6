//go:build cfmeasure

// 5-fold cross-validation of the Surprise models on ml-100k, as Surprise's
// benchmark (examples/benchmark.py: KFold(n_splits=5, shuffle) on u.data,
// every model with its defaults), for reports, not a regression test:
//
//	go test -tags cfmeasure -run SurpriseCV -v -timeout 1h ./recsys/
//
// PIPE_DATA must point at the datasets. CV_SEED picks the folds' seed (0),
// CV_ONLY a comma-separated list of the models to run.

package recsys_test

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
)

// surprisePublished are the ml-100k RMSE and MAE of Surprise's README
// (5-fold cross-validation, defaults).
var surprisePublished = map[string][2]float64{
	"normal_predictor": {1.514, 1.215},
	"baseline_only":    {0.944, 0.748},
	"svd":              {0.934, 0.737},
	"svdpp":            {0.919, 0.721},
	"nmf":              {0.963, 0.758},
}

func TestSurpriseCV(t *testing.T) {
	dir := testdata.Dir(t, "ml-100k")
	seed := uint64(0)
	if s := os.Getenv("CV_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	// All of u.data, in file order: the loader with nothing held out.
	l := &loaders.ML100k{RatingSplit: loaders.DefaultRatingSplit()}
	l.TestFraction = 0
	ds, err := l.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	all := ds.Train
	n := all.Len()
	// Surprise's KFold: a seeded permutation of the ratings cut into 5
	// folds, the first n%5 one rating longer; a fold's training ratings
	// are the permutation before and after it, in the permutation's order.
	perm := rand.New(rand.NewPCG(seed, 0xf01d)).Perm(n)
	const folds = 5
	bounds := []int{0}
	for k := range folds {
		size := n / folds
		if k < n%folds {
			size++
		}
		bounds = append(bounds, bounds[k]+size)
	}
	models := []string{"normal_predictor", "baseline_only", "svd", "svdpp", "nmf"}
	if only := os.Getenv("CV_ONLY"); only != "" {
		models = strings.Split(only, ",")
	}
	t.Logf("ml-100k, %d ratings, 5-fold CV (fold seed %d), each model with its defaults, model seed 1", n, seed)
	t.Logf("%-17s | %-41s | %-41s | %-13s | %s", "model", "RMSE per fold", "MAE per fold", "RMSE mean±std", "MAE mean±std | fit s/fold | Surprise RMSE/MAE")
	for _, name := range models {
		var rmses, maes, secs []float64
		fallbacks := 0
		for k := range folds {
			train, test := subset(&all, slices.Concat(perm[:bounds[k]], perm[bounds[k+1]:])), subset(&all, perm[bounds[k]:bounds[k+1]])
			m, ok := recsys.Models.New(name)
			if !ok {
				t.Fatalf("no model %s", name)
			}
			start := time.Now()
			f, _, err := m.Fit(&recsys.FitContext{Info: ds.Ratings, Seed: 1}, train)
			if err != nil {
				t.Fatalf("%s fold %d: %v", name, k, err)
			}
			secs = append(secs, time.Since(start).Seconds())
			pred, fb, err := f.Predict(&test.X)
			if err != nil {
				t.Fatal(err)
			}
			fallbacks += fb
			r, a := rmseMAE(pred, test.Y.Float)
			rmses, maes = append(rmses, r), append(maes, a)
		}
		rm, rs := meanStd(rmses)
		am, as := meanStd(maes)
		sm, _ := meanStd(secs)
		pub := surprisePublished[name]
		t.Logf("%-17s | %s | %s | %.4f±%.4f | %.4f±%.4f | %.2f | %.3f/%.3f (RMSE %+.1f std) | fallbacks %d",
			name, fmtFolds(rmses), fmtFolds(maes), rm, rs, am, as, sm, pub[0], pub[1], (rm-pub[0])/rs, fallbacks)
	}
}

// subset is the ratings of split at the given indices, in their order.
func subset(s *data.Split, idx []int) *data.Split {
	xs, ys := data.RatingSchemas()
	out := &data.Split{X: data.Array{Schema: xs, Int: make([]int32, 0, 2*len(idx))}, Y: data.Array{Schema: ys, Float: make([]float32, 0, len(idx))}}
	for _, i := range idx {
		out.X.Int = append(out.X.Int, s.X.Int[2*i], s.X.Int[2*i+1])
		out.Y.Float = append(out.Y.Float, s.Y.Float[i])
	}
	return out
}

// meanStd is the mean and population standard deviation (numpy's np.std,
// which Surprise's cross_validate prints).
func meanStd(v []float64) (float64, float64) {
	var m, ss float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)))
}

func fmtFolds(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 4, 64)
	}
	return strings.Join(s, " ")
}
