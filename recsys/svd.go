package recsys

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("svd", "Surprise's SVD (Funk's matrix factorisation, biased by default): r = mu + b_u + b_i + q_i . p_u, fitted by plain per-rating SGD in float64 over the training ratings in Surprise's order, factors drawn from N(init_mean, init_std_dev²) with the spec's seed, biases from 0; Surprise's defaults. A user or item without training ratings contributes no bias and no factors (Surprise's estimate: mu plus the known bias); unbiased, such a pair gets the mean training rating. Those pairs are counted as fallbacks; predictions are clipped to the rating scale.",
		func() Recommender {
			return &SVD{NFactors: 100, NEpochs: 20, Biased: true, InitMean: 0, InitStdDev: 0.1, LrAll: 0.005, RegAll: 0.02}
		})
}

// SVD is Surprise's SVD. For each training rating, in the order of
// Surprise's Trainset.all_ratings() (user by user, see surpriseTrain),
// every epoch, with e = r_ui - (mu + b_u + b_i + q_i·p_u):
//
//	b_u += lr (e - reg b_u)          b_i += lr (e - reg b_i)
//	p_u += lr (e q_i - reg p_u)      q_i += lr (e p_u - reg q_i)
//
// (p_u and q_i each updated from the other's old value). Unbiased
// (biased: false), mu and the biases are 0 and r = q_i·p_u (Surprise's
// PMF). Surprise's per-parameter rates and regularisations (lr_bu, reg_qi,
// ...) are not offered: lr_all and reg_all set them all.
type SVD struct {
	NFactors   int     `pipe:"n_factors,min=1,max=10000" doc:"latent factors per user and item"`
	NEpochs    int     `pipe:"n_epochs,min=1,max=100000" doc:"SGD passes over the training ratings"`
	Biased     bool    `pipe:"biased" doc:"learn the global mean and a bias per user and item (false: r = q_i . p_u, probabilistic matrix factorisation)"`
	InitMean   float64 `pipe:"init_mean" doc:"mean of the normal distribution the factors start from"`
	InitStdDev float64 `pipe:"init_std_dev,min=0" doc:"standard deviation of the normal distribution the factors start from"`
	LrAll      float64 `pipe:"lr_all,min=0" doc:"SGD step size of every parameter"`
	RegAll     float64 `pipe:"reg_all,min=0" doc:"L2 regularisation of every parameter"`
}

// svdModel is a fitted SVD.
type svdModel struct {
	SVD
	data *surpriseTrain
	biasedFactors
}

func (p *SVD) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	t, err := newSurpriseTrain(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("svd: %w", err)
	}
	f := p.NFactors
	rng := surpriseRNG(ctx.Seed, 0x5fd)
	m := &svdModel{SVD: *p, data: t, biasedFactors: biasedFactors{bu: make([]float64, t.nUsers), bi: make([]float64, t.nItems)}}
	m.p = normalDraws(rng, t.nUsers*f, p.InitMean, p.InitStdDev)
	m.q = normalDraws(rng, t.nItems*f, p.InitMean, p.InitStdDev)
	mu := 0.0
	if p.Biased {
		mu = t.global
	}
	lr, reg := p.LrAll, p.RegAll
	h := &data.History{}
	for epoch := 1; epoch <= p.NEpochs; epoch++ {
		for b, u := range t.users {
			pu := m.p[int(u)*f : int(u+1)*f]
			for k := t.start[b]; k < t.start[b+1]; k++ {
				i := t.items[k]
				qi := m.q[int(i)*f : int(i+1)*f]
				e := t.r[k] - (mu + m.bu[u] + m.bi[i] + factorDot(qi, pu))
				if p.Biased {
					m.bu[u] += lr * (e - reg*m.bu[u])
					m.bi[i] += lr * (e - reg*m.bi[i])
				}
				for x := range f {
					puf, qif := pu[x], qi[x]
					pu[x] += lr * (e*qif - reg*puf)
					qi[x] += lr * (e*puf - reg*qif)
				}
			}
		}
		if err := epochHistory(ctx, h, m.Predict, train, epoch, p.NEpochs); err != nil {
			return nil, nil, fmt.Errorf("svd: %w", err)
		}
	}
	return m, h, nil
}

