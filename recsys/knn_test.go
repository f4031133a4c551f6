package recsys_test

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// The k-NN family on tinyRatings (see user_knn_test.go):
//
//	     i0 i1 i2 i3   mean   sd (population)
//	u0    5  3  4  .   4      sqrt(2/3)
//	u1    4  2  3  5   3.5    sqrt(5/4)
//	u2    1  5  2  1   2.25   sqrt(43/16)
//	u3    5  4  .  4   13/3   sqrt(2/9)
//	u5    5  5  .  .   5      0
//
// global mean 58/16 = 3.625; u4 and i4 have no training ratings.

var tinyInfo = &data.RatingInfo{Users: names(6), Items: names(5), Scale: [2]float32{1, 5}}

// tinyALS1 are the baselines of one ALS epoch (n_epochs 1, reg_i 10,
// reg_u 15) on tinyRatings: first every b_i = Σ_u (r_ui - mu) / (10 + n_i)
// with b_u = 0, then every b_u = Σ_i (r_ui - mu - b_i) / (15 + n_u).
func tinyALS1() (mu float64, bu, bi []float64) {
	mu = 3.625
	bi = []float64{
		(5 + 4 + 1 + 5 + 5 - 5*mu) / 15,
		(3 + 2 + 5 + 4 + 5 - 5*mu) / 15,
		(4 + 3 + 2 - 3*mu) / 13,
		(5 + 1 + 4 - 3*mu) / 13,
		0,
	}
	e := func(r float64, i int) float64 { return r - mu - bi[i] }
	bu = []float64{
		(e(5, 0) + e(3, 1) + e(4, 2)) / 18,
		(e(4, 0) + e(2, 1) + e(3, 2) + e(5, 3)) / 19,
		(e(1, 0) + e(5, 1) + e(2, 2) + e(1, 3)) / 19,
		(e(5, 0) + e(4, 1) + e(4, 3)) / 18,
		0,
		(e(5, 0) + e(5, 1)) / 17,
	}
	return mu, bu, bi
}

func fitTiny(t *testing.T, m recsys.Recommender) recsys.Fitted {
	t.Helper()
	f, h, err := m.Fit(&recsys.FitContext{Info: tinyInfo, Seed: 1}, tinyRatings)
	if err != nil || h != nil {
		t.Fatalf("Fit: %v %v", h, err)
	}
	return f
}

func knnWith(aggregate string, set func(*recsys.KNN)) *recsys.KNN {
	m := recsys.NewKNN(aggregate)
	if set != nil {
		set(m)
	}
	return m
}

