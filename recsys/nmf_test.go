package recsys_test

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// One epoch by hand on a single rating (u0, i0, 4), one factor, reg 0.06,
// from the initial p0 and q0 (a fit of no epochs): est = p0 q0, and both
// factors are updated from the sums of the same pass, so q's update uses
// the old p0, as in Surprise:
//
//	p1 = p0 · q0·4 / (q0·est + 0.06·1·p0)
//	q1 = q0 · p0·4 / (p0·est + 0.06·1·q0)
func TestNMFOneEpochByHand(t *testing.T) {
	info := &data.RatingInfo{Users: names(1), Items: names(1), Scale: [2]float32{1, 5}}
	train := ratingSplit([3]float32{0, 0, 4})
	m := &recsys.NMF{NFactors: 1, NEpochs: 0, RegPU: 0.06, RegQI: 0.06, InitHigh: 1}
	f0, _ := fitModel(t, m, info, train, 1)
	s := state(t, f0)
	p0, q0 := s["p"][0], s["q"][0]
	if p0 <= 0 || p0 >= 1 || q0 <= 0 || q0 >= 1 {
		t.Fatalf("initial factors %v %v outside (0, 1)", p0, q0)
	}
	m.NEpochs = 1
	f1, _ := fitModel(t, m, info, train, 1)
	got := state(t, f1)
	est := p0 * q0
	closeAll(t, "p", got["p"], []float64{p0 * q0 * 4 / (q0*est + 0.06*p0)}, 1e-12)
	closeAll(t, "q", got["q"], []float64{q0 * p0 * 4 / (p0*est + 0.06*q0)}, 1e-12)
}

// nmfReference is Surprise's NMF.sgd written out, from given factors.
func nmfReference(walk []rating, nUsers, nItems int, mu float64, biased bool, f, epochs int, reg, regB, lrB float64, bu, bi, p, q []float64) {
	if !biased {
		mu = 0
	}
	nu, ni := make([]float64, nUsers), make([]float64, nItems)
	for _, x := range walk {
		nu[x.u]++
		ni[x.i]++
	}
	for range epochs {
		un, ud := make([]float64, nUsers*f), make([]float64, nUsers*f)
		in, id := make([]float64, nItems*f), make([]float64, nItems*f)
		for _, x := range walk {
			est := mu + bu[x.u] + bi[x.i]
			for k := range f {
				est += q[int(x.i)*f+k] * p[int(x.u)*f+k]
			}
			if biased {
				e := x.r - est
				bu[x.u] += lrB * (e - regB*bu[x.u])
				bi[x.i] += lrB * (e - regB*bi[x.i])
			}
			for k := range f {
				un[int(x.u)*f+k] += q[int(x.i)*f+k] * x.r
				ud[int(x.u)*f+k] += q[int(x.i)*f+k] * est
				in[int(x.i)*f+k] += p[int(x.u)*f+k] * x.r
				id[int(x.i)*f+k] += p[int(x.u)*f+k] * est
			}
		}
		for u := range nUsers {
			for k := range f {
				if nu[u] > 0 {
					p[u*f+k] *= un[u*f+k] / (ud[u*f+k] + nu[u]*reg*p[u*f+k])
				}
			}
		}
		for i := range nItems {
			for k := range f {
				if ni[i] > 0 {
					q[i*f+k] *= in[i*f+k] / (id[i*f+k] + ni[i]*reg*q[i*f+k])
				}
			}
		}
	}
}

// The fitted model equals Surprise's loop from the same initial factors,
// biased and not, and its factors stay non-negative.
func TestNMFReference(t *testing.T) {
	for _, biased := range []bool{false, true} {
		const f, epochs = 3, 9
		m := &recsys.NMF{NFactors: f, NEpochs: 0, Biased: biased, RegPU: 0.06, RegQI: 0.06, RegBU: 0.02, RegBI: 0.02, LrBU: 0.005, LrBI: 0.005, InitHigh: 1}
		f0, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 4)
		s := state(t, f0)
		nmfReference(surpriseWalk(shuffledTiny), 6, 5, meanRating(shuffledTiny), biased, f, epochs, 0.06, 0.02, 0.005, s["bu"], s["bi"], s["p"], s["q"])
		m.NEpochs = epochs
		fitted, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 4)
		got := state(t, fitted)
		for _, name := range []string{"bu", "bi", "p", "q"} {
			closeAll(t, name, got[name], s[name], 1e-10)
		}
		for _, name := range []string{"p", "q"} {
			for k, v := range got[name] {
				if v < 0 {
					t.Errorf("biased %v: %s[%d] = %v < 0", biased, name, k, v)
				}
			}
		}
	}
}

