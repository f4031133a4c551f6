package recsys

import (
	"fmt"
	"math"
	"runtime"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	const common = " Neighbours are the k rows (users when user_based, else items) most similar to the one rated among those with a training rating of the other side (the item's raters, or the user's items), positive similarities only (Surprise's KNN algorithms; similarity msd, cosine, pearson or pearson_baseline over co-rated entries, k 40, min_k 1 by default). Clipped to the rating scale."
	Models.Register("knn_basic", "Surprise's KNNBasic: a rating is the similarity-weighted average of the neighbours' ratings. With fewer than min_k neighbours, or a user or item without training ratings, the global mean."+common,
		func() Recommender { return NewKNN("basic") })
	Models.Register("knn_with_means", "Surprise's KNNWithMeans: the mean of the row (the user's mean rating when user_based, else the item's) plus the similarity-weighted average of the neighbours' ratings minus their own means; the mean alone with fewer than min_k neighbours; the global mean for a user or item without training ratings."+common,
		func() Recommender { return NewKNN("means") })
	Models.Register("knn_with_zscore", "Surprise's KNNWithZScore: as knn_with_means with the neighbours' deviations in units of their standard deviation, scaled back by the row's (a standard deviation of 0 is replaced by that of all training ratings)."+common,
		func() Recommender { return NewKNN("zscore") })
	Models.Register("knn_baseline", "Surprise's KNNBaseline: the baseline mu + b_u + b_i (biases fitted as the bsl_ params say: Surprise's bsl_options, ALS by default) plus the similarity-weighted average of the neighbours' deviations from their own baselines; the baseline alone with fewer than min_k neighbours, or mu plus the known biases for a user or item without training ratings."+common,
		func() Recommender { return NewKNN("baseline") })
}

// KNN is Surprise's k-NN family (surprise/prediction_algorithms/knns.py),
// each of the four registered under its own name: Aggregate says which.
//
// With x the row side (the user u when user_based, else the item i) and y
// the other, sim the similarity of knn_similarities.go over the training
// ratings, N the (at most) k rows x' with the highest sim(x, x') among
// those who rated y in training, keeping sim > 0 only (ties: lower index
// first), and Σ over N:
//
//	basic:    r̂ = Σ sim·r_x'y / Σ sim
//	means:    r̂ = mu_x + Σ sim·(r_x'y - mu_x') / Σ sim
//	zscore:   r̂ = mu_x + sd_x · Σ sim·(r_x'y - mu_x')/sd_x' / Σ sim
//	baseline: r̂ = b_ui + Σ sim·(r_x'y - b_x'y) / Σ sim,  b_ui = mu + b_u + b_i
//
// mu_x and sd_x are the mean and population standard deviation of x's
// training ratings (sd 0 replaced by that of all training ratings). When N
// has fewer than min_k rows the sum is dropped: basic predicts the global
// mean (Surprise's "impossible" default), the others mu_x or b_ui. A user
// or item without training ratings gets the global mean, or for baseline
// mu plus the biases it has (an unknown one is 0). Predictions are clipped
// to the scale. Predict counts both cases as fallbacks.
//
// Surprise computes the whole similarity matrix when fitting; so does Fit
// when it has at most knnDenseLimit entries (ml-100k: 943² user-based,
// 1,682² item-based), else Predict computes a row's similarities when it
// first needs them, as user_knn does. Both give the same numbers.
type KNN struct {
	K          int     `pipe:"k,min=1" doc:"the most neighbours a prediction aggregates"`
	MinK       int     `pipe:"min_k,min=1" doc:"with fewer neighbours than this, the prediction is the model's base alone (see the model's doc)"`
	Similarity string  `pipe:"similarity,oneof=cosine|msd|pearson|pearson_baseline" doc:"similarity over co-rated entries: cosine of the raw ratings, msd (1 / (mean squared difference + 1)), pearson (correlation about the means of the co-rated entries) or pearson_baseline (correlation of the deviations from the baselines, shrunk)"`
	UserBased  bool    `pipe:"user_based" doc:"true: neighbours are users similar to the user (over items both rated); false: items similar to the item (over users who rated both)"`
	MinSupport int     `pipe:"min_support,min=1" doc:"a pair sharing fewer rated entries has similarity 0 (pearson_baseline: at least 2)"`
	Shrinkage  float64 `pipe:"shrinkage,min=0" doc:"pearson_baseline only: the similarity is multiplied by (n-1)/(n-1+shrinkage), n the number of shared entries"`
	// The baselines of knn_baseline and pearson_baseline.
	BaselineOptions
	// Aggregate is the variant, set by the registered name: basic, means,
	// zscore or baseline. Not a param: each variant is its own model name,
	// as in Surprise.
	Aggregate string `pipe:"-"`
}