// TestKNNSimilaritiesByHand: u0's row of each similarity (Surprise's
// similarities.pyx), over the items u0 shares with each user: u1 and u2
// share i0, i1, i2; u3 and u5 share i0, i1; u4 shares nothing (0); u0
// itself is 1.
func TestKNNSimilaritiesByHand(t *testing.T) {
	mu, bu, bi := tinyALS1()
	// pearson_baseline: residuals e = r - (mu + b_u + b_i) over the shared
	// items, cosine of them, times (n-1)/(n-1+100).
	pb := func(u0, v []float64, vu int, items []int) float64 {
		var dot, s0, sv float64
		for k, i := range items {
			e0, ev := u0[k]-(mu+bu[0]+bi[i]), v[k]-(mu+bu[vu]+bi[i])
			dot, s0, sv = dot+e0*ev, s0+e0*e0, sv+ev*ev
		}
		n := float64(len(items))
		return dot / math.Sqrt(s0*sv) * (n - 1) / (n - 1 + 100)
	}
	for _, c := range []struct {
		sim  string
		want []float64 // u0..u5
	}{
		// msd = 1 / (mean squared difference + 1): u1 (1,1,1) -> 1/2;
		// u2 (4,2,2) -> 1/(24/3+1); u3 (0,1) -> 1/(1/2+1); u5 (0,2) -> 1/(4/2+1).
		{"msd", []float64{1, 0.5, 1.0 / 9, 2.0 / 3, 0, 1.0 / 3}},
		// cosine of the raw ratings: u0 (5,3,4) with u1 (4,2,3), u2 (1,5,2);
		// u0 (5,3) with u3 (5,4), u5 (5,5).
		{"cosine", []float64{1, 38 / math.Sqrt(50*29), 28 / math.Sqrt(50*30), 37 / math.Sqrt(34*41), 0, 40 / math.Sqrt(34*50)}},
		// pearson about the means of the shared items: u1 moves with u0
		// exactly (1); u2: (n Σxy - Σx Σy)/sqrt(...) = (3*28 - 12*8) /
		// sqrt((3*50 - 144)(3*30 - 64)) = -12/sqrt(156); u3 (5,4) vs (5,3): 1;
		// u5 is constant over i0, i1: denominator 0 -> 0.
		{"pearson", []float64{1, 1, -12 / math.Sqrt(156), 1, 0, 0}},
		{"pearson_baseline", []float64{1,
			pb([]float64{5, 3, 4}, []float64{4, 2, 3}, 1, []int{0, 1, 2}),
			pb([]float64{5, 3, 4}, []float64{1, 5, 2}, 2, []int{0, 1, 2}),
			pb([]float64{5, 3}, []float64{5, 4}, 3, []int{0, 1}),
			0,
			pb([]float64{5, 3}, []float64{5, 5}, 5, []int{0, 1})}},
	} {
		f := fitTiny(t, knnWith("basic", func(m *recsys.KNN) { m.Similarity, m.BaselineOptions.Epochs = c.sim, 1 }))
		got := recsys.KNNSimilarityRow(f, 0)
		for v, want := range c.want {
			if math.Abs(got[v]-want) > 1e-12 {
				t.Errorf("%s: sim(u0, u%d) = %.9f, want %.9f", c.sim, v, got[v], want)
			}
		}
	}
	// min_support 3 keeps only u1 and u2 (3 shared items) and u0 itself.
	f := fitTiny(t, knnWith("basic", func(m *recsys.KNN) { m.MinSupport = 3 }))
	if got := recsys.KNNSimilarityRow(f, 0); !slices.Equal(got, []float64{1, 0.5, 1.0 / 9, 0, 0, 0}) {
		t.Errorf("msd, min_support 3: %v", got)
	}
	// Item-based msd, i3's row over the users who rated both: i0 (u1, u2,
	// u3: (5,1,4) vs (4,1,5)) 1/(2/3+1) = 0.6; i1 ((2,5,4)) 1/(25/3+1) =
	// 3/28; i2 (u1, u2: (5,1) vs (3,2)) 1/(5/2+1) = 2/7; i4: 0.
	f = fitTiny(t, knnWith("basic", func(m *recsys.KNN) { m.UserBased = false }))
	got, want := recsys.KNNSimilarityRow(f, 3), []float64{0.6, 3.0 / 28, 2.0 / 7, 1, 0}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-12 {
			t.Errorf("item-based msd: sim(i3, i%d) = %.9f, want %.9f", j, got[j], want[j])
		}
	}
}

