package recsys

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("nmf", "Surprise's NMF: r = q_i . p_u with non-negative factors (biased: mu + b_u + b_i + q_i . p_u), fitted by the regularised multiplicative updates of Luo et al. (2014) as Surprise does, factors drawn uniformly from [init_low, init_high) with the spec's seed; Surprise's defaults. Unbiased, a pair whose user or item has no training ratings gets the mean training rating (Surprise's answer to an impossible prediction); biased, mu plus the known bias. Those pairs are counted as fallbacks; predictions are clipped to the rating scale.",
		func() Recommender {
			return &NMF{NFactors: 15, NEpochs: 50, Biased: false, RegPU: 0.06, RegQI: 0.06, RegBU: 0.02, RegBI: 0.02, LrBU: 0.005, LrBI: 0.005, InitLow: 0, InitHigh: 1}
		})
}

// NMF is Surprise's NMF. Each epoch walks the training ratings in
// Surprise's order computing est = mu + b_u + b_i + q_i·p_u (mu and the
// biases 0 unbiased) and accumulating, per factor f,
//
//	num_uf += q_if r_ui    den_uf += q_if est    (and likewise num_if, den_if with p_uf)
//
// (biased, the biases take an SGD step on e = r_ui - est at each rating,
// as in SVD); then every factor is multiplied by its ratio:
//
//	p_uf *= num_uf / (den_uf + reg_pu |I_u| p_uf)
//	q_if *= num_if / (den_if + reg_qi |U_i| q_if)
//
// users first, then items, all from the sums of the same pass. Factors
// stay non-negative when they start so. A factor whose denominator is 0
// (it is 0 and so are the sums) stays as it is, where Surprise's division
// would give NaN.
type NMF struct {
	NFactors int     `pipe:"n_factors,min=1,max=10000" doc:"latent factors per user and item"`
	NEpochs  int     `pipe:"n_epochs,min=1,max=100000" doc:"passes over the training ratings"`
	Biased   bool    `pipe:"biased" doc:"learn the global mean and a bias per user and item (by SGD, as svd), besides the non-negative factors"`
	RegPU    float64 `pipe:"reg_pu,min=0" doc:"regularisation of the user factors"`
	RegQI    float64 `pipe:"reg_qi,min=0" doc:"regularisation of the item factors"`
	RegBU    float64 `pipe:"reg_bu,min=0" doc:"biased: regularisation of the user biases"`
	RegBI    float64 `pipe:"reg_bi,min=0" doc:"biased: regularisation of the item biases"`
	LrBU     float64 `pipe:"lr_bu,min=0" doc:"biased: SGD step size of the user biases"`
	LrBI     float64 `pipe:"lr_bi,min=0" doc:"biased: SGD step size of the item biases"`
	InitLow  float64 `pipe:"init_low,min=0" doc:"lower bound of the uniform distribution the factors start from (at least 0, so that they stay non-negative)"`
	InitHigh float64 `pipe:"init_high,min=0" doc:"upper bound of the uniform distribution the factors start from"`
}

// Validate: the range the factors are drawn from must not be empty.
func (p *NMF) Validate() error {
	if p.InitHigh < p.InitLow {
		return fmt.Errorf("init_high (%g) is below init_low (%g)", p.InitHigh, p.InitLow)
	}
	return nil
}

// nmfModel is a fitted NMF.
type nmfModel struct {
	NMF
	data *surpriseTrain
	biasedFactors
}

func (p *NMF) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, fmt.Errorf("nmf: %w", err)
	}
	t, err := newSurpriseTrain(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("nmf: %w", err)
	}
	f := p.NFactors
	rng := surpriseRNG(ctx.Seed, 0x93f)
	uniform := func(n int) []float64 {
		v := make([]float64, n)
		for k := range v {
			v[k] = p.InitLow + (p.InitHigh-p.InitLow)*rng.Float64()
		}
		return v
	}
	m := &nmfModel{NMF: *p, data: t, biasedFactors: biasedFactors{bu: make([]float64, t.nUsers), bi: make([]float64, t.nItems)}}
	m.p, m.q = uniform(t.nUsers*f), uniform(t.nItems*f)
	mu := 0.0
	if p.Biased {
		mu = t.global
	}
	userNum, userDen := make([]float64, t.nUsers*f), make([]float64, t.nUsers*f)
	itemNum, itemDen := make([]float64, t.nItems*f), make([]float64, t.nItems*f)
	h := &data.History{}
	for epoch := 1; epoch <= p.NEpochs; epoch++ {
		clear(userNum)
		clear(userDen)
		clear(itemNum)
		clear(itemDen)
		for b, u := range t.users {
			pu := m.p[int(u)*f : int(u+1)*f]
			for k := t.start[b]; k < t.start[b+1]; k++ {
				i, r := t.items[k], t.r[k]
				qi := m.q[int(i)*f : int(i+1)*f]
				est := mu + m.bu[u] + m.bi[i] + factorDot(qi, pu)
				if p.Biased {
					e := r - est
					m.bu[u] += p.LrBU * (e - p.RegBU*m.bu[u])
					m.bi[i] += p.LrBI * (e - p.RegBI*m.bi[i])
				}
				un, ud := userNum[int(u)*f:int(u+1)*f], userDen[int(u)*f:int(u+1)*f]
				in, id := itemNum[int(i)*f:int(i+1)*f], itemDen[int(i)*f:int(i+1)*f]
				for x := range f {
					un[x] += qi[x] * r
					ud[x] += qi[x] * est
					in[x] += pu[x] * r
					id[x] += pu[x] * est
				}
			}
		}
		multiplicative(m.p, userNum, userDen, &t.byUser, p.RegPU, f)
		multiplicative(m.q, itemNum, itemDen, &t.byItem, p.RegQI, f)
		if err := epochHistory(ctx, h, m.Predict, train, epoch, p.NEpochs); err != nil {
			return nil, nil, fmt.Errorf("nmf: %w", err)
		}
	}
	return m, h, nil
}

