package recsys

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("svdpp", "Surprise's SVD++: r = mu + b_u + b_i + q_i . (p_u + |I_u|^-1/2 Σ_{j in I_u} y_j), I_u the items the user rated in training (implicit feedback), fitted by per-rating SGD in float64 over the training ratings in Surprise's order, factors drawn from N(init_mean, init_std_dev²) with the spec's seed, biases from 0; Surprise's defaults. A user or item without training ratings contributes no bias and no factors (Surprise's estimate: mu plus the known bias), counted as a fallback; predictions are clipped to the rating scale.",
		func() Recommender {
			return &SVDpp{NFactors: 20, NEpochs: 20, InitMean: 0, InitStdDev: 0.1, LrAll: 0.007, RegAll: 0.02}
		})
}

// SVDpp is Surprise's SVDpp. For each training rating, in the order of
// Surprise's Trainset.all_ratings() (user by user), every epoch, with
// z_u = |I_u|^-1/2 Σ_{j∈I_u} y_j and e = r_ui - (mu + b_u + b_i + q_i·(p_u + z_u)):
//
//	b_u += lr (e - reg b_u)               b_i += lr (e - reg b_i)
//	p_u += lr (e q_i - reg p_u)           q_i += lr (e (p_u + z_u) - reg q_i)
//	y_j += lr (e |I_u|^-1/2 q_i - reg y_j)   for every j in I_u
//
// each from the old values. Surprise sums z_u afresh and updates every
// y_j at each rating, O(|I_u|) per rating. Since the walk takes a user's
// ratings one after another and every y_j of I_u gets the same affine map
// y ← (1 - lr·reg) y + c at each of them, this applies the maps composed
// once at the end of the user's block, and keeps Σ y_j by the same maps
// (Σ ← (1 - lr·reg) Σ + |I_u| c): the same arithmetic as Surprise's up to
// rounding, O(|I_u| + ratings) per user. The test checks it against the
// direct loop. Surprise's per-parameter rates and regularisations are not
// offered: lr_all and reg_all set them all.
type SVDpp struct {
	NFactors   int     `pipe:"n_factors,min=1,max=10000" doc:"latent factors per user and item"`
	NEpochs    int     `pipe:"n_epochs,min=1,max=100000" doc:"SGD passes over the training ratings"`
	InitMean   float64 `pipe:"init_mean" doc:"mean of the normal distribution the factors start from"`
	InitStdDev float64 `pipe:"init_std_dev,min=0" doc:"standard deviation of the normal distribution the factors start from"`
	LrAll      float64 `pipe:"lr_all,min=0" doc:"SGD step size of every parameter"`
	RegAll     float64 `pipe:"reg_all,min=0" doc:"L2 regularisation of every parameter"`
}

// svdppModel is a fitted SVDpp.
type svdppModel struct {
	SVDpp
	data            *surpriseTrain
	bu, bi, p, q, y []float64 // p: users x factors; q, y: items x factors
}

func (p *SVDpp) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	t, err := newSurpriseTrain(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("svdpp: %w", err)
	}
	f := p.NFactors
	rng := surpriseRNG(ctx.Seed, 0x5fd99)
	m := &svdppModel{SVDpp: *p, data: t, bu: make([]float64, t.nUsers), bi: make([]float64, t.nItems)}
	m.p = normalDraws(rng, t.nUsers*f, p.InitMean, p.InitStdDev)
	m.q = normalDraws(rng, t.nItems*f, p.InitMean, p.InitStdDev)
	m.y = normalDraws(rng, t.nItems*f, p.InitMean, p.InitStdDev)
	h := &data.History{}
	for epoch := 1; epoch <= p.NEpochs; epoch++ {
		m.epoch()
		if err := epochHistory(ctx, h, m.Predict, train, epoch, p.NEpochs); err != nil {
			return nil, nil, fmt.Errorf("svdpp: %w", err)
		}
	}
	return m, h, nil
}

// epoch is one SGD pass over the training ratings.
func (m *svdppModel) epoch() {
	t, f := m.data, m.NFactors
	mu, lr, reg := t.global, m.LrAll, m.RegAll
	decay := 1 - lr*reg
	sum, shift, imp := make([]float64, f), make([]float64, f), make([]float64, f)
	for b, u := range t.users {
		iu, _ := t.byUser.row(int(u))
		n := float64(len(iu))
		sqrtN := math.Sqrt(n)
		clear(sum)
		for _, j := range iu {
			for x, v := range m.y[int(j)*f : int(j+1)*f] {
				sum[x] += v
			}
		}
		// y_j = scale·y_j(start of block) + shift, for every j in I_u.
		scale := 1.0
		clear(shift)
		pu := m.p[int(u)*f : int(u+1)*f]
		for k := t.start[b]; k < t.start[b+1]; k++ {
			i := t.items[k]
			qi := m.q[int(i)*f : int(i+1)*f]
			var dot float64
			for x := range f {
				imp[x] = sum[x] / sqrtN
				dot += qi[x] * (pu[x] + imp[x])
			}
			e := t.r[k] - (mu + m.bu[u] + m.bi[i] + dot)
			m.bu[u] += lr * (e - reg*m.bu[u])
			m.bi[i] += lr * (e - reg*m.bi[i])
			for x := range f {
				puf, qif := pu[x], qi[x]
				pu[x] += lr * (e*qif - reg*puf)
				qi[x] += lr * (e*(puf+imp[x]) - reg*qif)
				c := lr * e * qif / sqrtN
				shift[x] = decay*shift[x] + c
				sum[x] = decay*sum[x] + n*c
			}
			scale *= decay
		}
		for _, j := range iu {
			yj := m.y[int(j)*f : int(j+1)*f]
			for x := range yj {
				yj[x] = scale*yj[x] + shift[x]
			}
		}
	}
}