// TestKNNPredictByHand: Surprise's four aggregations of the neighbours of
// (u0, i3), the raters of i3: u1 (5), u2 (1), u3 (4), with msd
// similarities 1/2, 1/9, 2/3 (Σ = 23/18).
func TestKNNPredictByHand(t *testing.T) {
	mu, bu, bi := tinyALS1()
	b := func(u, i int) float64 { return mu + bu[u] + bi[i] }
	sdU0, sdU1, sdU2, sdU3 := math.Sqrt(2.0/3), math.Sqrt(5.0/4), math.Sqrt(43.0/16), math.Sqrt(2.0/9)
	cos1, cos2, cos3 := 38/math.Sqrt(50*29), 28/math.Sqrt(50*30), 37/math.Sqrt(34*41)
	for _, c := range []struct {
		name  string
		model *recsys.KNN
		want  float64
	}{
		// Σ sim·r / Σ sim = (5/2 + 1/9 + 8/3) / (23/18) = 95/23.
		{"basic msd", knnWith("basic", nil), 95.0 / 23},
		// k 2 keeps u3 (2/3) and u1 (1/2): (8/3 + 5/2) / (7/6) = 31/7.
		{"basic msd k 2", knnWith("basic", func(m *recsys.KNN) { m.K = 2 }), 31.0 / 7},
		{"basic cosine", knnWith("basic", func(m *recsys.KNN) { m.Similarity = "cosine" }),
			(cos1*5 + cos2*1 + cos3*4) / (cos1 + cos2 + cos3)},
		// pearson: u2's similarity is negative, so u1 and u3 (both 1) alone.
		{"basic pearson", knnWith("basic", func(m *recsys.KNN) { m.Similarity = "pearson" }), 4.5},
		// mu_u0 + Σ sim·(r - mu_v) / Σ sim = 4 + (1/2·1.5 + 1/9·-1.25 +
		// 2/3·-1/3) / (23/18) = 4 + 7/23.
		{"means msd", knnWith("means", nil), 4 + 7.0/23},
		{"means pearson", knnWith("means", func(m *recsys.KNN) { m.Similarity = "pearson" }), 4 + (1.5-1.0/3)/2},
		// mu_u0 + sd_u0 · Σ sim·(r - mu_v)/sd_v / Σ sim.
		{"zscore msd", knnWith("zscore", nil),
			4 + sdU0*(0.5*1.5/sdU1+(1.0/9)*-1.25/sdU2+(2.0/3)*(-1.0/3)/sdU3)/(23.0/18)},
		// b_u0,i3 + Σ sim·(r - b_v,i3) / Σ sim, one ALS epoch.
		{"baseline msd", knnWith("baseline", func(m *recsys.KNN) { m.BaselineOptions.Epochs = 1 }),
			b(0, 3) + (0.5*(5-b(1, 3))+(1.0/9)*(1-b(2, 3))+(2.0/3)*(4-b(3, 3)))/(23.0/18)},
		// Item-based: the neighbours of i3 are u0's items i0 (5), i1 (3),
		// i2 (4) with msd 0.6, 3/28, 2/7.
		{"basic msd item-based", knnWith("basic", func(m *recsys.KNN) { m.UserBased = false }),
			(0.6*5 + 3.0/28*3 + 2.0/7*4) / (0.6 + 3.0/28 + 2.0/7)},
		// mu_i3 + Σ sim·(r_u0j - mu_j) / Σ sim; item means 4, 3.8, 3, 10/3.
		{"means msd item-based", knnWith("means", func(m *recsys.KNN) { m.UserBased = false }),
			10.0/3 + (0.6*(5-4)+3.0/28*(3-3.8)+2.0/7*(4-3))/(0.6+3.0/28+2.0/7)},
	} {
		f := fitTiny(t, c.model)
		pred, fb, err := f.Predict(pairs([2]int32{0, 3}))
		if err != nil {
			t.Fatal(err)
		}
		if !near(pred[0], c.want) || fb != 0 {
			t.Errorf("%s: got %.6f (%d fallbacks), want %.6f", c.name, pred[0], fb, c.want)
		}
	}
}