// NewKNN returns the k-NN variant aggregate (basic, means, zscore or
// baseline) with Surprise's defaults: k 40, min_k 1, msd, user-based,
// min_support 1, shrinkage 100, ALS baselines.
func NewKNN(aggregate string) *KNN {
	return &KNN{K: 40, MinK: 1, Similarity: "msd", UserBased: true, MinSupport: 1, Shrinkage: 100, BaselineOptions: DefaultBaselineOptions(), Aggregate: aggregate}
}

// knnDenseLimit is the largest similarity matrix (entries) that Fit
// stores: 50M float64 is 400 MB.
var knnDenseLimit = 50_000_000

// needsBaselines says whether the model fits baselines.
func (p *KNN) needsBaselines() bool {
	return p.Aggregate == "baseline" || p.Similarity == "pearson_baseline"
}

// knnFitted is a fitted KNN.
type knnFitted struct {
	KNN

	d      *ratingData
	at     int         // position of x in a (user, item) pair: 0 user-based, 1 item-based
	nx     int         // rows of the similarity matrix
	xr, yr *sparseRows // ratings by x (columns y) and by y (columns x)
	sim    simMeasure
	xv     []float64 // per rating of xr: the value entering the similarity
	// pv is, per rating of yr, what enters the weighted average: r,
	// r - mu_x', (r - mu_x')/sd_x' or r - b_x'y.
	pv         []float64
	xMean, xSD []float64
	overallSD  float64
	base       *baselines // nil unless needsBaselines
	dense      []float64  // nx × nx similarities, or nil: rows computed in Predict
}

