package recsys_test

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// threeRatings: u1 rates i0 2, u0 rates i0 4 and i1 5 (in that order); u2
// and i2 have no ratings. mu = 11/3.
var threeRatings = ratingSplit([3]float32{1, 0, 2}, [3]float32{0, 0, 4}, [3]float32{0, 1, 5})

func threeInfo() *data.RatingInfo {
	return &data.RatingInfo{Users: names(3), Items: names(3), Scale: [2]float32{1, 5}}
}

// One ALS epoch by hand (reg_i 10, reg_u 15), items first:
//
//	b_i0 = ((4 - 11/3) + (2 - 11/3)) / (10 + 2) = -1/9
//	b_i1 = (5 - 11/3) / (10 + 1)                 = 4/33
//	b_u0 = ((4 - 11/3 + 1/9) + (5 - 11/3 - 4/33)) / (15 + 2) = (164/99)/17 = 164/1683
//	b_u1 = (2 - 11/3 + 1/9) / (15 + 1)           = -7/72
//
// and the predictions: known pairs mu + b_u + b_i; the unknown user u2
// gets mu + b_i, the unknown item i2 mu + b_u, both unknown mu
// (Surprise's BaselineOnly.estimate), each a fallback.
func TestBaselineOnlyALSByHand(t *testing.T) {
	m := &recsys.BaselineOnly{Method: "als", NEpochs: 1, RegU: 15, RegI: 10}
	f, h := fitModel(t, m, threeInfo(), threeRatings, 1)
	s := state(t, f)
	closeAll(t, "bi", s["bi"], []float64{-1.0 / 9, 4.0 / 33, 0}, 1e-12)
	closeAll(t, "bu", s["bu"], []float64{164.0 / 1683, -7.0 / 72, 0}, 1e-12)
	const mu = 11.0 / 3
	pred, fb := predict(t, f, pairs([2]int32{0, 0}, [2]int32{1, 1}, [2]int32{2, 1}, [2]int32{0, 2}, [2]int32{2, 2}))
	want := []float64{mu + 164.0/1683 - 1.0/9, mu - 7.0/72 + 4.0/33, mu + 4.0/33, mu + 164.0/1683, mu}
	for k, w := range want {
		if !near(pred[k], w) {
			t.Errorf("prediction %d = %v, want %.6f", k, pred[k], w)
		}
	}
	if fb != 3 {
		t.Errorf("%d fallbacks, want 3", fb)
	}
	if len(h.Values) != 1 || len(h.Values[0]) != 1 || h.Names[0] != "rmse" {
		t.Errorf("history %v %v, want one epoch of rmse", h.Names, h.Values)
	}
}

// After many epochs ALS has converged to the regularised least-squares
// biases: each side satisfies its closed form given the other.
func TestBaselineOnlyALSConverges(t *testing.T) {
	m := &recsys.BaselineOnly{Method: "als", NEpochs: 500, RegU: 15, RegI: 10}
	f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
	s := state(t, f)
	mu := meanRating(shuffledTiny)
	devU, devI, nU, nI := make([]float64, 6), make([]float64, 5), make([]float64, 6), make([]float64, 5)
	for k := range shuffledTiny.Len() {
		u, i, r := shuffledTiny.X.Int[2*k], shuffledTiny.X.Int[2*k+1], float64(shuffledTiny.Y.Float[k])
		devU[u] += r - mu - s["bi"][i]
		devI[i] += r - mu - s["bu"][u]
		nU[u]++
		nI[i]++
	}
	for u := range devU {
		if want := devU[u] / (15 + nU[u]); math.Abs(s["bu"][u]-want) > 1e-12 {
			t.Errorf("b_u%d = %.12f, its closed form %.12f", u, s["bu"][u], want)
		}
	}
	for i := range devI {
		if want := devI[i] / (10 + nI[i]); math.Abs(s["bi"][i]-want) > 1e-12 {
			t.Errorf("b_i%d = %.12f, its closed form %.12f", i, s["bi"][i], want)
		}
	}
}

// SGD against Surprise's baseline_sgd written out: the ratings in
// Surprise's order, each updating both biases from the same error.
func TestBaselineOnlySGDReference(t *testing.T) {
	const lr, reg, epochs = 0.05, 0.02, 7
	mu := meanRating(shuffledTiny)
	bu, bi := make([]float64, 6), make([]float64, 5)
	for range epochs {
		for _, x := range surpriseWalk(shuffledTiny) {
			e := x.r - (mu + bu[x.u] + bi[x.i])
			bu[x.u] += lr * (e - reg*bu[x.u])
			bi[x.i] += lr * (e - reg*bi[x.i])
		}
	}
	m := &recsys.BaselineOnly{Method: "sgd", NEpochs: epochs, Reg: reg, LearningRate: lr}
	f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
	s := state(t, f)
	closeAll(t, "bu", s["bu"], bu, 1e-12)
	closeAll(t, "bi", s["bi"], bi, 1e-12)
	// The default number of epochs follows the method: 20 for sgd.
	_, h := fitModel(t, &recsys.BaselineOnly{Method: "sgd", Reg: reg, LearningRate: lr}, surpriseInfo(), shuffledTiny, 1)
	if len(h.Values[0]) != 20 {
		t.Errorf("sgd ran %d epochs by default, want 20", len(h.Values[0]))
	}
}

// A new user's bias is the ALS user step over their known items (or the
// SGD fixed point), the item biases fixed: for ratings i0 5 and i1 3,
// b = ((5 - mu - b_i0) + (3 - mu - b_i1)) / (reg_u + 2) with ALS and
// / (2 (1 + reg)) with SGD. i2 has no training ratings: mu + b, a fallback.
func TestBaselineOnlyPredictUser(t *testing.T) {
	const mu = 11.0 / 3
	for _, m := range []*recsys.BaselineOnly{
		{Method: "als", NEpochs: 3, RegU: 15, RegI: 10},
		{Method: "sgd", NEpochs: 3, Reg: 0.02, LearningRate: 0.005},
	} {
		f, _ := fitModel(t, m, threeInfo(), threeRatings, 1)
		bi := state(t, f)["bi"]
		dev := (5 - mu - bi[0]) + (3 - mu - bi[1])
		b := dev / (15 + 2)
		if m.Method == "sgd" {
			b = dev / (2 * (1 + 0.02))
		}
		pred, fb, err := f.PredictUser(map[int32]float32{0: 5, 1: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range []float64{mu + b + bi[0], mu + b + bi[1], mu + b} {
			if !near(pred[i], w) {
				t.Errorf("%s: item %d gets %v, want %.6f", m.Method, i, pred[i], w)
			}
		}
		if fb != 1 {
			t.Errorf("%s: %d fallbacks, want 1 (i2)", m.Method, fb)
		}
		// Only an unknown item rated: the user is unknown, mu + b_i.
		pred, fb, err = f.PredictUser(map[int32]float32{2: 1})
		if err != nil || !near(pred[0], mu+bi[0]) || fb != 2 {
			t.Errorf("%s: a user who rated only i2 gets %v (%d fallbacks, %v), want mu + b_i0 = %.6f", m.Method, pred, fb, err, mu+bi[0])
		}
	}
}