// implicit returns z_u = |I_u|^-1/2 Σ_{j∈I_u} y_j for a user's items.
func (m *svdppModel) implicit(items []int32) []float64 {
	f := m.NFactors
	z := make([]float64, f)
	for _, j := range items {
		for x, v := range m.y[int(j)*f : int(j+1)*f] {
			z[x] += v
		}
	}
	s := math.Sqrt(float64(len(items)))
	for x := range z {
		z[x] /= s
	}
	return z
}

// Predict gives Surprise's SVDpp.estimate: mu plus the bias of each known
// side, plus q_i·(p_u + z_u) when both are known.
func (m *svdppModel) Predict(x *data.Array) ([]float32, int, error) {
	d, f := m.data, m.NFactors
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("svdpp: %w", err)
	}
	pred := make([]float32, len(x.Int)/2)
	fallbacks := perRow(x.Int, 0, d.nUsers, func() func(u int32, pairs []int32) int {
		pz := make([]float64, f)
		return func(u int32, pairs []int32) int {
			ku, n := d.knowsUser(u), 0
			if ku {
				items, _ := d.byUser.row(int(u))
				z := m.implicit(items)
				for x := range pz {
					pz[x] = m.p[int(u)*f+x] + z[x]
				}
			}
			for _, k := range pairs {
				i := x.Int[2*k+1]
				v := d.global
				if ku {
					v += m.bu[u]
				}
				if d.knowsItem(i) {
					v += m.bi[i]
					if ku {
						v += factorDot(m.q[int(i)*f:int(i+1)*f], pz)
					}
				}
				if !ku || !d.knowsItem(i) {
					n++
				}
				pred[k] = d.clip(v)
			}
			return n
		}
	})
	return pred, fallbacks, nil
}

// NewUsers: a new user's factors and bias are fitted to their ratings with
// the item side fixed (see PredictUser).
func (p *SVDpp) NewUsers() error { return nil }

// PredictUser folds a new user into the fitted model. Their implicit
// feedback is z = n^-1/2 Σ y_j over the n rated items that have training
// ratings (the others' y were never trained); with the item side fixed,
// the user's factors p and bias b minimise the training objective
// restricted to that user,
//
//	Σ_i (mu + b + b_i + q_i·(p + z) - r_i)² + reg_all·n·(|p|² + b²)
//
// (the penalty once per rating, as SGD applies it; y stays as trained).
// Items without training ratings get mu + b and are fallbacks; a user none
// of whose items has training ratings is an unknown user (mu + b_i).
func (m *svdppModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d, f := m.data, m.NFactors
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("svdpp: %w", err)
	}
	items, r := d.knownItems(ratings)
	var pz []float64 // p + z of the folded-in user; nil when unknown
	var b float64
	if len(items) > 0 {
		z := m.implicit(items)
		dim := f + 1
		a, y := make([]float64, len(items)*dim), make([]float64, len(items))
		for k, i := range items {
			qi := m.q[int(i)*f : int(i+1)*f]
			copy(a[k*dim:], qi)
			a[k*dim+f] = 1
			y[k] = r[k] - d.global - m.bi[i] - factorDot(qi, z)
		}
		sol, err := ridge(a, y, dim, m.RegAll*float64(len(items)))
		if err != nil {
			return nil, 0, fmt.Errorf("svdpp: fold-in: %w", err)
		}
		pz, b = make([]float64, f), sol[f]
		for x := range pz {
			pz[x] = sol[x] + z[x]
		}
	}
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		v := d.global + b
		if d.knowsItem(i) {
			v += m.bi[i]
			if pz != nil {
				v += factorDot(m.q[int(i)*f:int(i+1)*f], pz)
			}
		}
		if _, rated := ratings[i]; !rated && (!d.knowsItem(i) || pz == nil) {
			fallbacks++
		}
		pred[i] = d.clip(v)
	}
	return pred, fallbacks, nil
}

// State is the fitted factors and biases; mu and each user's items are
// the training ratings', which Restore reads again.
func (m *svdppModel) State() (map[string]*tensors.Tensor, error) {
	d, f := m.data, m.NFactors
	return map[string]*tensors.Tensor{
		"bu": f64Vec(m.bu), "bi": f64Vec(m.bi),
		"p": f64Mat(m.p, d.nUsers, f), "q": f64Mat(m.q, d.nItems, f), "y": f64Mat(m.y, d.nItems, f),
	}, nil
}

func (p *SVDpp) Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error) {
	t, err := newSurpriseTrain(info, train)
	if err != nil {
		return nil, fmt.Errorf("svdpp: %w", err)
	}
	m := &svdppModel{SVDpp: *p, data: t}
	f := p.NFactors
	err = loadF64State("svdpp", state,
		f64State{"bu", &m.bu, []int{t.nUsers}}, f64State{"bi", &m.bi, []int{t.nItems}},
		f64State{"p", &m.p, []int{t.nUsers, f}}, f64State{"q", &m.q, []int{t.nItems, f}}, f64State{"y", &m.y, []int{t.nItems, f}})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ParamCount counts p, q and y, and the biases.
func (p *SVDpp) ParamCount(info *data.RatingInfo) (int, string) {
	formula := fmt.Sprintf("users x %d + items x %d x 2 + users + items", p.NFactors, p.NFactors)
	if info == nil {
		return -1, formula
	}
	nu, ni := len(info.Users), len(info.Items)
	return nu*p.NFactors + 2*ni*p.NFactors + nu + ni, formula
}

func (m *svdppModel) TrainableParams() int {
	return len(m.p) + len(m.q) + len(m.y) + len(m.bu) + len(m.bi)
}
