package pipeline

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/rundir"
)

// PredictError is a run whose model cannot take the inputs given to
// predict: the command asks for what the run cannot do.
type PredictError struct{ Err error }

func (e *PredictError) Error() string { return e.Err.Error() }
func (e *PredictError) Unwrap() error { return e.Err }

// userPredictor rates every item (by dense index) for one user's ratings
// and says how many of the unrated items got a fallback.
type userPredictor func(ratings map[int32]float32) (pred []float32, fallbacks int, err error)

// predictUsers applies a run on rating data to files of one user's ratings
// each (loaders.ReadUserRatings) and returns, per file, the items the user
// did not rate with their predicted ratings, best first.
func (p *Plan) predictUsers(run *rundir.Run, inputs []string, opt Options) ([]Prediction, error) {
	u, err := p.loadUserModel(run, opt)
	if err != nil {
		return nil, err
	}
	defer u.Close()
	var out []Prediction
	for _, path := range inputs {
		ratings, err := loaders.ReadUserRatings(path, u.info)
		if err != nil {
			return nil, err
		}
		pr, err := u.rank(path, ratings)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// userModel is a rating run's model loaded to rate items for new users'
// ratings, by predict (one call per file) and by a Predictor (many
// requests): both rank with the same code.
type userModel struct {
	info    *data.RatingInfo
	predict userPredictor
	data    io.Closer // the dataset: user_knn's fitted model reads its training ratings
}

// Close releases the dataset.
func (u *userModel) Close() error { return u.data.Close() }

// loadUserModel loads the model of a run on rating data for new users.
// The models that can rate for a user outside the training data: U-AutoRec
// (a layer stack on rating_matrix by: user), and the rating models that
// implement recsys.UserPredictor. The dataset is loaded for its item ids,
// and for user_knn for its training ratings.
func (p *Plan) loadUserModel(run *rundir.Run, opt Options) (*userModel, error) {
	// What needs no data is checked first.
	var after []loaders.ColumnTransform
	if p.Recommender != nil {
		if err := p.Recommender.NewUsers(); err != nil {
			return nil, &PredictError{fmt.Errorf("%s: %w", run.Dir, err)}
		}
	} else {
		var err error
		if after, err = p.userVectorTransforms(); err != nil {
			return nil, &PredictError{fmt.Errorf("%s: %w", run.Dir, err)}
		}
	}
	ds, closer, err := p.Data(opt.DataDir, opt.CacheDir)
	if err != nil {
		return nil, err
	}
	info := ds.Ratings
	if info == nil {
		closer.Close()
		return nil, fmt.Errorf("loader %s gives no rating info", p.LoaderName)
	}
	var predict userPredictor
	if p.Recommender != nil {
		var fitted recsys.Fitted
		if fitted, err = p.restoreFitted(run, ds); err == nil {
			predict = fitted.PredictUser
		}
	} else {
		predict, err = p.autoRecPredictor(run, opt.Backend, info, after)
	}
	if err != nil {
		closer.Close()
		return nil, err
	}
	return &userModel{info: info, predict: predict, data: closer}, nil
}

// rank rates every item for a user's ratings (by dense item index) and
// returns the items the user did not rate, best first, ties in item order;
// input names the ratings in errors and in the Prediction.
func (u *userModel) rank(input string, ratings map[int32]float32) (Prediction, error) {
	pred, fallbacks, err := u.predict(ratings)
	if err != nil {
		return Prediction{}, fmt.Errorf("%s: %w", input, err)
	}
	if len(pred) != len(u.info.Items) {
		return Prediction{}, fmt.Errorf("%s: the model rated %d items, the data has %d", input, len(pred), len(u.info.Items))
	}
	var unrated []int
	for i := range u.info.Items {
		if _, ok := ratings[int32(i)]; !ok {
			unrated = append(unrated, i)
		}
	}
	slices.SortStableFunc(unrated, func(a, b int) int { return cmp.Compare(pred[b], pred[a]) })
	pr := Prediction{Input: input, Rated: len(ratings), Fallbacks: fallbacks}
	for _, i := range unrated {
		pr.Items, pr.Outputs = append(pr.Items, u.info.Items[i]), append(pr.Outputs, pred[i])
	}
	return pr, nil
}

// userVectorTransforms checks that the layer stack takes a user's rating
// vector (U-AutoRec: rating_matrix by: user) and returns the feature
// transforms after rating_matrix, which a new user's vector goes through.
func (p *Plan) userVectorTransforms() ([]loaders.ColumnTransform, error) {
	var after []loaders.ColumnTransform
	var matrix *loaders.RatingMatrix
	for _, s := range p.Steps {
		switch t := s.Transform.(type) {
		case *loaders.RatingMatrix:
			matrix = t
		case loaders.ColumnTransform:
			if matrix != nil {
				after = append(after, t)
			}
		default:
			if matrix != nil {
				return nil, fmt.Errorf("predict cannot apply transform %s to a user's ratings", s.Kind)
			}
		}
	}
	switch {
	case matrix == nil:
		return nil, fmt.Errorf("this layer stack takes (user, item) pairs, not a user's ratings; predict for a user's ratings takes U-AutoRec (transform rating_matrix by: user) or a rating model")
	case matrix.By != "user":
		return nil, fmt.Errorf("rating_matrix by: %s (I-AutoRec) has one example per item over the training users, and no input for a new user; predict for a user's ratings takes rating_matrix by: user (U-AutoRec)", matrix.By)
	}
	return after, nil
}

// autoRecPredictor loads U-AutoRec's checkpoint. A user's input is their
// rating vector over all items, 0 where they rated nothing, as the
// rating_matrix transform builds it for training users; the output is a
// predicted rating per item, clipped to the scale as every rating model's.
func (p *Plan) autoRecPredictor(run *rundir.Run, backend string, info *data.RatingInfo, after []loaders.ColumnTransform) (userPredictor, error) {
	m, err := p.loadModel(run, backend)
	if err != nil {
		return nil, err
	}
	n := len(info.Items)
	return func(ratings map[int32]float32) ([]float32, int, error) {
		x := data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{n}}, Float: make([]float32, n)}
		for i, r := range ratings {
			x.Float[i] = r
		}
		x, err := loaders.ApplyToInput(after, x)
		if err != nil {
			return nil, 0, err
		}
		out, err := m.Outputs(&data.Split{X: x, Y: x}) // Outputs reads no labels
		if err != nil {
			return nil, 0, err
		}
		for i, v := range out {
			out[i] = min(max(v, info.Scale[0]), info.Scale[1])
		}
		return out, 0, nil
	}, nil
}

