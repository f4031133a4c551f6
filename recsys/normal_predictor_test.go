package recsys_test

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// The draws follow N(mu, sigma²) with mu and sigma the training ratings'
// mean and population standard deviation: tinyRatings have mean 3.625 and
// Σ(r - 3.625)² = Σr² - 16·3.625² = 242 - 210.25 = 31.75, so sigma =
// sqrt(31.75/16) = 1.408678. On 200 x 200 pairs and a scale wide enough to clip nothing,
// the sample mean and standard deviation are within 4 standard errors.
func TestNormalPredictorDistribution(t *testing.T) {
	const n = 200
	info := &data.RatingInfo{Users: names(n), Items: names(n), Scale: [2]float32{-100, 100}}
	f, _ := fitModel(t, &recsys.NormalPredictor{}, info, tinyRatings, 7)
	pred, fb := predict(t, f, allPairs(n, n))
	var sum, ss float64
	for _, v := range pred {
		sum += float64(v)
	}
	mean := sum / float64(len(pred))
	for _, v := range pred {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	sd := math.Sqrt(ss / float64(len(pred)))
	const mu, sigma = 3.625, 1.408678
	se := sigma / math.Sqrt(float64(len(pred)))
	if math.Abs(mean-mu) > 4*se {
		t.Errorf("sample mean %.4f, want %.4f ± %.4f", mean, mu, 4*se)
	}
	if math.Abs(sd-sigma) > 4*sigma/math.Sqrt(2*float64(len(pred))) {
		t.Errorf("sample sd %.4f, want %.4f", sd, sigma)
	}
	// Only the 6 x 5 pairs of the training users and items are known, and
	// of those the pairs of u4 or i4 are not.
	if want := n*n - 5*4; fb != want {
		t.Errorf("%d fallbacks, want %d", fb, want)
	}
}

// On the 1..5 scale a draw from N(3.625, 1.4087²) is below 1 with
// probability Φ(-1.863) = 3.1% and above 5 with Φ(-0.976) = 16.5%: those
// are clipped to the bounds.
func TestNormalPredictorClip(t *testing.T) {
	const n = 100
	info := &data.RatingInfo{Users: names(n), Items: names(n), Scale: [2]float32{1, 5}}
	f, _ := fitModel(t, &recsys.NormalPredictor{}, info, tinyRatings, 1)
	pred, _ := predict(t, f, allPairs(n, n))
	low, high := 0, 0
	for _, v := range pred {
		switch {
		case v < 1 || v > 5:
			t.Fatalf("prediction %v outside 1..5", v)
		case v == 1:
			low++
		case v == 5:
			high++
		}
	}
	if low < 220 || low > 410 || high < 1450 || high > 1850 {
		t.Errorf("%d predictions at 1 and %d at 5 of %d, want about 312 and 1,645", low, high, len(pred))
	}
}

func TestNormalPredictorRefusesNewUsers(t *testing.T) {
	m := &recsys.NormalPredictor{}
	if err := m.NewUsers(); err == nil {
		t.Fatal("NewUsers accepts new users")
	}
	f, _ := fitModel(t, m, surpriseInfo(), tinyRatings, 1)
	if _, _, err := f.PredictUser(map[int32]float32{0: 5}); err == nil {
		t.Error("PredictUser rated a new user")
	}
}
