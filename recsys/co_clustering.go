package recsys

import (
	"fmt"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("co_clustering", "Surprise's CoClustering (George & Merugu 2005): users and items are put in n_cltr_u and n_cltr_i clusters (seeded random start, then n_epochs passes moving each user, then each item, to the cluster that best predicts its ratings); a rating is the co-cluster's mean plus the user's mean minus their cluster's plus the item's mean minus its cluster's. A user without training ratings gets the item's mean, an item without them the user's mean, both the global mean. Clipped to the rating scale.",
		func() Recommender { return &CoClustering{UserClusters: 3, ItemClusters: 3, Epochs: 20} })
}

// CoClustering is Surprise's CoClustering (surprise/prediction_algorithms/
// co_clustering.pyx). With C_u, C_i the clusters of u and i and avg the
// mean training rating of a user cluster, an item cluster or a co-cluster
// (C_u, C_i) (the global mean for an empty one),
//
//	r̂_ui = avg(C_u, C_i) + (mu_u - avg(C_u)) + (mu_i - avg(C_i)).
//
// Fitting assigns every user and item a random cluster (seeded by the
// spec's seed), then n_epochs times: computes the averages, moves each user
// to the cluster whose r̂ has the least squared error over the user's
// ratings (items keep their clusters; ties: the lowest cluster), then each
// item likewise given the users' new clusters (averages unchanged within
// the epoch); the averages are computed once more at the end.
//
// A user without training ratings gets mu_i, an item without them mu_u,
// both the global mean, as Surprise's documentation says (its code returns
// the global mean in all three cases); they are the fallbacks Predict
// counts. Predictions are clipped to the scale.
type CoClustering struct {
	UserClusters int `pipe:"n_cltr_u,min=1" doc:"number of user clusters"`
	ItemClusters int `pipe:"n_cltr_i,min=1" doc:"number of item clusters"`
	Epochs       int `pipe:"n_epochs,min=0" doc:"passes of the cluster assignment"`
}

// coClusterModel is a fitted CoClustering.
type coClusterModel struct {
	CoClustering

	d                 *ratingData
	userCl, itemCl    []int
	avgU, avgI, avgCo []float64 // avgCo[uc*ItemClusters+ic]
}

func (p *CoClustering) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	if p.UserClusters < 1 || p.ItemClusters < 1 || p.Epochs < 0 {
		return nil, nil, fmt.Errorf("co_clustering: n_cltr_u %d, n_cltr_i %d and n_epochs %d must be positive", p.UserClusters, p.ItemClusters, p.Epochs)
	}
	d, err := newRatingData(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("co_clustering: %w", err)
	}
	m := &coClusterModel{CoClustering: *p, d: d, userCl: make([]int, d.nUsers), itemCl: make([]int, d.nItems)}
	rng := rand.New(rand.NewPCG(ctx.Seed, 0xc0c1))
	for u := range m.userCl {
		m.userCl[u] = rng.IntN(p.UserClusters)
	}
	for i := range m.itemCl {
		m.itemCl[i] = rng.IntN(p.ItemClusters)
	}
	for range p.Epochs {
		m.averages()
		// Each row's new cluster depends on the averages and the other
		// side's clusters only, so rows are independent and the result does
		// not depend on the number of workers.
		parallel(d.nUsers, func(u int) {
			items, vals := d.byUser.row(u)
			if len(items) > 0 {
				m.userCl[u] = m.best(p.UserClusters, func(uc int) float64 {
					var e float64
					for k, i := range items {
						e += sq(float64(vals[k]) - m.est(uc, m.itemCl[i], d.userMean[u], d.itemMean[i]))
					}
					return e
				})
			}
		})
		parallel(d.nItems, func(i int) {
			users, vals := d.byItem.row(i)
			if len(users) > 0 {
				m.itemCl[i] = m.best(p.ItemClusters, func(ic int) float64 {
					var e float64
					for k, u := range users {
						e += sq(float64(vals[k]) - m.est(m.userCl[u], ic, d.userMean[u], d.itemMean[i]))
					}
					return e
				})
			}
		})
	}
	m.averages()
	return m, nil, nil
}

func sq(x float64) float64 { return x * x }

// best is the cluster with the least error (the lowest on ties, as
// numpy's argmin).
func (m *coClusterModel) best(n int, err func(c int) float64) int {
	best, bestErr := 0, err(0)
	for c := 1; c < n; c++ {
		if e := err(c); e < bestErr {
			best, bestErr = c, e
		}
	}
	return best
}

// est is r̂ for a user with mean mu_u in cluster uc and an item with mean
// mu_i in cluster ic.
func (m *coClusterModel) est(uc, ic int, muU, muI float64) float64 {
	return m.avgCo[uc*m.ItemClusters+ic] + muU - m.avgU[uc] + muI - m.avgI[ic]
}

