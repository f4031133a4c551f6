package recsys_test

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/recsys"
)

// svdppReference is Surprise's SVDpp.sgd written out, from given factors:
// at every rating the implicit feedback is summed afresh over the user's
// items and every y_j of them updated, O(|I_u|) per rating.
func svdppReference(walk []rating, rated [][]int32, mu float64, f, epochs int, lr, reg float64, bu, bi, p, q, y []float64) {
	for range epochs {
		for _, x := range walk {
			iu := rated[x.u]
			sqrtN := math.Sqrt(float64(len(iu)))
			imp := make([]float64, f)
			for _, j := range iu {
				for k := range f {
					imp[k] += y[int(j)*f+k] / sqrtN
				}
			}
			var dot float64
			for k := range f {
				dot += q[int(x.i)*f+k] * (p[int(x.u)*f+k] + imp[k])
			}
			e := x.r - (mu + bu[x.u] + bi[x.i] + dot)
			bu[x.u] += lr * (e - reg*bu[x.u])
			bi[x.i] += lr * (e - reg*bi[x.i])
			for k := range f {
				puf, qif := p[int(x.u)*f+k], q[int(x.i)*f+k]
				p[int(x.u)*f+k] += lr * (e*qif - reg*puf)
				q[int(x.i)*f+k] += lr * (e*(puf+imp[k]) - reg*qif)
				for _, j := range iu {
					y[int(j)*f+k] += lr * (e*qif/sqrtN - reg*y[int(j)*f+k])
				}
			}
		}
	}
}

// The fitted model (which composes the y updates of a user's ratings and
// applies them once per user) equals Surprise's direct loop run from the
// same initial factors, to rounding.
func TestSVDppReference(t *testing.T) {
	const f, epochs, lr, reg = 3, 8, 0.03, 0.05
	m := &recsys.SVDpp{NFactors: f, NEpochs: 0, InitStdDev: 0.1, LrAll: lr, RegAll: reg}
	f0, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 3)
	s := state(t, f0)
	svdppReference(surpriseWalk(shuffledTiny), itemsOf(shuffledTiny, 6), meanRating(shuffledTiny), f, epochs, lr, reg, s["bu"], s["bi"], s["p"], s["q"], s["y"])
	m.NEpochs = epochs
	fitted, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 3)
	got := state(t, fitted)
	for _, name := range []string{"bu", "bi", "p", "q", "y"} {
		closeAll(t, name, got[name], s[name], 1e-10)
	}
	// Predict is the estimate of those factors: u1 rated i0..i3.
	z := make([]float64, f)
	for _, j := range []int{0, 1, 2, 3} {
		for k := range f {
			z[k] += s["y"][j*f+k] / 2
		}
	}
	want := meanRating(shuffledTiny) + s["bu"][1] + s["bi"][2]
	for k := range f {
		want += s["q"][2*f+k] * (s["p"][1*f+k] + z[k])
	}
	if pred, _ := predict(t, fitted, pairs([2]int32{1, 2})); !near(pred[0], want) {
		t.Errorf("(u1, i2): %v, want %.6f", pred[0], want)
	}
}

// Unknown users and items get the known bias only (Surprise's
// SVDpp.estimate), each a fallback.
func TestSVDppUnknown(t *testing.T) {
	mu := meanRating(shuffledTiny)
	m := &recsys.SVDpp{NFactors: 3, NEpochs: 4, InitStdDev: 0.1, LrAll: 0.007, RegAll: 0.02}
	f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
	s := state(t, f)
	pred, fb := predict(t, f, pairs([2]int32{4, 1}, [2]int32{2, 4}, [2]int32{4, 4}))
	for k, w := range []float64{mu + s["bi"][1], mu + s["bu"][2], mu} {
		if !near(pred[k], w) {
			t.Errorf("prediction %d = %v, want %.6f", k, pred[k], w)
		}
	}
	if fb != 3 {
		t.Errorf("%d fallbacks, want 3", fb)
	}
}

// A new user's implicit feedback is z = (y_0 + y_1 + y_3)/sqrt(3) over
// their items with training ratings (i4 has none); their factor and bias
// (one factor) then solve the ridge regression of y_i = r_i - mu - b_i -
// q_i z on (q_i, 1), penalty reg_all·n, as in TestSVDPredictUser; the
// rating of item i is mu + b + b_i + q_i (p + z), of i4 mu + b.
func TestSVDppPredictUser(t *testing.T) {
	const reg = 0.05
	m := &recsys.SVDpp{NFactors: 1, NEpochs: 10, InitStdDev: 0.1, LrAll: 0.02, RegAll: reg}
	f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
	s := state(t, f)
	mu := meanRating(shuffledTiny)
	user := map[int32]float32{0: 2, 1: 5, 3: 4, 4: 1}
	z := (s["y"][0] + s["y"][1] + s["y"][3]) / math.Sqrt(3)
	var sqq, sq, sqy, sy, n float64
	for _, i := range []int32{0, 1, 3} {
		q := s["q"][i]
		y := float64(user[i]) - mu - s["bi"][i] - q*z
		sqq, sq, sqy, sy, n = sqq+q*q, sq+q, sqy+q*y, sy+y, n+1
	}
	lambda := reg * n
	det := (sqq+lambda)*(n+lambda) - sq*sq
	p := (sqy*(n+lambda) - sq*sy) / det
	b := ((sqq+lambda)*sy - sq*sqy) / det
	pred, fb, err := f.PredictUser(user)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if w := mu + b + s["bi"][i] + (p+z)*s["q"][i]; !near(pred[i], w) {
			t.Errorf("item %d: %v, want %.6f", i, pred[i], w)
		}
	}
	if !near(pred[4], mu+b) || fb != 0 {
		t.Errorf("i4: %v, want %.6f; %d fallbacks, want 0", pred[4], mu+b, fb)
	}
}
