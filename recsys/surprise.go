package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
)

// Shared plumbing of the models that follow Surprise's algorithms
// (normal_predictor, baseline_only, svd, svdpp, nmf): the training ratings
// in the order Surprise visits them, its notion of a known user or item,
// float64 state, and the per-epoch history.

// surpriseTrain is a training split as Surprise's Trainset holds it.
//
// Surprise numbers users in order of first appearance in the training
// ratings and keeps each user's ratings in a list, in the order they
// came; Trainset.all_ratings(), which every SGD epoch walks, yields user
// after user in that numbering, each user's ratings in their order. The
// SGD models visit ratings in exactly that order every epoch (no
// shuffling), so that they take the same path as Surprise's: rating k of
// the walk is (users[b], items[k], r[k]) for start[b] <= k < start[b+1].
type surpriseTrain struct {
	*ratingData
	users []int32   // users in order of first appearance in the split
	start []int     // user block b is [start[b], start[b+1]) of items and r
	items []int32   // per rating, in the walk's order
	r     []float64 // per rating, in the walk's order
}

func newSurpriseTrain(info *data.RatingInfo, train *data.Split) (*surpriseTrain, error) {
	d, err := newRatingData(info, train)
	if err != nil {
		return nil, err
	}
	n := len(train.Y.Float)
	t := &surpriseTrain{ratingData: d, items: make([]int32, n), r: make([]float64, n)}
	block := make([]int32, d.nUsers) // user -> 1 + its block, 0 before it appears
	var counts []int
	for k := range n {
		u := train.X.Int[2*k]
		if block[u] == 0 {
			t.users = append(t.users, u)
			counts = append(counts, 0)
			block[u] = int32(len(t.users))
		}
		counts[block[u]-1]++
	}
	t.start = make([]int, len(t.users)+1)
	for b, c := range counts {
		t.start[b+1] = t.start[b] + c
	}
	next := append([]int(nil), t.start[:len(t.users)]...)
	for k := range n {
		b := block[train.X.Int[2*k]] - 1
		t.items[next[b]], t.r[next[b]] = train.X.Int[2*k+1], float64(train.Y.Float[k])
		next[b]++
	}
	return t, nil
}

// knowsUser and knowsItem are Surprise's Trainset.knows_user/knows_item:
// a user or item is known when it has training ratings.
func (t *surpriseTrain) knowsUser(u int32) bool { return t.byUser.rowLen(int(u)) > 0 }
func (t *surpriseTrain) knowsItem(i int32) bool { return t.byItem.rowLen(int(i)) > 0 }

// trainingRMSE is the RMSE of predict on the training ratings (clipped,
// as Predict gives them): the rmse of the history after each epoch.
func trainingRMSE(predict func(*data.Array) ([]float32, int, error), train *data.Split) (float64, error) {
	pred, _, err := predict(&train.X)
	if err != nil {
		return 0, err
	}
	return rmse(pred, train.Y.Float), nil
}

// epochHistory adds an epoch's rmse (on the training ratings) and, when
// there are validation ratings, val_rmse to h, and logs them.
func epochHistory(ctx *FitContext, h *data.History, predict func(*data.Array) ([]float32, int, error), train *data.Split, epoch, epochs int) error {
	r, err := trainingRMSE(predict, train)
	if err != nil {
		return err
	}
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return fmt.Errorf("epoch %d: the training error is %v; lower the learning rate", epoch, r)
	}
	h.Add("rmse", r)
	line := fmt.Sprintf("epoch %d/%d - rmse: %.4f", epoch, epochs, r)
	if ctx.Val != nil && ctx.Val.Len() > 0 {
		v, err := trainingRMSE(predict, ctx.Val)
		if err != nil {
			return err
		}
		h.Add("val_rmse", v)
		line += fmt.Sprintf(" - val_rmse: %.4f", v)
	}
	if ctx.Log != nil {
		ctx.Log("%s\n", line)
	}
	return nil
}

// surpriseRNG is the generator of a model's initial factors. Surprise
// draws them from numpy's generator seeded with random_state; pipe draws
// them from the spec's seed, in the same order (user factors, then item
// factors, row by row), so a seed gives one model.
func surpriseRNG(seed uint64, model uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, model))
}

// normalDraws returns n draws of N(mean, std²).
func normalDraws(rng *rand.Rand, n int, mean, std float64) []float64 {
	v := make([]float64, n)
	for k := range v {
		v[k] = mean + std*rng.NormFloat64()
	}
	return v
}

// f64Vec and f64Mat wrap float64 state for the run's checkpoint.
func f64Vec(v []float64) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), len(v))
}

func f64Mat(v []float64, rows, cols int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), rows, cols)
}

// loadF64State reads the named float64 tensors of a saved state into dst,
// each with the shape given.
func loadF64State(model string, state map[string]*tensors.Tensor, want ...f64State) error {
	for _, w := range want {
		v, err := stateTensor[float64](state, w.name, w.dims...)
		if err != nil {
			return fmt.Errorf("%s: %w", model, err)
		}
		*w.dst = v
	}
	return nil
}

type f64State struct {
	name string
	dst  *[]float64
	dims []int
}

// factorDot is the inner product of two factor vectors.
func factorDot(a, b []float64) float64 {
	var s float64
	for f := range a {
		s += a[f] * b[f]
	}
	return s
}

// ridge returns the x that minimises Σ_k (a_k·x - y_k)² + lambda·|x|²,
// a_k row k of a (dim values each): the fold-in of a new user, whose
// factors (and bias) are fitted to their ratings with the item side fixed.
// lambda is at least 1e-9, so that the system has one solution.
func ridge(a, y []float64, dim int, lambda float64) ([]float64, error) {
	m, rhs := make([]float64, dim*dim), make([]float64, dim)
	for k := range y {
		row := a[k*dim : (k+1)*dim]
		for r := range dim {
			rhs[r] += row[r] * y[k]
			for c := range dim {
				m[r*dim+c] += row[r] * row[c]
			}
		}
	}
	for r := range dim {
		m[r*dim+r] += max(lambda, 1e-9)
	}
	return solveSPD(m, rhs, dim)
}

// knownItems returns the items of a new user's ratings that have training
// ratings, ascending, and the ratings of those items: the only ones a
// fold-in can use, since the others' parameters were never trained.
func (t *surpriseTrain) knownItems(ratings map[int32]float32) ([]int32, []float64) {
	var items []int32
	var r []float64
	for _, i := range sortedItems(ratings) {
		if t.knowsItem(i) {
			items, r = append(items, i), append(r, float64(ratings[i]))
		}
	}
	return items, r
}
