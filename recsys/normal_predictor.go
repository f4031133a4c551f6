package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("normal_predictor", "Surprise's NormalPredictor, the random baseline: each rating is drawn from N(mu, sigma²), mu and sigma the mean and maximum-likelihood (population) standard deviation of the training ratings, and clipped to the rating scale. A pair's draw depends only on the spec's seed and the pair, so a run, evaluate and predict agree. A user or item without training ratings gets a draw like any other, as in Surprise; such pairs are counted as fallbacks.",
		func() Recommender { return &NormalPredictor{} })
}

// NormalPredictor is Surprise's NormalPredictor. It has no params.
//
// Surprise draws from numpy's global generator at every call of predict,
// so the same pair gets a new rating each time. Here the draw is a
// function of (seed, user, item): every prediction has the same
// distribution as Surprise's, and a run's test predictions can be
// measured again (pipe evaluate) with the same result.
type NormalPredictor struct{}

// normalModel is a fitted NormalPredictor.
type normalModel struct {
	data      *surpriseTrain
	mu, sigma float64
	seed      uint64
}

func (p *NormalPredictor) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	t, err := newSurpriseTrain(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("normal_predictor: %w", err)
	}
	m := &normalModel{data: t, mu: t.global, seed: ctx.Seed}
	var ss float64
	for _, r := range t.r {
		ss += (r - m.mu) * (r - m.mu)
	}
	m.sigma = math.Sqrt(ss / float64(len(t.r)))
	return m, nil, nil
}

// draw is the rating of (u, i) before clipping: N(mu, sigma²) from a
// generator seeded by the seed and the pair. The pair is mixed through
// SplitMix64's finaliser first, so that neighbouring pairs start from
// unrelated states.
func (m *normalModel) draw(u, i int32) float64 {
	key := splitMix64(m.seed ^ splitMix64(uint64(uint32(u))<<32|uint64(uint32(i))))
	return m.mu + m.sigma*rand.New(rand.NewPCG(key, m.seed)).NormFloat64()
}

// splitMix64 is the finaliser of SplitMix64 (Steele, Lea and Flood 2014).
func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (m *normalModel) Predict(x *data.Array) ([]float32, int, error) {
	d := m.data
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("normal_predictor: %w", err)
	}
	pred, fallbacks := make([]float32, len(x.Int)/2), 0
	for k := range pred {
		u, i := x.Int[2*k], x.Int[2*k+1]
		if !d.knowsUser(u) || !d.knowsItem(i) {
			fallbacks++
		}
		pred[k] = d.clip(m.draw(u, i))
	}
	return pred, fallbacks, nil
}

// NewUsers refuses: the model's ratings are random, so an order of the
// items for a user's ratings would be noise.
func (p *NormalPredictor) NewUsers() error {
	return fmt.Errorf("normal_predictor draws every rating at random, whatever the user rated: it has nothing to recommend from a user's ratings")
}

func (m *normalModel) PredictUser(map[int32]float32) ([]float32, int, error) {
	return nil, 0, (&NormalPredictor{}).NewUsers()
}

// ParamCount is 0: mu and sigma are statistics of the training ratings.
func (p *NormalPredictor) ParamCount(*data.RatingInfo) (int, string) {
	return 0, "none: it draws from the mean and standard deviation of the training ratings"
}

func (m *normalModel) TrainableParams() int { return 0 }