// TestKNNFallbacks: fewer than min_k neighbours drop the neighbour term
// (basic: the global mean), unknown users and items get the global mean
// (baseline: mu plus the biases known), and all count as fallbacks.
func TestKNNFallbacks(t *testing.T) {
	mu, bu, bi := tinyALS1()
	for _, c := range []struct {
		name  string
		model *recsys.KNN
		want  []float64 // (u0, i3), (u4, i0), (u0, i4), (u4, i4)
	}{
		// (u0, i3) has 3 neighbours; min_k 4 wants more.
		{"basic", knnWith("basic", func(m *recsys.KNN) { m.MinK = 4 }), []float64{3.625, 3.625, 3.625, 3.625}},
		{"means", knnWith("means", func(m *recsys.KNN) { m.MinK = 4 }), []float64{4, 3.625, 3.625, 3.625}},
		{"zscore", knnWith("zscore", func(m *recsys.KNN) { m.MinK = 4 }), []float64{4, 3.625, 3.625, 3.625}},
		{"baseline", knnWith("baseline", func(m *recsys.KNN) { m.MinK, m.BaselineOptions.Epochs = 4, 1 }),
			[]float64{mu + bu[0] + bi[3], mu + bi[0], mu + bu[0], mu}},
		// Negative similarities are no neighbours: pearson leaves u1 and u3.
		{"basic pearson min_k 3", knnWith("basic", func(m *recsys.KNN) { m.MinK, m.Similarity = 3, "pearson" }), []float64{3.625, 3.625, 3.625, 3.625}},
		{"basic item-based", knnWith("basic", func(m *recsys.KNN) { m.MinK, m.UserBased = 4, false }), []float64{3.625, 3.625, 3.625, 3.625}},
	} {
		f := fitTiny(t, c.model)
		pred, fb, err := f.Predict(pairs([2]int32{0, 3}, [2]int32{4, 0}, [2]int32{0, 4}, [2]int32{4, 4}))
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range c.want {
			if !near(pred[k], want) {
				t.Errorf("%s: prediction %d is %.6f, want %.6f", c.name, k, pred[k], want)
			}
		}
		if fb != 4 {
			t.Errorf("%s: %d fallbacks, want 4", c.name, fb)
		}
	}
	// With min_k 3 the three msd neighbours suffice: no fallback.
	if _, fb, _ := fitTiny(t, knnWith("basic", func(m *recsys.KNN) { m.MinK = 3 })).Predict(pairs([2]int32{0, 3})); fb != 0 {
		t.Errorf("min_k 3 with 3 neighbours: %d fallbacks", fb)
	}
}

// TestKNNClip: knn_with_means, cosine, for (u5, i3): u5's mean 5 plus
// (.94868*1.5 + .83205*-1.25 + .99388*-1/3) / 2.77461 = 5.0186, clipped.
func TestKNNClip(t *testing.T) {
	f := fitTiny(t, knnWith("means", func(m *recsys.KNN) { m.Similarity = "cosine" }))
	pred, _, err := f.Predict(pairs([2]int32{5, 3}))
	if err != nil {
		t.Fatal(err)
	}
	if pred[0] != 5 {
		t.Errorf("got %v, want 5 (5.0186 clipped)", pred[0])
	}
}