// averages sets the mean rating of every user cluster, item cluster and
// co-cluster from the current assignments (the global mean when empty).
func (m *coClusterModel) averages() {
	d := m.d
	nu, ni := m.UserClusters, m.ItemClusters
	sumU, sumI, sumCo := make([]float64, nu), make([]float64, ni), make([]float64, nu*ni)
	cntU, cntI, cntCo := make([]int, nu), make([]int, ni), make([]int, nu*ni)
	for u := range d.nUsers {
		items, vals := d.byUser.row(u)
		uc := m.userCl[u]
		for k, i := range items {
			ic, r := m.itemCl[i], float64(vals[k])
			sumU[uc] += r
			sumI[ic] += r
			sumCo[uc*ni+ic] += r
			cntU[uc]++
			cntI[ic]++
			cntCo[uc*ni+ic]++
		}
	}
	mean := func(sum []float64, cnt []int) []float64 {
		out := make([]float64, len(sum))
		for c := range sum {
			out[c] = d.global
			if cnt[c] > 0 {
				out[c] = sum[c] / float64(cnt[c])
			}
		}
		return out
	}
	m.avgU, m.avgI, m.avgCo = mean(sumU, cntU), mean(sumI, cntI), mean(sumCo, cntCo)
}

// predict is r̂ for a user in cluster uc with mean muU (uc < 0: unknown
// user) and item i; false when the user or the item is unknown.
func (m *coClusterModel) predict(uc int, muU float64, i int32) (float64, bool) {
	d := m.d
	knownI := d.byItem.rowLen(int(i)) > 0
	switch {
	case uc >= 0 && knownI:
		return m.est(uc, m.itemCl[i], muU, d.itemMean[i]), true
	case uc >= 0:
		return muU, false
	case knownI:
		return d.itemMean[i], false
	}
	return d.global, false
}

func (m *coClusterModel) Predict(x *data.Array) ([]float32, int, error) {
	d := m.d
	if d == nil {
		return nil, 0, fmt.Errorf("co_clustering: Predict before Fit")
	}
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("co_clustering: %w", err)
	}
	pred := make([]float32, len(x.Int)/2)
	fallbacks := 0
	for p := range pred {
		u, i := x.Int[2*p], x.Int[2*p+1]
		uc := -1
		if d.byUser.rowLen(int(u)) > 0 {
			uc = m.userCl[u]
		}
		r, ok := m.predict(uc, d.userMean[u], i)
		if !ok {
			fallbacks++
		}
		pred[p] = d.clip(r)
	}
	return pred, fallbacks, nil
}

// NewUsers: a new user is put in the user cluster that best predicts their
// ratings (see PredictUser).
func (p *CoClustering) NewUsers() error { return nil }

// PredictUser rates every item for a user outside the training data: the
// user's mean comes from the given ratings and their cluster is the one
// whose r̂ has the least squared error over those of the rated items that
// have training ratings (a training step for this user, the trained
// clusters and averages held). Without such items the user is unknown to
// the clusters and every item gets its mean: the fallback. Items without
// training ratings get the user's mean, also the fallback (counted for
// unrated items only).
func (m *coClusterModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d := m.d
	if d == nil {
		return nil, 0, fmt.Errorf("co_clustering: PredictUser before Fit")
	}
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("co_clustering: %w", err)
	}
	items := sortedItems(ratings)
	mean, _ := userStats(ratings, items)
	var known []int32
	for _, i := range items {
		if d.byItem.rowLen(int(i)) > 0 {
			known = append(known, i)
		}
	}
	uc := -1
	if len(known) > 0 {
		uc = m.best(m.UserClusters, func(c int) float64 {
			var e float64
			for _, i := range known {
				e += sq(float64(ratings[i]) - m.est(c, m.itemCl[i], mean, d.itemMean[i]))
			}
			return e
		})
	}
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		r, ok := m.predict(uc, mean, i)
		if _, rated := ratings[i]; !ok && !rated {
			fallbacks++
		}
		pred[i] = d.clip(r)
	}
	return pred, fallbacks, nil
}

// ParamCount counts what fitting learns: a cluster per user and per item,
// and the means of the user clusters, item clusters and co-clusters.
func (p *CoClustering) ParamCount(info *data.RatingInfo) (int, string) {
	formula := fmt.Sprintf("users + items + %d x %d + %d + %d (cluster assignments and cluster means)", p.UserClusters, p.ItemClusters, p.UserClusters, p.ItemClusters)
	if info == nil {
		return -1, formula
	}
	return len(info.Users) + len(info.Items) + p.UserClusters*p.ItemClusters + p.UserClusters + p.ItemClusters, formula
}

func (m *coClusterModel) TrainableParams() int {
	return len(m.userCl) + len(m.itemCl) + len(m.avgCo) + len(m.avgU) + len(m.avgI)
}
