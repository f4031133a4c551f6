package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("rbm_cf", "Restricted Boltzmann machine for collaborative filtering (Salakhutdinov, Mnih & Hinton 2007): one RBM case per user (by: user) or per item (by: item) whose visible units are K-way softmaxes over the rating levels of the entries it rated, with weights shared across cases; trained by contrastive divergence; a rating is the expected level under the visible softmax given the hidden probabilities from the case's training ratings, clipped to the scale.",
		func() Recommender {
			return &RBMCF{By: "item", Hidden: 100, CDSteps: 1, LearningRate: 0.005, Momentum: 0.9, WeightDecay: 0.005, Epochs: 40, BatchSize: 16}
		})
}

// RBMCF is the RBM of Salakhutdinov, Mnih & Hinton (2007), "Restricted
// Boltzmann Machines for Collaborative Filtering", without the conditional
// (rated/unrated) extension.
//
// Orientation. by: user makes each user a case whose visible vector runs
// over items; by: item makes each item a case over users. Below, "case" is
// the row and "entry" the column of that orientation.
//
// Levels. With bins 0 the ratings must be integers and each integer of the
// scale [lo, hi] is a level (MovieLens: K = 5). With bins B >= 2 the scale
// is cut into B equally spaced levels l_k = lo + k(hi-lo)/(B-1) and each
// rating is mapped to the nearest one (Jester: bins 21 gives steps of 1).
//
// Model. A case with training ratings {(c, k_c)} has visible one-hot units
// v_ck for its rated entries only, F binary hidden units, weights W[c,k,j]
// shared across cases, visible biases b[c,k], hidden biases a[j]:
//
//	p(h_j=1 | V) = σ(a_j + Σ_c W[c,k_c,j])
//	p(v_ck=1 | h) = exp(b_ck + Σ_j h_j W[c,k,j]) / Σ_k' exp(b_ck' + Σ_j h_j W[c,k',j])
//
// Training. For each minibatch of batch_size cases (in a seeded random
// order every epoch): positive statistics v·p(h|V); a CD-T chain (h
// sampled from p(h|V); T-1 times: sample v from p(v|h), sample h; then the
// visible probabilities p(v|h) and the hidden probabilities q = p(h|p(v|h)))
// gives the negative statistics p(v|h)·q. With g the batch mean of
// positive minus negative statistics, for every parameter θ
//
//	Δθ ← momentum·Δθ + learning_rate·(g_θ − weight_decay·θ_W)   (decay on W only)
//	θ ← θ + Δθ
//
// W starts N(0, 0.01²), b at the log of each entry's level frequencies
// (Hinton's practical guide), a at 0.
//
// Prediction (mean field, one up-down pass). For a case with training
// ratings V: p̂ = p(h|V); for an entry q, P_k = softmax_k(b_qk + Σ_j p̂_j
// W[q,k,j]) and the rating is Σ_k P_k l_k, clipped to the scale. A pair
// whose user or item has no training ratings gets the user's mean, else the
// item's, else the global mean, and counts as a fallback.
//
// Each batch is cut into two fixed shards whose gradients are summed in
// order, and every case's chain draws from a generator seeded by (seed,
// epoch, case), so the result depends on ctx.Seed only, not on GOMAXPROCS.
type RBMCF struct {
	By           string  `pipe:"by,oneof=user|item" doc:"user: one RBM case per user, visible units over items; item: one case per item, over users (the better of the two in the course)"`
	Hidden       int     `pipe:"hidden,min=1" doc:"number of binary hidden units F"`
	CDSteps      int     `pipe:"cd_steps,min=1" doc:"Gibbs steps T of contrastive divergence (CD-T)"`
	LearningRate float64 `pipe:"learning_rate,min=0" doc:"step size on the batch-mean CD gradient"`
	Momentum     float64 `pipe:"momentum,min=0,max=1" doc:"momentum of the parameter updates"`
	WeightDecay  float64 `pipe:"weight_decay,min=0" doc:"L2 weight decay on W"`
	Epochs       int     `pipe:"epochs,min=1" doc:"passes over all cases"`
	BatchSize    int     `pipe:"batch_size,min=1" doc:"cases (users or items) per update"`
	Bins         int     `pipe:"bins,min=0" doc:"0: integer ratings, one softmax level per integer of the scale; B >= 2: B equally spaced levels over the scale, each rating binned to the nearest (for continuous scales such as Jester's)"`
}

