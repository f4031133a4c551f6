package recsys_test

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
)

// rmseMAE compares predictions with ratings.
func rmseMAE(pred, y []float32) (rmse, mae float64) {
	for i, p := range pred {
		e := float64(p) - float64(y[i])
		rmse += e * e
		mae += math.Abs(e)
	}
	n := float64(len(pred))
	return math.Sqrt(rmse / n), mae / n
}

// ratingSplit builds a rating split from (user, item, rating) triples.
func ratingSplit(triples ...[3]float32) *data.Split {
	xs, ys := data.RatingSchemas()
	s := &data.Split{X: data.Array{Schema: xs}, Y: data.Array{Schema: ys}}
	for _, t := range triples {
		s.X.Int = append(s.X.Int, int32(t[0]), int32(t[1]))
		s.Y.Float = append(s.Y.Float, t[2])
	}
	return s
}

func pairs(ps ...[2]int32) *data.Array {
	xs, _ := data.RatingSchemas()
	a := &data.Array{Schema: xs}
	for _, p := range ps {
		a.Int = append(a.Int, p[0], p[1])
	}
	return a
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + i))
	}
	return out
}

// tinyRatings, scale 1..5 (rows users u0..u5, columns items i0..i4; u4 and
// i4 have no training ratings):
//
//	     i0 i1 i2 i3   mean   sd (population)
//	u0    5  3  4  .   4      sqrt(2/3)  = 0.81650
//	u1    4  2  3  5   3.5    sqrt(5/4)  = 1.11803
//	u2    1  5  2  1   2.25
//	u3    5  4  .  4   13/3   sqrt(2/9)  = 0.47140
//	u5    5  5  .  .   5      0
//
// global mean 58/16 = 3.625; mean of i0 = 20/5 = 4.
var tinyRatings = ratingSplit(
	[3]float32{0, 0, 5}, [3]float32{0, 1, 3}, [3]float32{0, 2, 4},
	[3]float32{1, 0, 4}, [3]float32{1, 1, 2}, [3]float32{1, 2, 3}, [3]float32{1, 3, 5},
	[3]float32{2, 0, 1}, [3]float32{2, 1, 5}, [3]float32{2, 2, 2}, [3]float32{2, 3, 1},
	[3]float32{3, 0, 5}, [3]float32{3, 1, 4}, [3]float32{3, 3, 4},
	[3]float32{5, 0, 5}, [3]float32{5, 1, 5},
)

func TestUserKNNByHand(t *testing.T) {
	info := &data.RatingInfo{Users: names(6), Items: names(5), Scale: [2]float32{1, 5}}
	// Similarities of u0 with the raters of i3, over co-rated items:
	//  cosine  u1 (i0,i1,i2): 38/sqrt(50*29)          = 0.99793
	//          u2 (i0,i1,i2): 28/sqrt(50*30)          = 0.72296
	//          u3 (i0,i1):    37/sqrt(34*41)          = 0.99099
	//  pearson (centred on each user's mean; u0 -> (1, -1, 0)):
	//          u1 (.5,-1.5,-.5):  2/sqrt(2*2.75)      = 0.85280
	//          u2 (-1.25,2.75,-.25): -4/...  < 0      -> not a neighbour
	//          u3 (2/3,-1/3):     1/sqrt(2*5/9)       = 0.94868
	// u1's and u3's ratings of i3: 5 (centred 1.5, z 1.5/1.11803 = 1.34164)
	// and 4 (centred -1/3, z (-1/3)/0.47140 = -0.70711); u2's: 1 (-1.25).
	for _, tc := range []struct {
		sim, norm   string
		k, support  int
		want        float64
		explanation string
	}{
		{"cosine", "none", 30, 1, 3.56819, "(.99793*5 + .72296*1 + .99099*4) / 2.71188"},
		{"cosine", "none", 2, 1, 4.50174, "k=2 keeps u1 and u3: (.99793*5 + .99099*4) / 1.98892"},
		{"cosine", "center", 30, 1, 4.09693, "4 + (.99793*1.5 + .72296*-1.25 + .99099*-1/3) / 2.71188"},
		{"pearson", "none", 30, 1, 4.47339, "(.85280*5 + .94868*4) / 1.80148"},
		{"pearson", "center", 30, 1, 4.53454, "4 + (.85280*1.5 + .94868*-1/3) / 1.80148"},
		{"pearson", "zscore", 30, 1, 4.21453, "4 + .81650 * (.85280*1.34164 + .94868*-.70711) / 1.80148"},
		{"pearson", "center", 30, 3, 5, "min_support 3 drops u3 (2 co-rated): 4 + 1.5 = 5.5, clipped to 5"},
	} {
		m := &recsys.UserKNN{Similarity: tc.sim, Normalize: tc.norm, K: tc.k, MinSupport: tc.support}
		f, h, err := m.Fit(&recsys.FitContext{Info: info}, tinyRatings)
		if err != nil || h != nil {
			t.Fatalf("Fit: %v %v", h, err)
		}
		pred, fb, err := f.Predict(pairs([2]int32{0, 3}))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(pred[0])-tc.want) > 5e-5 || fb != 0 {
			t.Errorf("%s %s k=%d min_support=%d: got %.5f (%d fallbacks), want %.5f = %s", tc.sim, tc.norm, tc.k, tc.support, pred[0], fb, tc.want, tc.explanation)
		}
	}

	// Fallbacks, with pearson: u4 has no ratings (-> mean of i0 = 4, or the
	// global mean 3.625 for i4, which nobody rated); nobody rated i4 (-> u0's
	// mean 4); u5 rated 5 and 5, so its centred ratings are 0 and it has no
	// neighbour with a positive Pearson similarity (-> its mean 5).
	// Cosine instead finds u5 neighbours for i3 (u1 .94868, u2 .83205, u3
	// .99388): 5 + (.94868*1.5 + .83205*-1.25 + .99388*-1/3)/2.77461 =
	// 5.0186, clipped to 5.
	for _, tc := range []struct {
		sim  string
		want []float32
		fb   int
	}{
		{"pearson", []float32{4, 3.625, 4, 5, 4.53454}, 4},
		{"cosine", []float32{4, 3.625, 4, 5, 4.09693}, 3},
	} {
		m := &recsys.UserKNN{Similarity: tc.sim, Normalize: "center", K: 30, MinSupport: 1}
		f, _, err := m.Fit(&recsys.FitContext{Info: info}, tinyRatings)
		if err != nil {
			t.Fatal(err)
		}
		pred, fb, err := f.Predict(pairs([2]int32{4, 0}, [2]int32{4, 4}, [2]int32{0, 4}, [2]int32{5, 3}, [2]int32{0, 3}))
		if err != nil {
			t.Fatal(err)
		}
		for i := range pred {
			if math.Abs(float64(pred[i]-tc.want[i])) > 5e-5 {
				t.Errorf("%s: prediction %d is %.5f, want %.5f", tc.sim, i, pred[i], tc.want[i])
			}
		}
		if fb != tc.fb {
			t.Errorf("%s: %d fallbacks, want %d", tc.sim, fb, tc.fb)
		}
	}

	// Bad input.
	m := &recsys.UserKNN{Similarity: "pearson", Normalize: "center", K: 30, MinSupport: 1}
	f, _, err := m.Fit(&recsys.FitContext{Info: info}, tinyRatings)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Predict(pairs([2]int32{6, 0})); err == nil {
		t.Error("a user index past the end was accepted")
	}
	dup := ratingSplit([3]float32{0, 0, 5}, [3]float32{0, 0, 4})
	if _, _, err := m.Fit(&recsys.FitContext{Info: info}, dup); err == nil {
		t.Error("a repeated training pair was accepted")
	}
}

