package recsys

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Models is the registry of rating models that are not layer stacks
// (neighbourhood, matrix factorisation, RBM), chosen by model.name in a
// spec. AutoRec is a layer stack and needs no entry here.
var Models = spec.NewRegistry[Recommender]("model")

// Recommender is a registered rating model's params. Its data is a
// rating dataset (see data/ratings.go): X holds (user, item) pairs, Y
// ratings. Fitting returns a Fitted model and leaves the params as they
// were, so a spec never changes by being run.
type Recommender interface {
	// Fit learns from the training ratings. It returns the per-epoch
	// history of iterative models (e.g. rmse and val_rmse; nil for others).
	Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error)
	// NewUsers is nil when the model, as its params configure it, can rate
	// for a user outside its training data (`pipe predict RUN_DIR
	// RATINGS.csv`), and otherwise says why not. pipe checks it before it
	// reads any data.
	NewUsers() error
}

// Fitted is a rating model fitted to training ratings.
type Fitted interface {
	// Predict returns a rating per (user, item) pair of x, clipped to the
	// rating scale, and how many pairs had a user or item without training
	// ratings and so got the model's documented fallback.
	Predict(x *data.Array) (pred []float32, fallbacks int, err error)
	// PredictUser returns a rating per item (by dense index), clipped to
	// the scale, for a user whose ratings are given by item index, and how
	// many of the items the user did not rate got the model's fallback
	// (the user's mean rating). It is called only when NewUsers is nil.
	PredictUser(ratings map[int32]float32) (pred []float32, fallbacks int, err error)
}

// FitContext is what a recommender may use while fitting.
type FitContext struct {
	Info    *data.RatingInfo
	Backend compute.Backend // for models trained on GoMLX
	Seed    uint64
	Val     *data.Split // validation ratings for per-epoch metrics; may be nil
	Log     func(format string, args ...any)
}

// Restorer is a rating model whose fitted state a run directory keeps,
// so that predict and evaluate use the trained model without fitting it
// again. A model that is not a Restorer is fitted again on the run's
// training ratings: that must be cheap and give the same model (user_knn,
// whose model is the training ratings).
type Restorer interface {
	// Restore rebuilds the fitted model from State's tensors, for the
	// rating data described by info and the same training ratings.
	Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error)
}

// StateSaver is a Fitted model of a Restorer.
type StateSaver interface {
	// State is the fitted model as named tensors: what Predict and
	// PredictUser need beyond the training ratings.
	State() (map[string]*tensors.Tensor, error)
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

// rmse is the root mean squared error of predictions against ratings, the
// rmse and val_rmse of the models' histories. Each error is taken in
// float64, so that it matches an RMSE computed from Predict's output.
func rmse(pred, y []float32) float64 {
	var ss float64
	for i, p := range pred {
		e := float64(p) - float64(y[i])
		ss += e * e
	}
	return math.Sqrt(ss / float64(max(len(pred), 1)))
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