// rbmModel is a fitted RBMCF: the params it was fitted with and what it learned.
type rbmModel struct {
	RBMCF

	data   *ratingData
	rows   *sparseRows // cases; columns are entries
	levels []float64   // rating value of each level
	level  []uint8     // per training rating in rows order: its level
	nCols  int
	w, bv  []float32 // W[(c*K+k)*F+j], b[c*K+k]
	bh     []float32
	scale  [2]float32
	// entryRatings counts the training ratings of each entry (column); an
	// entry with none gets the fallback.
	entryRatings []float32
}

const rbmShards = 2

func (m *rbmModel) k() int { return len(m.levels) }

// setLevels fixes the rating levels of scale and bins the training ratings.
func (m *rbmModel) setLevels(scale [2]float32) error {
	lo, hi := float64(scale[0]), float64(scale[1])
	m.scale, m.levels = scale, nil
	switch {
	case m.Bins == 0:
		if lo != math.Round(lo) || hi != math.Round(hi) || hi <= lo || hi-lo > 254 {
			return fmt.Errorf("scale [%g, %g] is not a small range of integers; set bins to cut it into levels", lo, hi)
		}
		for v := lo; v <= hi; v++ {
			m.levels = append(m.levels, v)
		}
	case m.Bins >= 2 && m.Bins <= 255 && hi > lo:
		for k := range m.Bins {
			m.levels = append(m.levels, lo+float64(k)*(hi-lo)/float64(m.Bins-1))
		}
	default:
		return fmt.Errorf("bins must be 0 or 2..255, got %d (scale [%g, %g])", m.Bins, lo, hi)
	}
	m.level = make([]uint8, len(m.rows.val))
	for j, r := range m.rows.val {
		var err error
		if m.level[j], err = m.levelOf(r); err != nil {
			return err
		}
	}
	return nil
}

// levelOf is the level of a rating: the nearest one.
func (m *rbmModel) levelOf(r float32) (uint8, error) {
	lo, hi := float64(m.scale[0]), float64(m.scale[1])
	x := (float64(r) - lo) / (hi - lo) * float64(m.k()-1)
	k := math.Round(x)
	if m.Bins == 0 && math.Abs(float64(r)-math.Round(float64(r))) > 1e-6 {
		return 0, fmt.Errorf("rating %g is not an integer; set bins to bin a continuous scale", r)
	}
	return uint8(min(max(k, 0), float64(m.k()-1))), nil
}

func (p *RBMCF) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	m := &rbmModel{RBMCF: *p}
	h, err := m.fit(ctx, train)
	if err != nil {
		return nil, nil, err
	}
	return m, h, nil
}