// TestKNNBaselinesByHand: the baselines alone (min_k past any neighbour
// count) are mu + b_u + b_i. ALS, one epoch: tinyALS1. SGD, one epoch, lr
// 0.005, reg 0.02, on u0 -> i0: 5 and u1 -> i0: 3 (mu 4):
//
//	(u0, i0): err 1;   b_u0 = .005·1 = .005, b_i0 = .005
//	(u1, i0): err 3 - 4.005 = -1.005; b_u1 = -.005025,
//	          b_i0 = .005 + .005·(-1.005 - .02·.005) = -.0000255
//
// so (u0, i0) = 4 + .005 - .0000255. n_epochs 0 is the method's default.
func TestKNNBaselinesByHand(t *testing.T) {
	mu, bu, bi := tinyALS1()
	f := fitTiny(t, knnWith("baseline", func(m *recsys.KNN) { m.MinK, m.BaselineOptions.Epochs = 100, 1 }))
	pred, _, err := f.Predict(pairs([2]int32{0, 3}, [2]int32{2, 1}, [2]int32{5, 2}))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range []float64{mu + bu[0] + bi[3], mu + bu[2] + bi[1], mu + bu[5] + bi[2]} {
		if !near(pred[k], want) {
			t.Errorf("ALS baseline %d: %.6f, want %.6f", k, pred[k], want)
		}
	}

	two := ratingSplit([3]float32{0, 0, 5}, [3]float32{1, 0, 3})
	info := &data.RatingInfo{Users: names(2), Items: names(1), Scale: [2]float32{1, 5}}
	sgd := knnWith("baseline", func(m *recsys.KNN) { m.MinK, m.BaselineOptions.Method, m.BaselineOptions.Epochs = 100, "sgd", 1 })
	f, _, err = sgd.Fit(&recsys.FitContext{Info: info}, two)
	if err != nil {
		t.Fatal(err)
	}
	pred, _, _ = f.Predict(pairs([2]int32{0, 0}, [2]int32{1, 0}))
	if want := 4 + .005 - .0000255; math.Abs(float64(pred[0])-want) > 1e-6 {
		t.Errorf("SGD baseline (u0, i0): %.7f, want %.7f", pred[0], want)
	}
	if want := 4 - .005025 - .0000255; math.Abs(float64(pred[1])-want) > 1e-6 {
		t.Errorf("SGD baseline (u1, i0): %.7f, want %.7f", pred[1], want)
	}

	for method, n := range map[string]int{"als": 10, "sgd": 20} {
		var preds [2][]float32
		for k, epochs := range []int{0, n} {
			f := fitTiny(t, knnWith("baseline", func(m *recsys.KNN) { m.MinK, m.BaselineOptions.Method, m.BaselineOptions.Epochs = 100, method, epochs }))
			preds[k], _, _ = f.Predict(pairs([2]int32{0, 3}, [2]int32{1, 1}))
		}
		if !slices.Equal(preds[0], preds[1]) {
			t.Errorf("%s: n_epochs 0 gave %v, %d gave %v", method, preds[0], n, preds[1])
		}
	}
}

// TestKNNPredictUserByHand: a new user rating i0 5 and i1 3 (mean 4).
// User-based msd: the training users sharing those items are u0 (5,3: 1),
// u1 (4,2: 1/2), u2 (1,5: 1/(20/2+1) = 1/11), u3 (5,4: 2/3), u5 (5,5:
// 1/3). i3's raters u1 (5), u2 (1), u3 (4):
//
//	basic: (5/2 + 1/11 + 8/3) / (1/2 + 1/11 + 2/3)
//
// knn_baseline (min_k 100, one ALS epoch) is the folded-in baseline
// mu + b_new + b_i3, b_new = Σ (r - mu - b_i) / (15 + 2) over i0, i1.
// i4 has no training ratings: the global mean (baseline: mu + b_new), a
// fallback.
func TestKNNPredictUserByHand(t *testing.T) {
	user := map[int32]float32{0: 5, 1: 3}
	mu, _, bi := tinyALS1()
	bNew := ((5 - mu - bi[0]) + (3 - mu - bi[1])) / 17
	for _, c := range []struct {
		name   string
		model  *recsys.KNN
		i3, i4 float64
		fb     int
	}{
		{"basic", knnWith("basic", nil), (2.5 + 1.0/11 + 8.0/3) / (0.5 + 1.0/11 + 2.0/3), 3.625, 1},
		{"baseline", knnWith("baseline", func(m *recsys.KNN) { m.MinK, m.BaselineOptions.Epochs = 100, 1 }), mu + bNew + bi[3], mu + bNew, 3},
		// Item-based: i3's neighbours are i0 (0.6) and i1 (3/28).
		{"basic item-based", knnWith("basic", func(m *recsys.KNN) { m.UserBased = false }), (0.6*5 + 3.0/28*3) / (0.6 + 3.0/28), 3.625, 1},
	} {
		pred, fb, err := fitTiny(t, c.model).PredictUser(user)
		if err != nil {
			t.Fatal(err)
		}
		if !near(pred[3], c.i3) || !near(pred[4], c.i4) || fb != c.fb {
			t.Errorf("%s: i3 %.6f, i4 %.6f, %d fallbacks; want %.6f, %.6f, %d", c.name, pred[3], pred[4], fb, c.i3, c.i4, c.fb)
		}
	}
}

