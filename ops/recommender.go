package ops

import (
	"github.com/gomlx/compute"

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