func (m *rbmModel) fit(ctx *FitContext, train *data.Split) (*data.History, error) {
	if m.Hidden < 1 || m.CDSteps < 1 || m.Epochs < 1 || m.BatchSize < 1 {
		return nil, fmt.Errorf("rbm_cf: hidden, cd_steps, epochs and batch_size must be at least 1")
	}
	d, err := newRatingData(ctx.Info, train)
	if err != nil {
		return nil, fmt.Errorf("rbm_cf: %w", err)
	}
	m.data, m.levels = nil, nil // Predict refuses until the weights exist
	if err := m.view(d); err != nil {
		return nil, err
	}
	if err := m.setLevels(d.scale); err != nil {
		return nil, fmt.Errorf("rbm_cf: %w", err)
	}
	K, F := m.k(), m.Hidden
	if int64(m.nCols)*int64(K)*int64(F) > 1<<28 {
		return nil, fmt.Errorf("rbm_cf: %d entries x %d levels x %d hidden units is too many weights", m.nCols, K, F)
	}
	m.init(ctx.Seed)
	m.data = d
	m.entryRatings = make([]float32, m.nCols)
	for _, c := range m.rows.col {
		m.entryRatings[c]++
	}
	var val *data.Split
	if ctx.Val != nil && ctx.Val.Len() > 0 {
		if err := checkPairCounts(d.nUsers, d.nItems, &ctx.Val.X); err != nil {
			return nil, fmt.Errorf("rbm_cf: validation ratings: %w", err)
		}
		if len(ctx.Val.Y.Float) != ctx.Val.Len() {
			return nil, fmt.Errorf("rbm_cf: validation ratings: %d ratings for %d pairs", len(ctx.Val.Y.Float), ctx.Val.Len())
		}
		val = ctx.Val
	}
	nRows := len(m.rows.start) - 1
	nW := len(m.w)
	vw, vbv, vbh := make([]float32, nW), make([]float32, len(m.bv)), make([]float32, F)
	shards := make([]*rbmGrad, rbmShards)
	for s := range shards {
		shards[s] = newRBMGrad(m.nCols, K, F)
	}
	order := make([]int32, 0, nRows)
	for r := range nRows {
		if m.rows.rowLen(r) > 0 {
			order = append(order, int32(r))
		}
	}
	trainX := &train.X
	hist := &data.History{}
	shuffle := rand.New(rand.NewPCG(ctx.Seed, 0x5eb0))
	lr, mom, wd := float32(m.LearningRate), float32(m.Momentum), float32(m.WeightDecay)
	for epoch := range m.Epochs {
		shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for b := 0; b < len(order); b += m.BatchSize {
			batch := order[b:min(b+m.BatchSize, len(order))]
			per := (len(batch) + rbmShards - 1) / rbmShards
			parallel(rbmShards, func(s int) {
				g := shards[s]
				for _, r := range batch[min(s*per, len(batch)):min((s+1)*per, len(batch))] {
					m.cdCase(g, int(r), ctx.Seed, uint64(epoch))
				}
			})
			scale := 1 / float32(len(batch))
			// Merge the shards in order into shard 0, over the entries any
			// shard touched; W and b of other entries get only momentum
			// and decay.
			g0 := shards[0]
			for _, g := range shards[1:] {
				for _, c := range g.touched {
					g0.touch(c)
					for x := c * K * F; x < (c+1)*K*F; x++ {
						g0.w[x] += g.w[x]
					}
					for x := c * K; x < (c+1)*K; x++ {
						g0.bv[x] += g.bv[x]
					}
				}
				for j := range F {
					g0.bh[j] += g.bh[j]
				}
			}
			for x := range m.w {
				vw[x] = mom*vw[x] + lr*(scale*g0.w[x]-wd*m.w[x])
				m.w[x] += vw[x]
			}
			for x := range m.bv {
				vbv[x] = mom*vbv[x] + lr*scale*g0.bv[x]
				m.bv[x] += vbv[x]
			}
			for j := range F {
				vbh[j] = mom*vbh[j] + lr*scale*g0.bh[j]
				m.bh[j] += vbh[j]
			}
			for _, g := range shards {
				g.reset()
			}
		}
		// rmse: the mean-field reconstruction of the training ratings
		// (each rating is also among the hidden units' inputs).
		pred, _, err := m.Predict(trainX)
		if err != nil {
			return nil, err
		}
		tr := rmse(pred, train.Y.Float)
		hist.Add("rmse", tr)
		msg := fmt.Sprintf("rbm_cf epoch %d/%d: rmse %.4f", epoch+1, m.Epochs, tr)
		if val != nil {
			pred, _, err := m.Predict(&val.X)
			if err != nil {
				return nil, err
			}
			vr := rmse(pred, val.Y.Float)
			hist.Add("val_rmse", vr)
			msg += fmt.Sprintf(", val_rmse %.4f", vr)
		}
		if ctx.Log != nil {
			ctx.Log("%s", msg)
		}
	}
	return hist, nil
}