// TestKNNPredictUserMatchesPredict: for the items a new user did not rate,
// PredictUser equals Predict for the same ratings given as one more
// training user where nothing else depends on that user: user-based with
// the means and z-score (whose fallback is the user's own mean), basic
// with msd and cosine (all similarities positive, so no global-mean
// fallback), and item-based basic (the target item's similarities do not
// involve the user).
func TestKNNPredictUserMatchesPredict(t *testing.T) {
	const nUsers, nItems = 40, 25
	train := randomRatings(3, nUsers, nItems, 0.4)
	user := map[int32]float32{0: 5, 3: 4, 4: 1, 7: 2, 11: 5, 20: 3}
	with, unrated := withNewUser(train, user, nUsers, nItems)
	scale := [2]float32{1, 5}
	infoWithout := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: scale}
	infoWith := &data.RatingInfo{Users: make([]string, nUsers+1), Items: names(nItems), Scale: scale}
	type cfg struct {
		aggregate, sim string
		userBased      bool
	}
	var cfgs []cfg
	for _, agg := range []string{"means", "zscore"} {
		for _, sim := range []string{"msd", "cosine", "pearson"} {
			cfgs = append(cfgs, cfg{agg, sim, true})
		}
	}
	cfgs = append(cfgs, cfg{"basic", "msd", true}, cfg{"basic", "cosine", true}, cfg{"basic", "msd", false}, cfg{"basic", "cosine", false})
	for _, c := range cfgs {
		params := knnWith(c.aggregate, func(m *recsys.KNN) { m.Similarity, m.UserBased, m.K, m.MinK = c.sim, c.userBased, 5, 2 })
		without, _, err := params.Fit(&recsys.FitContext{Info: infoWithout}, train)
		if err != nil {
			t.Fatal(err)
		}
		withUser, _, err := params.Fit(&recsys.FitContext{Info: infoWith}, with)
		if err != nil {
			t.Fatal(err)
		}
		got, gotFallbacks, err := without.PredictUser(user)
		if err != nil {
			t.Fatal(err)
		}
		want, wantFallbacks, err := withUser.Predict(pairs(unrated...))
		if err != nil {
			t.Fatal(err)
		}
		for k, p := range unrated {
			if math.Abs(float64(got[p[1]]-want[k])) > 1e-6 {
				t.Errorf("%+v: item %d: PredictUser %v, Predict %v", c, p[1], got[p[1]], want[k])
			}
		}
		if gotFallbacks != wantFallbacks || (c.aggregate == "basic" && c.userBased && gotFallbacks != 0) {
			t.Errorf("%+v: %d fallbacks, Predict had %d", c, gotFallbacks, wantFallbacks)
		}
	}
}