// Unbiased, a pair with an unknown side is impossible for Surprise and
// gets the mean training rating; biased, the known bias. Each is a
// fallback.
func TestNMFUnknown(t *testing.T) {
	mu := meanRating(shuffledTiny)
	for _, biased := range []bool{false, true} {
		m := &recsys.NMF{NFactors: 2, NEpochs: 5, Biased: biased, RegPU: 0.06, RegQI: 0.06, RegBU: 0.02, RegBI: 0.02, LrBU: 0.005, LrBI: 0.005, InitHigh: 1}
		f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
		s := state(t, f)
		pred, fb := predict(t, f, pairs([2]int32{4, 1}, [2]int32{2, 4}, [2]int32{4, 4}))
		want := []float64{mu, mu, mu}
		if biased {
			want = []float64{mu + s["bi"][1], mu + s["bu"][2], mu}
		}
		for k, w := range want {
			if !near(pred[k], w) {
				t.Errorf("biased %v: prediction %d = %v, want %.6f", biased, k, pred[k], w)
			}
		}
		if fb != 3 {
			t.Errorf("biased %v: %d fallbacks, want 3", biased, fb)
		}
	}
}

// Fold-in, one factor. Unbiased, the multiplicative update reaches its
// fixed point p = Σ q_i r_i / (Σ q_i² + reg_pu·n) over the user's items
// with training ratings, and item i gets p q_i; the unknown item i4, not
// rated, the mean training rating (a fallback). Biased, i4 gets mu + b,
// which gives b; then b and p (positive for this user, so not held at the
// bound 0) satisfy their fixed points together:
// b = Σ (r_i - mu - b_i - p q_i) / (n (1 + reg_bu)) and
// p = Σ q_i (r_i - mu - b - b_i) / (Σ q_i² + reg_pu·n).
func TestNMFPredictUser(t *testing.T) {
	mu := meanRating(shuffledTiny)
	user := map[int32]float32{0: 5, 1: 2, 3: 4} // i0, whose q is largest, rated highest: p > 0
	for _, biased := range []bool{false, true} {
		m := &recsys.NMF{NFactors: 1, NEpochs: 20, Biased: biased, RegPU: 0.06, RegQI: 0.06, RegBU: 0.02, RegBI: 0.02, LrBU: 0.005, LrBI: 0.005, InitHigh: 1}
		f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
		s := state(t, f)
		pred, fb, err := f.PredictUser(user)
		if err != nil {
			t.Fatal(err)
		}
		if fb != 1 {
			t.Errorf("biased %v: %d fallbacks, want 1 (i4)", biased, fb)
		}
		q, bi := s["q"], s["bi"]
		if !biased {
			var num, den float64
			for _, i := range []int32{0, 1, 3} {
				num += q[i] * float64(user[i])
				den += q[i] * q[i]
			}
			p := num / (den + 0.06*3)
			for i := range 4 {
				if !near(pred[i], p*q[i]) {
					t.Errorf("unbiased: item %d gets %v, want %.6f", i, pred[i], p*q[i])
				}
			}
			if !near(pred[4], mu) {
				t.Errorf("unbiased: i4 gets %v, want the mean %.6f", pred[4], mu)
			}
			continue
		}
		b := float64(pred[4]) - mu
		p := (float64(pred[2]) - mu - b - bi[2]) / q[2]
		if p < 0.1 {
			t.Fatalf("biased: p = %v, at the bound: the fixed point is not checked", p)
		}
		var devB, num, den float64
		for _, i := range []int32{0, 1, 3} {
			devB += float64(user[i]) - mu - bi[i] - p*q[i]
			num += q[i] * (float64(user[i]) - mu - b - bi[i])
			den += q[i] * q[i]
		}
		if want := devB / (3 * 1.02); math.Abs(b-want) > 1e-5 {
			t.Errorf("biased: b = %.6f, its fixed point %.6f", b, want)
		}
		if want := num / (den + 0.06*3); math.Abs(p-want) > 1e-4 {
			t.Errorf("biased: p = %.6f, its fixed point %.6f", p, want)
		}
	}
}