func (m *rbmModel) init(seed uint64) {
	K, F := m.k(), m.Hidden
	rng := rand.New(rand.NewPCG(seed, 0x1a17))
	m.w = make([]float32, m.nCols*K*F)
	for x := range m.w {
		m.w[x] = float32(0.01 * rng.NormFloat64())
	}
	m.bv, m.bh = make([]float32, m.nCols*K), make([]float32, F)
	counts := make([]float64, m.nCols*K)
	for r := range len(m.rows.start) - 1 {
		for j := m.rows.start[r]; j < m.rows.start[r+1]; j++ {
			counts[int(m.rows.col[j])*K+int(m.level[j])]++
		}
	}
	for c := range m.nCols {
		var n float64
		for k := range K {
			n += counts[c*K+k] + 1
		}
		for k := range K {
			m.bv[c*K+k] = float32(math.Log((counts[c*K+k] + 1) / n))
		}
	}
}

// rbmGrad is one shard's gradient sums and scratch space.
type rbmGrad struct {
	w, bv, bh []float32
	touched   []int
	mark      []bool
	// scratch
	h, q, act []float32
	probs     []float32 // per rated entry of the case: K probabilities
	sampled   []uint8
}

func newRBMGrad(nCols, K, F int) *rbmGrad {
	return &rbmGrad{w: make([]float32, nCols*K*F), bv: make([]float32, nCols*K), bh: make([]float32, F), mark: make([]bool, nCols),
		h: make([]float32, F), q: make([]float32, F), act: make([]float32, F)}
}

func (g *rbmGrad) touch(c int) {
	if !g.mark[c] {
		g.mark[c] = true
		g.touched = append(g.touched, c)
	}
}

func (g *rbmGrad) reset() {
	F := len(g.bh)
	K := len(g.bv) / len(g.mark)
	for _, c := range g.touched {
		clear(g.w[c*K*F : (c+1)*K*F])
		clear(g.bv[c*K : (c+1)*K])
		g.mark[c] = false
	}
	g.touched = g.touched[:0]
	clear(g.bh)
}

func rbmSigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// hiddenFrom sets out to σ(a + Σ_c W[c,k_c,:]) for the case's own levels.
func (m *rbmModel) hiddenFrom(out []float32, cols []int32, levels []uint8) {
	K, F := m.k(), m.Hidden
	copy(out, m.bh)
	for n, c := range cols {
		row := m.w[(int(c)*K+int(levels[n]))*F:][:F]
		for j, v := range row {
			out[j] += v
		}
	}
	for j := range out {
		out[j] = rbmSigmoid(out[j])
	}
}

// visibleProbs sets p (K values) to the softmax over levels of entry c given hidden h.
// expectedRating is the mean-field rating of entry c given the hidden
// probabilities h: Σ_k P_k l_k, with P (written to probs) from visibleProbs.
func (m *rbmModel) expectedRating(probs []float32, c int, h []float32) float64 {
	m.visibleProbs(probs, c, h)
	var e float64
	for k, l := range m.levels {
		e += float64(probs[k]) * l
	}
	return e
}

func (m *rbmModel) visibleProbs(p []float32, c int, h []float32) {
	K, F := m.k(), m.Hidden
	maxv := float32(math.Inf(-1))
	for k := range K {
		row := m.w[(c*K+k)*F:][:F]
		s := m.bv[c*K+k]
		for j, v := range row {
			s += h[j] * v
		}
		p[k] = s
		maxv = max(maxv, s)
	}
	var z float32
	for k := range K {
		p[k] = float32(math.Exp(float64(p[k] - maxv)))
		z += p[k]
	}
	for k := range K {
		p[k] /= z
	}
}

