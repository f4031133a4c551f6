package recsys_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// TestCoClusteringByHand on tinyRatings (see knn_test.go). With one user
// cluster and one item cluster every average is the global mean mu, so
// r̂_ui = mu + (mu_u - mu) + (mu_i - mu) = mu_u + mu_i - mu; item means
// 4, 3.8, 3, 10/3:
//
//	(u0, i3) = 4 + 10/3 - 3.625
//	(u2, i1) = 2.25 + 3.8 - 3.625
//	(u5, i0) = 5 + 4 - 3.625 = 5.375, clipped to 5
//
// Unknown users get the item's mean, unknown items the user's, both the
// global mean; all three are fallbacks.
func TestCoClusteringByHand(t *testing.T) {
	f := fitTiny(t, &recsys.CoClustering{UserClusters: 1, ItemClusters: 1, Epochs: 20})
	pred, fb, err := f.Predict(pairs([2]int32{0, 3}, [2]int32{2, 1}, [2]int32{5, 0}, [2]int32{4, 0}, [2]int32{0, 4}, [2]int32{4, 4}))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range []float64{4 + 10.0/3 - 3.625, 2.25 + 3.8 - 3.625, 5, 4, 4, 3.625} {
		if !near(pred[k], want) {
			t.Errorf("prediction %d: %.6f, want %.6f", k, pred[k], want)
		}
	}
	if fb != 3 {
		t.Errorf("%d fallbacks, want 3", fb)
	}
	// A new user rating i0 5 and i1 3 (mean 4): i3 = 4 + 10/3 - 3.625; i4
	// has no training ratings: 4, the fallback.
	pred, fb, err = f.PredictUser(map[int32]float32{0: 5, 1: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !near(pred[3], 4+10.0/3-3.625) || pred[4] != 4 || fb != 1 {
		t.Errorf("PredictUser: i3 %.6f, i4 %v, %d fallbacks", pred[3], pred[4], fb)
	}
}

// TestCoClusteringClusters: with 2 x 2 clusters the prediction is the
// formula over the averages of the clusters Fit chose (recomputed here from
// the ratings), and two groups with opposite tastes are found: users 0-3
// rate items 0-3 5 and items 4-7 1, users 4-7 the reverse, so every user
// and item mean is 3 and the right co-clusters predict every rating
// exactly.
func TestCoClusteringClusters(t *testing.T) {
	f := fitTiny(t, &recsys.CoClustering{UserClusters: 2, ItemClusters: 2, Epochs: 20})
	uc, ic := recsys.CoClusters(f)
	avg := func(keep func(u, i int) bool) float64 {
		var sum, n float64
		for k := range tinyRatings.Y.Float {
			if u, i := int(tinyRatings.X.Int[2*k]), int(tinyRatings.X.Int[2*k+1]); keep(u, i) {
				sum, n = sum+float64(tinyRatings.Y.Float[k]), n+1
			}
		}
		if n == 0 {
			return 3.625
		}
		return sum / n
	}
	userMean := []float64{4, 3.5, 2.25, 13.0 / 3, 0, 5}
	itemMean := []float64{4, 3.8, 3, 10.0 / 3}
	pred, _, err := f.Predict(pairs([2]int32{0, 3}, [2]int32{1, 1}, [2]int32{3, 2}))
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range [][2]int{{0, 3}, {1, 1}, {3, 2}} {
		u, i := p[0], p[1]
		want := avg(func(v, j int) bool { return uc[v] == uc[u] && ic[j] == ic[i] }) +
			userMean[u] - avg(func(v, _ int) bool { return uc[v] == uc[u] }) +
			itemMean[i] - avg(func(_, j int) bool { return ic[j] == ic[i] })
		if !near(pred[k], min(max(want, 1), 5)) {
			t.Errorf("(u%d, i%d): %.6f, want %.6f (clusters %v, %v)", u, i, pred[k], want, uc, ic)
		}
	}

	var triples [][3]float32
	for u := range 8 {
		for i := range 8 {
			r := float32(5)
			if (u < 4) != (i < 4) {
				r = 1
			}
			triples = append(triples, [3]float32{float32(u), float32(i), r})
		}
	}
	groups := ratingSplit(triples...)
	info := &data.RatingInfo{Users: names(8), Items: names(8), Scale: [2]float32{1, 5}}
	// The assignment is a local search from a random start: a start that
	// puts everyone in one cluster stays there (the empty cluster's
	// averages are the global mean, an exact tie, and ties keep cluster 0,
	// as numpy's argmin does in Surprise). Most starts find the groups.
	found := 0
	for seed := range uint64(5) {
		g, _, err := (&recsys.CoClustering{UserClusters: 2, ItemClusters: 2, Epochs: 20}).Fit(&recsys.FitContext{Info: info, Seed: seed}, groups)
		if err != nil {
			t.Fatal(err)
		}
		pred, _, err := g.Predict(&groups.X)
		if err != nil {
			t.Fatal(err)
		}
		rmse, _ := rmseMAE(pred, groups.Y.Float)
		uc, ic := recsys.CoClusters(g)
		switch {
		case rmse < 1e-6:
			found++
		case rmse > 2+1e-6:
			// One cluster predicts mu_u + mu_i - mu = 3 for ratings of 1
			// and 5: RMSE 2. Nothing is worse.
			t.Errorf("seed %d: training RMSE %.4f with clusters %v, %v", seed, rmse, uc, ic)
		}
	}
	if found < 3 {
		t.Errorf("only %d of 5 seeds found the two groups", found)
	}
}

// TestCoClusteringDeterministic: the seed fixes the random start, so the
// same seed gives the same model (with any number of workers) and another
// seed may give another.
func TestCoClusteringDeterministic(t *testing.T) {
	const nUsers, nItems = 60, 30
	train := randomRatings(9, nUsers, nItems, 0.4)
	info := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: [2]float32{1, 5}}
	fit := func(seed uint64) ([]int, []int, []float32) {
		f, _, err := (&recsys.CoClustering{UserClusters: 3, ItemClusters: 3, Epochs: 20}).Fit(&recsys.FitContext{Info: info, Seed: seed}, train)
		if err != nil {
			t.Fatal(err)
		}
		pred, _, err := f.Predict(&train.X)
		if err != nil {
			t.Fatal(err)
		}
		uc, ic := recsys.CoClusters(f)
		return uc, ic, pred
	}
	u1, i1, p1 := fit(1)
	prev := runtime.GOMAXPROCS(1)
	u2, i2, p2 := fit(1)
	runtime.GOMAXPROCS(prev)
	if !slices.Equal(u1, u2) || !slices.Equal(i1, i2) || !slices.Equal(p1, p2) {
		t.Error("the same seed gave different models")
	}
	differ := false
	for seed := uint64(2); seed < 6 && !differ; seed++ {
		u, i, _ := fit(seed)
		differ = !slices.Equal(u, u1) || !slices.Equal(i, i1)
	}
	if !differ {
		t.Error("four other seeds gave the clusters of seed 1: the seed does not reach the start")
	}
}

func TestCoClusteringRegistered(t *testing.T) {
	e, ok := recsys.Models.Lookup("co_clustering")
	if !ok {
		t.Fatal("co_clustering is not registered")
	}
	m := e.New().(*recsys.CoClustering)
	if *m != (recsys.CoClustering{UserClusters: 3, ItemClusters: 3, Epochs: 20}) || m.NewUsers() != nil {
		t.Errorf("defaults %+v", m)
	}
	// A cluster per user (6) and item (5), and the 3x3 + 3 + 3 means.
	if n, f := m.ParamCount(tinyInfo); n != 6+5+9+3+3 || fitTiny(t, m).(recsys.ParamCounted).TrainableParams() != n {
		t.Errorf("ParamCount %d (%s), want 26", n, f)
	}
}