func (p *KNN) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	name := "knn_" + p.Aggregate
	switch p.Aggregate {
	case "basic", "means", "zscore", "baseline":
	default:
		return nil, nil, fmt.Errorf("k-NN: unknown variant %q (basic, means, zscore or baseline)", p.Aggregate)
	}
	kind, err := similarityKind(p.Similarity)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if p.K < 1 || p.MinK < 1 {
		return nil, nil, fmt.Errorf("%s: k %d and min_k %d must be at least 1", name, p.K, p.MinK)
	}
	d, err := newRatingData(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	m := &knnFitted{KNN: *p, d: d}
	if p.needsBaselines() {
		if m.base, err = p.fitBaselines(d); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	m.at, m.nx, m.xr, m.yr, m.xMean = 0, d.nUsers, &d.byUser, &d.byItem, d.userMean
	if !p.UserBased {
		m.at, m.nx, m.xr, m.yr, m.xMean = 1, d.nItems, &d.byItem, &d.byUser, d.itemMean
	}
	m.overallSD = popSD(d.byUser.val, d.global)
	m.xSD = make([]float64, m.nx)
	for x := range m.nx {
		_, vals := m.xr.row(x)
		if len(vals) > 0 {
			if m.xSD[x] = popSD(vals, m.xMean[x]); m.xSD[x] == 0 {
				m.xSD[x] = m.overallSD
			}
		}
	}
	// The values entering similarities and averages, per rating.
	m.xv = make([]float64, len(m.xr.val))
	for x := range m.nx {
		for j := m.xr.start[x]; j < m.xr.start[x+1]; j++ {
			m.xv[j] = m.simValue(int32(x), m.xr.col[j], m.xr.val[j])
		}
	}
	yv := make([]float64, len(m.yr.val))
	m.pv = make([]float64, len(m.yr.val))
	for y := range len(m.yr.start) - 1 {
		for j := m.yr.start[y]; j < m.yr.start[y+1]; j++ {
			x2, r := m.yr.col[j], m.yr.val[j]
			yv[j] = m.simValue(x2, int32(y), r)
			m.pv[j] = m.neighbourValue(x2, int32(y), float64(r))
		}
	}
	m.sim = simMeasure{kind: kind, minSupport: p.MinSupport, shrinkage: p.Shrinkage, yr: m.yr, yv: yv}
	if m.nx*m.nx <= knnDenseLimit {
		m.dense = make([]float64, m.nx*m.nx)
		workers := max(1, min(runtime.GOMAXPROCS(0), m.nx))
		parallel(workers, func(w int) {
			s := newSimScratch(m.nx)
			for x := w; x < m.nx; x += workers {
				m.xRow(s, int32(x), m.dense[x*m.nx:(x+1)*m.nx])
			}
		})
	}
	return m, nil, nil
}

// popSD is the population standard deviation of vals about mean (numpy's
// np.std, which Surprise uses).
func popSD(vals []float32, mean float64) float64 {
	var ss float64
	for _, v := range vals {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	return math.Sqrt(ss / float64(max(len(vals), 1)))
}

// userItem maps a row x and a column y to (user, item).
func (m *knnFitted) userItem(x, y int32) (u, i int32) {
	if m.at == 0 {
		return x, y
	}
	return y, x
}

// simValue is what a training rating of x on y contributes to
// similarities: the rating, or for pearson_baseline its residual from the
// baseline.
func (m *knnFitted) simValue(x, y int32, r float32) float64 {
	if m.Similarity == "pearson_baseline" {
		return float64(r) - m.base.of(m.userItem(x, y))
	}
	return float64(r)
}

// neighbourValue is what a neighbour x2's rating r of y contributes to
// the weighted average.
func (m *knnFitted) neighbourValue(x2, y int32, r float64) float64 {
	switch m.Aggregate {
	case "means":
		return r - m.xMean[x2]
	case "zscore":
		return (r - m.xMean[x2]) / m.xSD[x2]
	case "baseline":
		return r - m.base.of(m.userItem(x2, y))
	}
	return r
}

// xRow sets out (zero on entry) to the similarities of training row x.
func (m *knnFitted) xRow(s *simScratch, x int32, out []float64) {
	lo, hi := m.xr.start[x], m.xr.start[x+1]
	m.sim.row(s, m.xr.col[lo:hi], m.xv[lo:hi], x, out)
}

// topK keeps the k candidates with the highest positive similarity, the
// neighbours, in a heap whose root is the one to drop first (user_knn's).
type topK struct {
	k int
	h []knnNeighbour
}

func (t *topK) reset() { t.h = t.h[:0] }

// add offers a candidate v (its value at index j) with similarity sim.
func (t *topK) add(sim float64, v int32, j int) {
	if sim <= 0 {
		return
	}
	c := knnNeighbour{sim: sim, v: v, j: j}
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		heapUp(t.h, len(t.h)-1)
	} else if t.h[0].worse(c) {
		t.h[0] = c
		heapDown(t.h, 0)
	}
}

// mean is the similarity-weighted average of vals[j] over the neighbours,
// and their number.
func (t *topK) mean(vals []float64) (float64, int) {
	var num, den float64
	for _, c := range t.h {
		num += c.sim * vals[c.j]
		den += c.sim
	}
	if len(t.h) == 0 {
		return 0, 0
	}
	return num / den, len(t.h)
}

// meanOver keeps the neighbours among the rows of s's row y (similarities
// sim, by column) and returns mean(vals) over them.
func (t *topK) meanOver(sim []float64, s *sparseRows, y int32, vals []float64) (float64, int) {
	t.reset()
	for j := s.start[y]; j < s.start[y+1]; j++ {
		t.add(sim[s.col[j]], s.col[j], j)
	}
	return t.mean(vals)
}

// combine turns the neighbours' average avg (over n neighbours) into the
// prediction for a row with mean mean and standard deviation sd and a
// pair with baseline bui, and says whether it fell back for want of
// min_k neighbours.
func (m *knnFitted) combine(avg float64, n int, mean, sd, bui float64) (float64, bool) {
	enough := n >= m.MinK
	if !enough {
		avg = 0
	}
	switch m.Aggregate {
	case "means":
		return mean + avg, !enough
	case "zscore":
		return mean + sd*avg, !enough
	case "baseline":
		return bui + avg, !enough
	}
	if !enough {
		return m.d.global, true
	}
	return avg, false
}

// unknown is the prediction for a pair whose user or item has no training
// ratings, bu the user's bias.
func (m *knnFitted) unknown(bu float64, i int32) float64 {
	if m.Aggregate == "baseline" {
		return m.base.mu + bu + m.base.bi[i]
	}
	return m.d.global
}

func (m *knnFitted) Predict(x *data.Array) ([]float32, int, error) {
	d := m.d
	if d == nil {
		return nil, 0, fmt.Errorf("knn_%s: Predict before Fit", m.Aggregate)
	}
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("knn_%s: %w", m.Aggregate, err)
	}
	pred := make([]float32, len(x.Int)/2)
	// Pairs grouped by their row x, so that a row's similarities are read
	// (or computed) once.
	fallbacks := perRow(x.Int, m.at, m.nx, func() func(xi int32, pairs []int32) int {
		var s *simScratch
		var scratch []float64
		if m.dense == nil {
			s, scratch = newSimScratch(m.nx), make([]float64, m.nx)
		}
		nb := &topK{k: m.K}
		return func(xi int32, pairs []int32) int {
			var row []float64
			if m.xr.rowLen(int(xi)) > 0 {
				if m.dense != nil {
					row = m.dense[int(xi)*m.nx : (int(xi)+1)*m.nx]
				} else {
					clear(scratch)
					m.xRow(s, xi, scratch)
					row = scratch
				}
			}
			n := 0
			for _, p := range pairs {
				u, i := x.Int[2*p], x.Int[2*p+1]
				y := i
				if m.at == 1 {
					y = u
				}
				var bu, bui float64
				if m.base != nil {
					bu = m.base.bu[u]
					bui = m.base.of(u, i)
				}
				if row == nil || m.yr.rowLen(int(y)) == 0 {
					pred[p] = d.clip(m.unknown(bu, i))
					n++
					continue
				}
				avg, k := nb.meanOver(row, m.yr, y, m.pv)
				r, fell := m.combine(avg, k, m.xMean[xi], m.xSD[xi], bui)
				if fell {
					n++
				}
				pred[p] = d.clip(r)
			}
			return n
		}
	})
	return pred, fallbacks, nil
}