// cdCase adds one case's CD-T statistics to g.
func (m *rbmModel) cdCase(g *rbmGrad, r int, seed, epoch uint64) {
	K, F := m.k(), m.Hidden
	lo, hi := m.rows.start[r], m.rows.start[r+1]
	cols, levels := m.rows.col[lo:hi], m.level[lo:hi]
	n := len(cols)
	rng := rand.New(rand.NewPCG(seed^0x9E3779B97F4A7C15, epoch<<32|uint64(r)))
	// Positive phase.
	p := g.act
	m.hiddenFrom(p, cols, levels)
	for x, c := range cols {
		g.touch(int(c))
		row := g.w[(int(c)*K+int(levels[x]))*F:][:F]
		for j := range row {
			row[j] += p[j]
		}
		g.bv[int(c)*K+int(levels[x])]++
	}
	for j := range F {
		g.bh[j] += p[j]
	}
	// Negative phase: CD-T.
	h := g.h
	for j := range F {
		h[j] = rbmBernoulli(rng, p[j])
	}
	if cap(g.probs) < n*K {
		g.probs, g.sampled = make([]float32, n*K), make([]uint8, n)
	}
	probs, sampled := g.probs[:n*K], g.sampled[:n]
	for t := 1; ; t++ {
		for x, c := range cols {
			m.visibleProbs(probs[x*K:(x+1)*K], int(c), h)
		}
		if t == m.CDSteps {
			break
		}
		for x := range cols {
			u, k := float32(rng.Float64()), 0
			for ; k < K-1; k++ {
				u -= probs[x*K+k]
				if u < 0 {
					break
				}
			}
			sampled[x] = uint8(k)
		}
		m.hiddenFrom(g.q, cols, sampled)
		for j := range F {
			h[j] = rbmBernoulli(rng, g.q[j])
		}
	}
	// q = σ(a + Σ_c Σ_k P_ck W[c,k,:]) from the final visible probabilities.
	q := g.q
	copy(q, m.bh)
	for x, c := range cols {
		for k := range K {
			pk := probs[x*K+k]
			row := m.w[(int(c)*K+k)*F:][:F]
			for j, v := range row {
				q[j] += pk * v
			}
		}
	}
	for j := range q {
		q[j] = rbmSigmoid(q[j])
	}
	for x, c := range cols {
		for k := range K {
			pk := probs[x*K+k]
			row := g.w[(int(c)*K+k)*F:][:F]
			for j := range row {
				row[j] -= pk * q[j]
			}
			g.bv[int(c)*K+k] -= pk
		}
	}
	for j := range F {
		g.bh[j] -= q[j]
	}
}

func rbmBernoulli(rng *rand.Rand, p float32) float32 {
	if float32(rng.Float64()) < p {
		return 1
	}
	return 0
}

func (m *rbmModel) Predict(x *data.Array) ([]float32, int, error) {
	d := m.data
	if d == nil {
		return nil, 0, fmt.Errorf("rbm_cf: Predict before Fit")
	}
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("rbm_cf: %w", err)
	}
	rowOf, colOf := 0, 1 // position of case and entry in a (user, item) pair
	if m.By == "item" {
		rowOf, colOf = 1, 0
	}
	pred := make([]float32, len(x.Int)/2)
	K, F := m.k(), m.Hidden
	colCount := d.byItem.rowLen
	if m.By == "item" {
		colCount = d.byUser.rowLen
	}
	fallbacks := perRow(x.Int, rowOf, len(m.rows.start)-1, func() func(r int32, pairs []int32) int {
		h, probs := make([]float32, F), make([]float32, K)
		return func(r int32, pairs []int32) int {
			lo, hi := m.rows.start[r], m.rows.start[r+1]
			if lo < hi {
				m.hiddenFrom(h, m.rows.col[lo:hi], m.level[lo:hi])
			}
			fallbacks := 0
			for _, p := range pairs {
				u, i := x.Int[2*p], x.Int[2*p+1]
				c := int(x.Int[2*int(p)+colOf])
				if lo == hi || colCount(c) == 0 {
					pred[p] = d.clip(d.fallback(u, i))
					fallbacks++
					continue
				}
				pred[p] = d.clip(m.expectedRating(probs, c, h))
			}
			return fallbacks
		}
	})
	return pred, fallbacks, nil
}

// NewUsers: by user, a new user is one more case over the same visible
// units; by item the users are the visible units, and a new user is a unit
// with no weights.
func (m *RBMCF) NewUsers() error {
	if m.By != "user" {
		return fmt.Errorf("rbm_cf by: %s has a visible unit per training user and no weights for a new one; rating for a new user needs by: user", m.By)
	}
	return nil
}