// estimate is Surprise's SVD.estimate, and whether both sides were known.
func (m *svdModel) estimate(u, i int32) (float64, bool) {
	return m.biasedFactors.estimate(m.data, m.NFactors, m.Biased, u, i)
}

func (m *svdModel) Predict(x *data.Array) ([]float32, int, error) {
	return predictPairs("svd", m.data, x, m.estimate)
}

// NewUsers: a new user's factors (and bias) are fitted to their ratings
// with the item side fixed (see PredictUser).
func (p *SVD) NewUsers() error { return nil }

// PredictUser folds a new user into the fitted model: with the item
// factors and biases fixed, the user's factors p (and bias b, biased)
// minimise the training objective restricted to that user,
//
//	Σ_i (mu + b + b_i + p·q_i - r_i)² + reg_all·n·(|p|² + b²)
//
// over the n rated items that have training ratings (mu, b, b_i 0
// unbiased). The penalty is reg_all·n because SGD applies it once per
// rating. Items without training ratings get what Predict gives a known
// user and unknown item (mu + b; unbiased, the mean training rating) and
// are fallbacks; a user none of whose items has training ratings is an
// unknown user.
func (m *svdModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d, f := m.data, m.NFactors
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("svd: %w", err)
	}
	items, r := d.knownItems(ratings)
	mu := 0.0
	if m.Biased {
		mu = d.global
	}
	dim := f
	if m.Biased {
		dim++
	}
	a, y := make([]float64, len(items)*dim), make([]float64, len(items))
	for k, i := range items {
		copy(a[k*dim:], m.q[int(i)*f:int(i+1)*f])
		y[k] = r[k] - mu
		if m.Biased {
			a[k*dim+f] = 1
			y[k] -= m.bi[i]
		}
	}
	var sol []float64
	if len(items) > 0 {
		var err error
		if sol, err = ridge(a, y, dim, m.RegAll*float64(len(items))); err != nil {
			return nil, 0, fmt.Errorf("svd: fold-in: %w", err)
		}
	}
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		known := d.knowsItem(i) && sol != nil
		if _, rated := ratings[i]; !rated && !known {
			fallbacks++
		}
		switch {
		case !m.Biased && !known:
			pred[i] = d.clip(d.global)
			continue
		case !m.Biased:
			pred[i] = d.clip(factorDot(sol[:f], m.q[int(i)*f:int(i+1)*f]))
			continue
		}
		v := mu
		if sol != nil {
			v += sol[f]
		}
		if d.knowsItem(i) {
			v += m.bi[i]
			if sol != nil {
				v += factorDot(sol[:f], m.q[int(i)*f:int(i+1)*f])
			}
		}
		pred[i] = d.clip(v)
	}
	return pred, fallbacks, nil
}

// State is the fitted factors and biases; mu is the training ratings'
// mean, which Restore computes again from them.
func (m *svdModel) State() (map[string]*tensors.Tensor, error) {
	return m.state(m.data, m.NFactors), nil
}

func (p *SVD) Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error) {
	t, err := newSurpriseTrain(info, train)
	if err != nil {
		return nil, fmt.Errorf("svd: %w", err)
	}
	m := &svdModel{SVD: *p, data: t}
	if err := m.restore("svd", t, p.NFactors, state); err != nil {
		return nil, err
	}
	return m, nil
}

// ParamCount counts p and q, and the biases when biased.
func (p *SVD) ParamCount(info *data.RatingInfo) (int, string) {
	return factorParamCount(info, p.NFactors, p.Biased)
}

func (m *svdModel) TrainableParams() int { return m.trainable(m.Biased) }