// restoreFitted returns the rating model fitted in run: its saved state,
// or for a memory-based model (user_knn, whose model is the training
// ratings) a fit on the same training data.
func (p *Plan) restoreFitted(run *rundir.Run, ds *data.Dataset) (recsys.Fitted, error) {
	train, _ := p.fitSplits(ds)
	r, ok := p.Recommender.(recsys.Restorer)
	if !ok {
		fitted, _, err := p.Recommender.Fit(&recsys.FitContext{Info: ds.Ratings, Seed: uint64(p.Seed)}, &train)
		return fitted, err
	}
	store := model.NewStore()
	if err := run.LoadCheckpoint(store); err != nil {
		return nil, fmt.Errorf("%w (runs of rating models written before pipe saved their state have none; run the spec again)", err)
	}
	state := map[string]*tensors.Tensor{}
	for v := range store.IterVariables() {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", run.Dir, err)
		}
		state[v.Name()] = t
	}
	fitted, err := r.Restore(ds.Ratings, &train, state)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", run.Dir, err)
	}
	return fitted, nil
}

// stateStore puts a fitted rating model's state into a variable store,
// one variable per tensor, for the run's checkpoint.
func stateStore(s recsys.StateSaver) (*model.Store, error) {
	state, err := s.State()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	for _, name := range slices.Sorted(maps.Keys(state)) {
		if _, err := store.CreateVariable("/"+name, state[name]); err != nil {
			return nil, err
		}
	}
	return store, nil
}