// multiplicative applies NMF's update to the factors of every row (user
// or item) with ratings: x *= num / (den + reg |ratings| x).
func multiplicative(factors, num, den []float64, rows *sparseRows, reg float64, f int) {
	for r := range len(rows.start) - 1 {
		n := float64(rows.rowLen(r))
		if n == 0 {
			continue
		}
		for x := r * f; x < (r+1)*f; x++ {
			if d := den[x] + n*reg*factors[x]; d != 0 {
				factors[x] *= num[x] / d
			}
		}
	}
}

// estimate is Surprise's NMF.estimate, and whether both sides were known.
func (m *nmfModel) estimate(u, i int32) (float64, bool) {
	return m.biasedFactors.estimate(m.data, m.NFactors, m.Biased, u, i)
}

func (m *nmfModel) Predict(x *data.Array) ([]float32, int, error) {
	return predictPairs("nmf", m.data, x, m.estimate)
}

// NewUsers: a new user's non-negative factors (and bias) are fitted to
// their ratings with the item side fixed (see PredictUser).
func (p *NMF) NewUsers() error { return nil }

// nmfFoldInSteps bounds the fold-in's iterations; it stops earlier once no
// factor moves by more than 1e-10 of its value.
const nmfFoldInSteps = 2000

// PredictUser folds a new user into the fitted model: with the item
// factors (and biases) fixed, the user's factors p start at the middle of
// [init_low, init_high] and take the training's multiplicative update
// over the n rated items that have training ratings,
//
//	p_f *= Σ_i q_if r_i / (Σ_i q_if est_i + reg_pu n p_f)
//
// until they settle: the non-negative minimiser of the user's part of
// the objective, Σ_i (est_i - r_i)² + reg_pu·n·|p|². Biased, the bias b
// is set before each step to its regularised least-squares value given p,
// Σ_i (r_i - mu - b_i - q_i·p) / (n (1 + reg_bu)), where the SGD steps
// settle. Items without training ratings get what Predict gives a known
// user and unknown item and are fallbacks; a user none of whose items has
// training ratings is an unknown user.
func (m *nmfModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d, f := m.data, m.NFactors
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("nmf: %w", err)
	}
	items, r := d.knownItems(ratings)
	var p []float64 // nil for an unknown user
	var b float64
	if n := float64(len(items)); n > 0 {
		mu := 0.0
		if m.Biased {
			mu = d.global
		}
		p = make([]float64, f)
		for x := range p {
			p[x] = (m.InitLow + m.InitHigh) / 2
		}
		num, den := make([]float64, f), make([]float64, f)
		for range nmfFoldInSteps {
			if m.Biased {
				var dev float64
				for k, i := range items {
					dev += r[k] - mu - m.bi[i] - factorDot(m.q[int(i)*f:int(i+1)*f], p)
				}
				b = dev / (n * (1 + m.RegBU))
			}
			clear(num)
			clear(den)
			for k, i := range items {
				qi := m.q[int(i)*f : int(i+1)*f]
				est := mu + b + m.bi[i] + factorDot(qi, p) // b and b_i are 0 unbiased
				for x := range f {
					num[x] += qi[x] * r[k]
					den[x] += qi[x] * est
				}
			}
			moved := 0.0
			for x := range f {
				if dd := den[x] + n*m.RegPU*p[x]; dd != 0 {
					old := p[x]
					p[x] *= num[x] / dd
					moved = math.Max(moved, math.Abs(p[x]-old)/math.Max(math.Abs(old), 1e-300))
				}
			}
			if moved < 1e-10 {
				break
			}
		}
	}
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		known := p != nil && d.knowsItem(i)
		if _, rated := ratings[i]; !rated && !known {
			fallbacks++
		}
		var v float64
		switch {
		case !m.Biased && known:
			v = factorDot(m.q[int(i)*f:int(i+1)*f], p)
		case !m.Biased:
			v = d.global
		default:
			v = d.global + b
			if d.knowsItem(i) {
				v += m.bi[i]
			}
			if known {
				v += factorDot(m.q[int(i)*f:int(i+1)*f], p)
			}
		}
		pred[i] = d.clip(v)
	}
	return pred, fallbacks, nil
}

// State is the fitted factors and biases; mu is the training ratings'
// mean, which Restore computes again from them.
func (m *nmfModel) State() (map[string]*tensors.Tensor, error) {
	return m.state(m.data, m.NFactors), nil
}

func (p *NMF) Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error) {
	t, err := newSurpriseTrain(info, train)
	if err != nil {
		return nil, fmt.Errorf("nmf: %w", err)
	}
	m := &nmfModel{NMF: *p, data: t}
	if err := m.restore("nmf", t, p.NFactors, state); err != nil {
		return nil, err
	}
	return m, nil
}

// ParamCount counts p and q, and the biases when biased.
func (p *NMF) ParamCount(info *data.RatingInfo) (int, string) {
	return factorParamCount(info, p.NFactors, p.Biased)
}

func (m *nmfModel) TrainableParams() int { return m.trainable(m.Biased) }
