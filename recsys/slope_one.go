package recsys

import (
	"fmt"
	"runtime"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("slope_one", "Surprise's SlopeOne (Lemire & Maclachlan 2005): a rating is the user's mean plus the average deviation dev(i, j) of the item from the items j the user rated that share a rater with it, dev(i, j) the mean of r_ui - r_uj over the users who rated both. A user without such items gets their mean; a user or item without training ratings the global mean. Clipped to the rating scale.",
		func() Recommender { return &SlopeOne{} })
}

// SlopeOne is Surprise's SlopeOne (surprise/prediction_algorithms/
// slope_one.pyx). With U_ij the training users who rated both i and j,
//
//	dev(i, j) = Σ_{U_ij} (r_ui - r_uj) / |U_ij|
//	r̂_ui     = mu_u + Σ_{j ∈ R_i(u)} dev(i, j) / |R_i(u)|
//
// R_i(u) the items j that u rated in training with |U_ij| > 0, mu_u the
// user's mean training rating. With R_i(u) empty the prediction is mu_u; a
// user or item without training ratings gets the global mean (Surprise's
// default for an impossible prediction). Both are the fallbacks Predict
// counts. Predictions are clipped to the scale. It has no params.
type SlopeOne struct{}

// slopeOneLimit is the most entries of the item-item matrices Fit builds
// (dense, as Surprise does: 12 bytes an entry).
var slopeOneLimit = 50_000_000

// slopeOneModel is a fitted SlopeOne: the item-item deviations and
// co-rating counts, dense (items × items, row i column j).
type slopeOneModel struct {
	d    *ratingData
	dev  []float64
	freq []int32
}

func (p *SlopeOne) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	d, err := newRatingData(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("slope_one: %w", err)
	}
	n := d.nItems
	if n*n > slopeOneLimit {
		return nil, nil, fmt.Errorf("slope_one: %d items need a %d x %d deviation matrix, more than the %d entries it may hold", n, n, n, slopeOneLimit)
	}
	m := &slopeOneModel{d: d, dev: make([]float64, n*n), freq: make([]int32, n*n)}
	// Row i sums over the raters of i in ascending order, whichever worker
	// takes it, so the model does not depend on GOMAXPROCS; dev(j, i) sums
	// the negated terms in the same order, so dev is exactly antisymmetric.
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	parallel(workers, func(w int) {
		for i := w; i < n; i += workers {
			dev, freq := m.dev[i*n:(i+1)*n], m.freq[i*n:(i+1)*n]
			users, rui := d.byItem.row(i)
			for k, u := range users {
				items, ru := d.byUser.row(int(u))
				for x, j := range items {
					freq[j]++
					dev[j] += float64(rui[k]) - float64(ru[x])
				}
			}
			for j := range n {
				if freq[j] > 0 {
					dev[j] /= float64(freq[j])
				}
			}
		}
	})
	return m, nil, nil
}

// estimate is mu plus the average deviation of item i from the items
// (with their ratings) that share a rater with it; false when none does.
func (m *slopeOneModel) estimate(mu float64, i int32, items []int32) (float64, bool) {
	n := m.d.nItems
	dev, freq := m.dev[int(i)*n:(int(i)+1)*n], m.freq[int(i)*n:(int(i)+1)*n]
	var sum float64
	count := 0
	for _, j := range items {
		if freq[j] > 0 {
			sum += dev[j]
			count++
		}
	}
	if count == 0 {
		return mu, false
	}
	return mu + sum/float64(count), true
}

func (m *slopeOneModel) Predict(x *data.Array) ([]float32, int, error) {
	d := m.d
	if d == nil {
		return nil, 0, fmt.Errorf("slope_one: Predict before Fit")
	}
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("slope_one: %w", err)
	}
	pred := make([]float32, len(x.Int)/2)
	fallbacks := perRow(x.Int, 0, d.nUsers, func() func(u int32, pairs []int32) int {
		return func(u int32, pairs []int32) int {
			items, _ := d.byUser.row(int(u))
			n := 0
			for _, p := range pairs {
				i := x.Int[2*p+1]
				if len(items) == 0 || d.byItem.rowLen(int(i)) == 0 {
					pred[p] = d.clip(d.global)
					n++
					continue
				}
				r, ok := m.estimate(d.userMean[u], i, items)
				if !ok {
					n++
				}
				pred[p] = d.clip(r)
			}
			return n
		}
	})
	return pred, fallbacks, nil
}

// NewUsers: a new user's prediction needs only their ratings and the
// trained deviations.
func (p *SlopeOne) NewUsers() error { return nil }

// PredictUser rates every item for a user outside the training data as
// Predict does for a training user with these ratings: their mean plus
// the average deviation from the rated items that share a rater with the
// item (items without training ratings share none). An item that shares
// no rater with the rated ones, or has no training ratings, gets the
// user's mean: the fallback, counted for the items the user did not rate.
func (m *slopeOneModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d := m.d
	if d == nil {
		return nil, 0, fmt.Errorf("slope_one: PredictUser before Fit")
	}
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("slope_one: %w", err)
	}
	items := sortedItems(ratings)
	mean, _ := userStats(ratings, items)
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		r, ok := mean, false
		if d.byItem.rowLen(int(i)) > 0 {
			r, ok = m.estimate(mean, i, items)
		}
		if _, rated := ratings[i]; !ok && !rated {
			fallbacks++
		}
		pred[i] = d.clip(r)
	}
	return pred, fallbacks, nil
}

// ParamCount counts the entries of the item-item deviation matrix, what
// slope one learns from the ratings.
func (p *SlopeOne) ParamCount(info *data.RatingInfo) (int, string) {
	const formula = "items x items (the item-item deviations)"
	if info == nil {
		return -1, formula
	}
	return len(info.Items) * len(info.Items), formula
}

func (m *slopeOneModel) TrainableParams() int { return len(m.dev) }