// NewUsers: both user- and item-based models rate for a new user (see
// PredictUser).
func (p *KNN) NewUsers() error { return nil }

// PredictUser rates every item for a user outside the training data, as
// Predict would for a training user with these ratings only: user-based,
// the user's similarities to the training users over the items they share
// (computed from the given ratings), item-based, the trained item-item
// similarities with the given ratings as the neighbours' ratings. The
// user's mean and standard deviation come from the given ratings, and its
// bias (knn_baseline, pearson_baseline) is folded in with the item biases
// held (BaselineOptions.foldInUser). An item without training ratings gets
// the model's unknown-pair prediction; fallbacks count the unrated items
// that got it or had fewer than min_k neighbours.
func (m *knnFitted) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d := m.d
	if d == nil {
		return nil, 0, fmt.Errorf("knn_%s: PredictUser before Fit", m.Aggregate)
	}
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("knn_%s: %w", m.Aggregate, err)
	}
	items := sortedItems(ratings)
	// Items without training ratings share no user with anyone: they take
	// no part in similarities, neighbours or the user's bias.
	known, vals := make([]int32, 0, len(items)), make([]float64, 0, len(items))
	for _, i := range items {
		if d.byItem.rowLen(int(i)) > 0 {
			known = append(known, i)
			vals = append(vals, float64(ratings[i]))
		}
	}
	mean, sd := userStats(ratings, items)
	if sd == 0 {
		sd = m.overallSD
	}
	var bu float64
	if m.base != nil {
		bu = m.foldInUser(m.base, known, vals)
	}
	baseline := func(i int32) float64 {
		if m.base == nil {
			return 0
		}
		return m.base.mu + bu + m.base.bi[i]
	}
	nb := &topK{k: m.K}
	if m.at == 0 {
		// User-based: the new user is a row of its own.
		sv := make([]float64, len(known))
		for k, i := range known {
			sv[k] = vals[k]
			if m.sim.kind == simPearsonBaseline {
				sv[k] -= baseline(i)
			}
		}
		row := make([]float64, m.nx)
		m.sim.row(newSimScratch(m.nx), known, sv, -1, row)
		pred, fallbacks := m.foldInItems(ratings, bu, func(i int32) (float64, bool) {
			avg, k := nb.meanOver(row, &d.byItem, i, m.pv)
			return m.combine(avg, k, mean, sd, baseline(i))
		})
		return pred, fallbacks, nil
	}
	// Item-based: the neighbours of item i are the user's rated items j,
	// with sim(i, j) from the item-item matrix.
	pv := make([]float64, len(known))
	for k, j := range known {
		switch m.Aggregate {
		case "means":
			pv[k] = vals[k] - m.xMean[j]
		case "zscore":
			pv[k] = (vals[k] - m.xMean[j]) / m.xSD[j]
		case "baseline":
			pv[k] = vals[k] - baseline(j)
		default:
			pv[k] = vals[k]
		}
	}
	var s *simScratch
	var scratch []float64
	if m.dense == nil {
		s, scratch = newSimScratch(m.nx), make([]float64, m.nx)
	}
	pred, fallbacks := m.foldInItems(ratings, bu, func(i int32) (float64, bool) {
		var row []float64
		if m.dense != nil {
			row = m.dense[int(i)*m.nx : (int(i)+1)*m.nx]
		} else {
			clear(scratch)
			m.xRow(s, i, scratch)
			row = scratch
		}
		nb.reset()
		for k, j := range known {
			nb.add(row[j], j, k)
		}
		avg, k := nb.mean(pv)
		return m.combine(avg, k, m.xMean[i], m.xSD[i], baseline(i))
	})
	return pred, fallbacks, nil
}