// TestKNNDenseLazyDeterministic: the stored similarity matrix and rows
// computed in Predict give the same predictions, for every variant,
// similarity and side; the matrix is exactly symmetric; and one worker
// gives what several give.
func TestKNNDenseLazyDeterministic(t *testing.T) {
	const nUsers, nItems = 30, 20
	train := randomRatings(7, nUsers, nItems, 0.45)
	info := &data.RatingInfo{Users: names(nUsers + 1), Items: names(nItems + 1), Scale: [2]float32{1, 5}}
	var test [][2]int32
	for u := range int32(nUsers + 1) {
		for i := range int32(nItems + 1) {
			if (u+i)%3 == 0 {
				test = append(test, [2]int32{u, i})
			}
		}
	}
	user := map[int32]float32{1: 4, 2: 2, 9: 5, 15: 3}
	for _, agg := range []string{"basic", "means", "zscore", "baseline"} {
		for _, sim := range []string{"cosine", "msd", "pearson", "pearson_baseline"} {
			for _, userBased := range []bool{true, false} {
				params := knnWith(agg, func(m *recsys.KNN) { m.Similarity, m.UserBased, m.K, m.Shrinkage = sim, userBased, 4, 5 })
				dense, _, err := params.Fit(&recsys.FitContext{Info: info}, train)
				if err != nil {
					t.Fatal(err)
				}
				restore := recsys.SetKNNDenseLimit(0)
				lazy, _, err := params.Fit(&recsys.FitContext{Info: info}, train)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				prev := runtime.GOMAXPROCS(1)
				one, _, err := params.Fit(&recsys.FitContext{Info: info}, train)
				runtime.GOMAXPROCS(prev)
				if err != nil {
					t.Fatal(err)
				}
				if !recsys.KNNDense(dense) || recsys.KNNDense(lazy) {
					t.Fatalf("dense %v, lazy %v", recsys.KNNDense(dense), recsys.KNNDense(lazy))
				}
				n := nUsers + 1
				if !userBased {
					n = nItems + 1
				}
				for x := range int32(n) {
					row := recsys.KNNSimilarityRow(dense, x)
					if !slices.Equal(row, recsys.KNNSimilarityRow(lazy, x)) {
						t.Errorf("%s %s user_based=%v: row %d differs between dense and lazy", agg, sim, userBased, x)
					}
					for x2 := range int32(n) {
						if row[x2] != recsys.KNNSimilarityRow(dense, x2)[x] {
							t.Fatalf("%s %s user_based=%v: sim(%d, %d) is not symmetric", agg, sim, userBased, x, x2)
						}
					}
				}
				a, fa, _ := dense.Predict(pairs(test...))
				b, fb, _ := lazy.Predict(pairs(test...))
				c, fc, _ := one.Predict(pairs(test...))
				if !slices.Equal(a, b) || !slices.Equal(a, c) || fa != fb || fa != fc {
					t.Errorf("%s %s user_based=%v: dense, lazy and one-worker predictions differ", agg, sim, userBased)
				}
				pa, _, _ := dense.PredictUser(user)
				pb, _, _ := lazy.PredictUser(user)
				if !slices.Equal(pa, pb) {
					t.Errorf("%s %s user_based=%v: PredictUser differs between dense and lazy", agg, sim, userBased)
				}
			}
		}
	}
}

// TestKNNRegistered: the four names, Surprise's defaults, and the
// parameter counts (memory-based; baselines count their biases).
func TestKNNRegistered(t *testing.T) {
	for name, agg := range map[string]string{"knn_basic": "basic", "knn_with_means": "means", "knn_with_zscore": "zscore", "knn_baseline": "baseline"} {
		e, ok := recsys.Models.Lookup(name)
		if !ok {
			t.Fatalf("%s is not registered", name)
		}
		m := e.New().(*recsys.KNN)
		if m.Aggregate != agg || m.K != 40 || m.MinK != 1 || m.Similarity != "msd" || !m.UserBased || m.MinSupport != 1 || m.Shrinkage != 100 ||
			m.BaselineOptions != (recsys.BaselineOptions{Method: "als", RegU: 15, RegI: 10, Reg: 0.02, LearningRate: 0.005}) || m.NewUsers() != nil {
			t.Errorf("%s: defaults %+v", name, m)
		}
		n, _ := m.ParamCount(tinyInfo)
		want := 0
		if agg == "baseline" {
			want = 6 + 5
		}
		if n != want || fitTiny(t, m).(recsys.ParamCounted).TrainableParams() != want {
			t.Errorf("%s: %d parameters, want %d", name, n, want)
		}
	}
	m := knnWith("means", func(m *recsys.KNN) { m.Similarity = "pearson_baseline" })
	if n, _ := m.ParamCount(tinyInfo); n != 11 {
		t.Errorf("pearson_baseline fits baselines: %d parameters, want 11", n)
	}
	if _, _, err := (&recsys.KNN{K: 40, MinK: 1, Similarity: "msd", Aggregate: "median"}).Fit(&recsys.FitContext{Info: tinyInfo}, tinyRatings); err == nil {
		t.Error("an unknown variant was accepted")
	}
}
