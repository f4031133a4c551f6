package ops

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/spec"
)

// Models is the registry of rating models that are not layer stacks
// (neighbourhood, matrix factorisation, RBM), chosen by model.name in a
// spec. AutoRec is a layer stack and needs no entry here.
var Models = spec.NewRegistry("model")

// Recommender is a registered rating model's config. Its data is a rating
// dataset (loaders/ratings.go): X holds (user, item) pairs, Y ratings.
type Recommender interface {
	// Fit learns from the training ratings. It returns the per-epoch
	// history of iterative models (e.g. rmse and val_rmse; nil for others).
	Fit(ctx *FitContext, train *loaders.Split) (*evaluators.History, error)
	// Predict returns a rating per (user, item) pair of x, clipped to the
	// rating scale, and how many pairs had a user or item without training
	// ratings and so got the model's documented fallback.
	Predict(x *loaders.Array) (pred []float32, fallbacks int, err error)
}

// FitContext is what a recommender may use while fitting.
type FitContext struct {
	Info    *loaders.RatingInfo
	Backend compute.Backend // for models trained on GoMLX
	Seed    uint64
	Val     *loaders.Split // validation ratings for per-epoch metrics; may be nil
	Log     func(format string, args ...any)
}

// UserPredictor is a fitted rating model that can rate the items for a user
// outside its training data from that user's ratings alone (`pipe predict
// RUN_DIR RATINGS.csv`), with the same params as its Predict.
type UserPredictor interface {
	// NewUsers is nil when the model, as its params configure it, can rate
	// for a new user, and otherwise says why not. pipe checks it before it
	// reads any data.
	NewUsers() error
	// PredictUser returns a rating per item (by dense index), clipped to
	// the scale, for a user whose ratings are given by item index, and how
	// many of the items the user did not rate got the model's fallback
	// (the user's mean rating).
	PredictUser(ratings map[int32]float32) (pred []float32, fallbacks int, err error)
}

// StateSaver is a fitted rating model whose state a run directory keeps,
// so that predict uses the trained model without fitting it again. A
// UserPredictor that is not a StateSaver is fitted again on the run's
// training ratings at predict time: that must be cheap and give the same
// model (user_knn, whose model is the training ratings).
type StateSaver interface {
	// State is the fitted model as named tensors: what Predict and
	// PredictUser need beyond the training ratings.
	State() (map[string]*tensors.Tensor, error)
	// LoadState restores State's tensors into a model with the same params,
	// for the rating data described by info and the same training ratings.
	LoadState(info *loaders.RatingInfo, train *loaders.Split, state map[string]*tensors.Tensor) error
}

// stateTensor returns the values of state[name], checking its shape (and,
// by CopyFlatData, its dtype).
func stateTensor[T float32 | float64](state map[string]*tensors.Tensor, name string, dims ...int) ([]T, error) {
	t, ok := state[name]
	if !ok {
		return nil, fmt.Errorf("the saved state lacks %s", name)
	}
	if got := t.Shape().Dimensions; !slices.Equal(got, dims) {
		return nil, fmt.Errorf("the saved %s has shape %v, the model and data want %v (did the data change since the run?)", name, got, dims)
	}
	return tensors.CopyFlatData[T](t)
}

// userStats are a new user's mean rating and population standard
// deviation, summed over items in ascending order as rowMeans sums a
// training user's.
func userStats(ratings map[int32]float32, items []int32) (mean, sd float64) {
	for _, i := range items {
		mean += float64(ratings[i])
	}
	mean /= float64(max(len(items), 1))
	for _, i := range items {
		sd += (float64(ratings[i]) - mean) * (float64(ratings[i]) - mean)
	}
	return mean, math.Sqrt(sd / float64(max(len(items), 1)))
}

// sortedItems returns the rated items in ascending order, the order in
// which the models' sums run, so that a prediction does not depend on map
// iteration order.
func sortedItems(ratings map[int32]float32) []int32 {
	items := slices.Collect(maps.Keys(ratings))
	slices.Sort(items)
	return items
}