func TestUserKNNRegistered(t *testing.T) {
	e, ok := recsys.Models.Lookup("user_knn")
	if !ok {
		t.Fatal("user_knn is not registered")
	}
	m, ok := e.New().(*recsys.UserKNN)
	if !ok {
		t.Fatalf("config %T", e.New())
	}
	if m.Similarity != "pearson" || m.K != 30 || m.Normalize != "center" || m.MinSupport != 1 || m.Shrinkage != 25 {
		t.Errorf("defaults %+v", m)
	}
	var _ recsys.Recommender = m
}

// On MovieLense (the course's 70/30 split) every variant beats the global
// mean, the normalised ones beat the course's 0.9477, and the result does
// not depend on the number of workers.
func TestUserKNNMovieLense(t *testing.T) {
	dir := testdata.Dir(t, "movielense")
	ds, err := (&loaders.MovieLense{RatingSplit: loaders.DefaultRatingSplit()}).Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	baseRMSE := globalMeanRMSE(ds)
	for _, norm := range []string{"none", "center", "zscore"} {
		m := &recsys.UserKNN{Similarity: "pearson", Normalize: norm, K: 30, MinSupport: 1, Shrinkage: 25}
		f, _, err := m.Fit(&recsys.FitContext{Info: ds.Ratings}, &ds.Train)
		if err != nil {
			t.Fatal(err)
		}
		pred, fb, err := f.Predict(&ds.Test.X)
		if err != nil {
			t.Fatal(err)
		}
		rmse, mae := rmseMAE(pred, ds.Test.Y.Float)
		t.Logf("pearson %s: RMSE %.4f MAE %.4f, %d fallbacks (global mean %.4f)", norm, rmse, mae, fb, baseRMSE)
		if rmse >= baseRMSE || (norm != "none" && rmse >= 0.9477) {
			t.Errorf("pearson %s: RMSE %.4f (global mean %.4f, course 0.9477)", norm, rmse, baseRMSE)
		}
		if fb == 0 || fb > ds.Test.Len()/20 {
			t.Errorf("%d fallbacks of %d", fb, ds.Test.Len())
		}
		if norm == "center" {
			prev := runtime.GOMAXPROCS(1)
			one, fb1, err := f.Predict(&ds.Test.X)
			runtime.GOMAXPROCS(prev)
			if err != nil || !slices.Equal(one, pred) || fb1 != fb {
				t.Errorf("one worker gave different predictions (%v)", err)
			}
		}
	}
}

// globalMeanRMSE is the test RMSE of predicting every rating as the mean
// training rating: the baseline a rating model must beat.
func globalMeanRMSE(ds *data.Dataset) float64 {
	var sum float64
	for _, v := range ds.Train.Y.Float {
		sum += float64(v)
	}
	base := make([]float32, ds.Test.Len())
	for i := range base {
		base[i] = float32(sum / float64(ds.Train.Len()))
	}
	rmse, _ := rmseMAE(base, ds.Test.Y.Float)
	return rmse
}
