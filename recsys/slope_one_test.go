package recsys_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// TestSlopeOneByHand on tinyRatings (see knn_test.go). dev(i, j) is the
// mean of r_ui - r_uj over the users who rated both:
//
//	dev(i3, i0) over u1, u2, u3: ((5-4) + (1-1) + (4-5)) / 3 = 0
//	dev(i3, i1) over u1, u2, u3: ((5-2) + (1-5) + (4-4)) / 3 = -1/3
//	dev(i3, i2) over u1, u2:     ((5-3) + (1-2)) / 2        = 1/2
//	dev(i2, i0) over u0, u1, u2: ((4-5) + (3-4) + (2-1)) / 3 = -1/3
//	dev(i2, i1) over u0, u1, u2: ((4-3) + (3-2) + (2-5)) / 3 = -1/3
//
// r̂_ui = mu_u + mean of dev(i, j) over the items j u rated that share a
// rater with i:
//
//	(u0, i3) = 4 + (0 - 1/3 + 1/2) / 3
//	(u5, i2) = 5 + (-1/3 - 1/3) / 2
//	(u5, i3) = 5 + (0 - 1/3) / 2
//
// u4 and i4 have no training ratings: the global mean 3.625, fallbacks.
func TestSlopeOneByHand(t *testing.T) {
	f := fitTiny(t, &recsys.SlopeOne{})
	pred, fb, err := f.Predict(pairs([2]int32{0, 3}, [2]int32{5, 2}, [2]int32{5, 3}, [2]int32{4, 0}, [2]int32{0, 4}))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range []float64{4 + (1.0/2-1.0/3)/3, 5 - 1.0/3, 5 - 1.0/6, 3.625, 3.625} {
		if !near(pred[k], want) {
			t.Errorf("prediction %d: %.6f, want %.6f", k, pred[k], want)
		}
	}
	if fb != 2 {
		t.Errorf("%d fallbacks, want 2", fb)
	}

	// u0 -> i0: 5; u1 -> i0: 2, i1: 5; u2 -> i2: 3 (global mean 15/4).
	// (u0, i1) = 5 + dev(i1, i0) = 5 + 3 = 8, clipped to 5. i2 shares no
	// rater with i0: (u0, i2) is u0's mean, 5, a fallback.
	train := ratingSplit([3]float32{0, 0, 5}, [3]float32{1, 0, 2}, [3]float32{1, 1, 5}, [3]float32{2, 2, 3})
	info := &data.RatingInfo{Users: names(3), Items: names(3), Scale: [2]float32{1, 5}}
	g, _, err := (&recsys.SlopeOne{}).Fit(&recsys.FitContext{Info: info}, train)
	if err != nil {
		t.Fatal(err)
	}
	pred, fb, err = g.Predict(pairs([2]int32{0, 1}, [2]int32{0, 2}))
	if err != nil {
		t.Fatal(err)
	}
	if pred[0] != 5 || pred[1] != 5 || fb != 1 {
		t.Errorf("got %v with %d fallbacks, want [5 5] (8 clipped; u0's mean) with 1", pred, fb)
	}
	// A new user who rated i0 4 (mean 4): i1 = 4 + 3 = 7 -> 5; i2 shares no
	// rater with i0: 4, the fallback.
	pred, fb, err = g.PredictUser(map[int32]float32{0: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pred, []float32{4, 5, 4}) || fb != 1 {
		t.Errorf("PredictUser: %v with %d fallbacks, want [4 5 4] with 1", pred, fb)
	}
}

// TestSlopeOnePredictUserMatchesPredict: the deviations from a new user's
// items to an item they did not rate do not involve the user, so
// PredictUser equals Predict for the same ratings as one more training
// user. The model does not depend on the number of workers.
func TestSlopeOnePredictUserMatchesPredict(t *testing.T) {
	const nUsers, nItems = 40, 25
	train := randomRatings(5, nUsers, nItems, 0.3)
	user := map[int32]float32{1: 2, 3: 5, 8: 4, 13: 1}
	with, unrated := withNewUser(train, user, nUsers, nItems)
	scale := [2]float32{1, 5}
	without, _, err := (&recsys.SlopeOne{}).Fit(&recsys.FitContext{Info: &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: scale}}, train)
	if err != nil {
		t.Fatal(err)
	}
	withUser, _, err := (&recsys.SlopeOne{}).Fit(&recsys.FitContext{Info: &data.RatingInfo{Users: make([]string, nUsers+1), Items: names(nItems), Scale: scale}}, with)
	if err != nil {
		t.Fatal(err)
	}
	got, gotFB, err := without.PredictUser(user)
	if err != nil {
		t.Fatal(err)
	}
	want, wantFB, err := withUser.Predict(pairs(unrated...))
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range unrated {
		if got[p[1]] != want[k] {
			t.Errorf("item %d: PredictUser %v, Predict %v", p[1], got[p[1]], want[k])
		}
	}
	if gotFB != wantFB {
		t.Errorf("%d fallbacks, Predict had %d", gotFB, wantFB)
	}

	prev := runtime.GOMAXPROCS(1)
	one, _, err := (&recsys.SlopeOne{}).Fit(&recsys.FitContext{Info: &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: scale}}, train)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	all := make([][2]int32, 0, nUsers*nItems)
	for u := range int32(nUsers) {
		for i := range int32(nItems) {
			all = append(all, [2]int32{u, i})
		}
	}
	a, _, _ := one.Predict(pairs(all...))
	b, _, _ := without.Predict(pairs(all...))
	if !slices.Equal(a, b) {
		t.Error("one worker fitted a different model")
	}
}

func TestSlopeOneRegistered(t *testing.T) {
	e, ok := recsys.Models.Lookup("slope_one")
	if !ok {
		t.Fatal("slope_one is not registered")
	}
	m := e.New().(*recsys.SlopeOne)
	if m.NewUsers() != nil {
		t.Error("slope_one refuses new users")
	}
	// The item-item deviation matrix: 5 x 5 on tinyRatings.
	if n, f := m.ParamCount(tinyInfo); n != 25 || fitTiny(t, m).(recsys.ParamCounted).TrainableParams() != 25 {
		t.Errorf("ParamCount %d (%s), want 25", n, f)
	}
}
