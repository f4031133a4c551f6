package recsys_test

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/recsys"
)

// One SGD epoch by hand, one factor, lr 0.1, reg 0.1, factors starting at
// 0.1 (init_mean 0.1, init_std_dev 0). The split is (u0,i0,4), (u1,i0,2),
// (u0,i1,5); Surprise walks user by user, so u0's two ratings come first.
// mu = 11/3.
//
//	u0 i0 4: est 11/3 + .01 = 3.6766667, e = .3233333
//	         b_u0 = b_i0 = .1e = .0323333; p_u0 = q_i0 = .1 + .1(.1e - .01) = .1022333
//	u0 i1 5: est 11/3 + .0323333 + .1022333·.1 = 3.7092233, e = 1.2907767
//	         b_u0 = .0323333 + .1(e - .1·.0323333) = .1610877; b_i1 = .1e = .1290777
//	         p_u0 = .1022333 + .1(e·.1 - .1·.1022333) = .1141188
//	         q_i1 = .1 + .1(e·.1022333 - .01) = .1121960
//	u1 i0 2: est 11/3 + .0323333 + .1·.1022333 = 3.7092233, e = -1.7092233
//	         b_u1 = .1e = -.1709223; b_i0 = .0323333 + .1(e - .1·.0323333) = -.1389123
//	         p_u1 = .1 + .1(e·.1022333 - .01) = .0815260
//	         q_i0 = .1022333 + .1(e·.1 - .1·.1022333) = .0841188
//
// u2 and i2 have no ratings and keep their start.
func TestSVDOneEpochByHand(t *testing.T) {
	train := ratingSplit([3]float32{0, 0, 4}, [3]float32{1, 0, 2}, [3]float32{0, 1, 5})
	m := &recsys.SVD{NFactors: 1, NEpochs: 1, Biased: true, InitMean: 0.1, InitStdDev: 0, LrAll: 0.1, RegAll: 0.1}
	f, _ := fitModel(t, m, threeInfo(), train, 1)
	s := state(t, f)
	closeAll(t, "bu", s["bu"], []float64{0.1610877, -0.1709223, 0}, 1e-6)
	closeAll(t, "bi", s["bi"], []float64{-0.1389123, 0.1290777, 0}, 1e-6)
	closeAll(t, "p", s["p"], []float64{0.1141188, 0.0815260, 0.1}, 1e-6)
	closeAll(t, "q", s["q"], []float64{0.0841188, 0.1121960, 0.1}, 1e-6)
}

// svdReference is Surprise's SVD.sgd written out, from given factors.
func svdReference(walk []rating, mu float64, biased bool, f, epochs int, lr, reg float64, bu, bi, p, q []float64) {
	if !biased {
		mu = 0
	}
	for range epochs {
		for _, x := range walk {
			var dot float64
			for k := range f {
				dot += q[int(x.i)*f+k] * p[int(x.u)*f+k]
			}
			e := x.r - (mu + bu[x.u] + bi[x.i] + dot)
			if biased {
				bu[x.u] += lr * (e - reg*bu[x.u])
				bi[x.i] += lr * (e - reg*bi[x.i])
			}
			for k := range f {
				puf, qif := p[int(x.u)*f+k], q[int(x.i)*f+k]
				p[int(x.u)*f+k] += lr * (e*qif - reg*puf)
				q[int(x.i)*f+k] += lr * (e*puf - reg*qif)
			}
		}
	}
}

// The fitted model equals Surprise's loop run from the same initial
// factors (those a fit of no epochs returns), biased and not.
func TestSVDReference(t *testing.T) {
	for _, biased := range []bool{true, false} {
		m := &recsys.SVD{NFactors: 3, NEpochs: 0, Biased: biased, InitStdDev: 0.1, LrAll: 0.02, RegAll: 0.05}
		f0, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 5)
		s := state(t, f0)
		svdReference(surpriseWalk(shuffledTiny), meanRating(shuffledTiny), biased, 3, 6, 0.02, 0.05, s["bu"], s["bi"], s["p"], s["q"])
		m.NEpochs = 6
		f, h := fitModel(t, m, surpriseInfo(), shuffledTiny, 5)
		got := state(t, f)
		for _, name := range []string{"bu", "bi", "p", "q"} {
			closeAll(t, name, got[name], s[name], 1e-12)
		}
		if len(h.Values[0]) != 6 {
			t.Errorf("history %v", h.Values)
		}
	}
}

// Unknown users and items: biased, the known bias only (Surprise's
// SVD.estimate); unbiased, the mean training rating (Surprise's answer to
// PredictionImpossible). Each is a fallback.
func TestSVDUnknown(t *testing.T) {
	mu := meanRating(shuffledTiny)
	for _, biased := range []bool{true, false} {
		m := &recsys.SVD{NFactors: 3, NEpochs: 4, Biased: biased, InitStdDev: 0.1, LrAll: 0.02, RegAll: 0.05}
		f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
		s := state(t, f)
		pred, fb := predict(t, f, pairs([2]int32{4, 1}, [2]int32{2, 4}, [2]int32{4, 4}))
		want := []float64{mu + s["bi"][1], mu + s["bu"][2], mu}
		if !biased {
			want = []float64{mu, mu, mu}
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

// A new user's factor and bias (one factor) solve the 2 x 2 ridge
// regression of their ratings on the item side, penalty reg_all·n:
//
//	[Σq² + λ  Σq   ] [p]   [Σ q y]
//	[Σq       n + λ] [b] = [Σ y  ],   y_i = r_i - mu - b_i, λ = reg_all·n,
//
// solved here by Cramer's rule; the rating of item i is mu + b + b_i + p q_i,
// of the unknown item i4 mu + b (a fallback).
func TestSVDPredictUser(t *testing.T) {
	const reg = 0.05
	m := &recsys.SVD{NFactors: 1, NEpochs: 10, Biased: true, InitStdDev: 0.1, LrAll: 0.02, RegAll: reg}
	f, _ := fitModel(t, m, surpriseInfo(), shuffledTiny, 1)
	s := state(t, f)
	mu := meanRating(shuffledTiny)
	user := map[int32]float32{0: 2, 1: 5, 3: 4, 4: 1} // i4: no training ratings, left out
	var sqq, sq, sqy, sy, n float64
	for _, i := range []int32{0, 1, 3} {
		q, y := s["q"][i], float64(user[i])-mu-s["bi"][i]
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
		if w := mu + b + s["bi"][i] + p*s["q"][i]; !near(pred[i], w) {
			t.Errorf("item %d: %v, want %.6f", i, pred[i], w)
		}
	}
	if !near(pred[4], mu+b) || fb != 0 {
		t.Errorf("i4 (rated, unknown): %v, want %.6f; %d fallbacks, want 0", pred[4], mu+b, fb)
	}
	if math.Abs(p) < 1e-6 {
		t.Errorf("the folded-in factor is %v: the test checks nothing", p)
	}
}