// foldInItems rates every item for a new user whose bias is bu: estimate
// for an item with training ratings (and whether it fell back), the
// unknown-item answer otherwise. Fallbacks count only items the user did
// not rate.
func (m *knnFitted) foldInItems(ratings map[int32]float32, bu float64, estimate func(i int32) (float64, bool)) ([]float32, int) {
	d := m.d
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		_, rated := ratings[i]
		if d.byItem.rowLen(int(i)) == 0 {
			pred[i] = d.clip(m.unknown(bu, i))
			if !rated {
				fallbacks++
			}
			continue
		}
		r, fell := estimate(i)
		if fell && !rated {
			fallbacks++
		}
		pred[i] = d.clip(r)
	}
	return pred, fallbacks
}

// ParamCount: the k-NN models are memory-based (they rate from the
// training ratings and similarities computed from them, nothing fitted),
// except for the baselines that knn_baseline and pearson_baseline fit by
// regularised least squares: one bias per user and per item.
func (p *KNN) ParamCount(info *data.RatingInfo) (int, string) {
	if !p.needsBaselines() {
		return 0, "none: memory-based, it rates from the training ratings it keeps"
	}
	formula := "users + items (the baselines' biases; otherwise memory-based)"
	if info == nil {
		return -1, formula
	}
	return len(info.Users) + len(info.Items), formula
}

func (m *knnFitted) TrainableParams() int {
	if m.base == nil {
		return 0
	}
	return len(m.base.bu) + len(m.base.bi)
}