// State is the trained RBM: weights W [entries, levels, hidden], visible
// biases b [entries, levels], hidden biases a [hidden] and the training
// ratings per entry.
func (m *rbmModel) State() (map[string]*tensors.Tensor, error) {
	if m.w == nil || m.levels == nil {
		return nil, fmt.Errorf("rbm_cf: no state before fit")
	}
	K, F := m.k(), m.Hidden
	return map[string]*tensors.Tensor{
		"w":             tensors.FromFlatDataAndDimensions(slices.Clone(m.w), m.nCols, K, F),
		"bv":            tensors.FromFlatDataAndDimensions(slices.Clone(m.bv), m.nCols, K),
		"bh":            tensors.FromFlatDataAndDimensions(slices.Clone(m.bh), F),
		"entry_ratings": tensors.FromFlatDataAndDimensions(slices.Clone(m.entryRatings), m.nCols),
	}, nil
}

// view makes each case of the RBM a user (by: user, over items) or an item
// (by: item, over users) of the training ratings d.
func (m *rbmModel) view(d *ratingData) error {
	switch m.By {
	case "user":
		m.rows, m.nCols = &d.byUser, d.nItems
	case "item":
		m.rows, m.nCols = &d.byItem, d.nUsers
	default:
		return fmt.Errorf("rbm_cf: by must be user or item, got %q", m.By)
	}
	return nil
}

func (p *RBMCF) Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error) {
	m := &rbmModel{RBMCF: *p}
	if err := m.loadState(info, train, state); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *rbmModel) loadState(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) error {
	d, err := newRatingData(info, train)
	if err != nil {
		return fmt.Errorf("rbm_cf: %w", err)
	}
	if err := m.view(d); err != nil {
		return err
	}
	if err := m.setLevels(info.Scale); err != nil {
		return fmt.Errorf("rbm_cf: %w", err)
	}
	K, F := m.k(), m.Hidden
	for _, t := range []struct {
		name string
		dst  *[]float32
		dims []int
	}{{"w", &m.w, []int{m.nCols, K, F}}, {"bv", &m.bv, []int{m.nCols, K}}, {"bh", &m.bh, []int{F}}, {"entry_ratings", &m.entryRatings, []int{m.nCols}}} {
		if *t.dst, err = stateTensor[float32](state, t.name, t.dims...); err != nil {
			return fmt.Errorf("rbm_cf: %w", err)
		}
	}
	m.data = d
	return nil
}

// PredictUser (by: user) makes a new user one more case: the hidden
// probabilities from the levels of their ratings, then for every item the
// expected level under the visible softmax, as Predict does for a training
// user (and equal to it for a user with that user's training ratings).
// Ratings of items without training ratings are left out of the hidden
// units' input: their weights learned nothing. Those items, and every item
// when no rated item had training ratings, get the user's mean.
func (m *rbmModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	if err := m.NewUsers(); err != nil {
		return nil, 0, err
	}
	if m.w == nil || m.levels == nil {
		return nil, 0, fmt.Errorf("rbm_cf: PredictUser before Fit")
	}
	if err := checkItems(m.nCols, ratings); err != nil {
		return nil, 0, fmt.Errorf("rbm_cf: %w", err)
	}
	var cols []int32
	var levels []uint8
	items := sortedItems(ratings)
	for _, i := range items {
		k, err := m.levelOf(ratings[i])
		if err != nil {
			return nil, 0, fmt.Errorf("rbm_cf: item %d: %w", i, err)
		}
		if m.entryRatings[i] > 0 {
			cols, levels = append(cols, i), append(levels, k)
		}
	}
	mean, _ := userStats(ratings, items)
	K, F := m.k(), m.Hidden
	h, probs := make([]float32, F), make([]float32, K)
	m.hiddenFrom(h, cols, levels)
	pred, fallbacks := make([]float32, m.nCols), 0
	for c := range m.nCols {
		if len(cols) == 0 || m.entryRatings[c] == 0 {
			pred[c] = clipTo(m.scale, mean)
			if _, rated := ratings[int32(c)]; !rated {
				fallbacks++
			}
			continue
		}
		pred[c] = clipTo(m.scale, m.expectedRating(probs, c, h))
	}
	return pred, fallbacks, nil
}
