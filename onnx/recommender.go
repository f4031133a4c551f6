package onnx

import (
	"fmt"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/rundir"
)

// notExportableModels are the rating models (model.name) that cannot be
// written as ONNX, with the reason. matrix_factorization can; AutoRec is a
// layer stack and exports as one. A test fails for a registered rating
// model that is neither mapped nor listed here.
var notExportableModels = map[string]string{
	"user_knn": "it is memory-based: each prediction searches the training ratings for the user's nearest neighbours, " +
		"so the model is the whole rating matrix and a search, not a graph of trained weights",
	"rbm_cf": "its prediction runs the RBM's softmax visible units over the rating levels of each case's training ratings, " +
		"which pipe does not map to ONNX operators",
	"knn_basic":       memoryBased,
	"knn_with_means":  memoryBased,
	"knn_with_zscore": memoryBased,
	"knn_baseline":    memoryBased,
	"slope_one": "its prediction averages, over the items the user rated, their deviations from the target item: " +
		"a search over the user's training ratings, not a fixed graph (the deviation matrix alone is not the model)",
	"co_clustering": "its prediction looks up the user's and item's clusters and means, fitted state that pipe does not yet map to ONNX operators " +
		"(it could be: a Gather per table; not done)",
	"normal_predictor": "its prediction is a random draw, not a function of its inputs",
	"baseline_only":    notYet,
	"svd":              notYet,
	"svdpp":            notYet,
	"nmf":              notYet,
}

// memoryBased is why no k-NN model exports: each prediction searches the
// training ratings for neighbours.
const memoryBased = "it is memory-based: each prediction searches the training ratings for the nearest neighbours, " +
	"so the model is the rating matrix and a search, not a graph of trained weights"

// notYet marks factor models that are fixed functions of user and item ids
// and could export as matrix_factorization does; their mapping is not
// written yet, so they are refused rather than exported wrongly.
const notYet = "its fitted biases and factors are a fixed function of the user and item ids, but pipe export has no mapping for it yet " +
	"(matrix_factorization has one)"

// mappedModels are the rating models pipe export writes.
var mappedModels = map[string]bool{"matrix_factorization": true}

// exportRecommender exports a run's rating model. The dataset is loaded:
// the model's normalisation and fallbacks are its training ratings'.
func exportRecommender(run *rundir.Run, plan *pipeline.Plan, opt Options) (*onnxpb.ModelProto, error) {
	if reason, ok := notExportableModels[plan.ModelName]; ok {
		return nil, &UnsupportedError{plan.Errorf("model.name", "%s cannot be exported to ONNX: %s", plan.ModelName, reason)}
	}
	if !mappedModels[plan.ModelName] {
		return nil, &UnsupportedError{plan.Errorf("model.name", "rating model %s has no ONNX mapping", plan.ModelName)}
	}
	ds, closer, err := plan.Data(data.UserDir(opt.DataDir, "PIPE_DATA", "data"), opt.CacheDir)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	fitted, err := plan.RestoreFitted(run, ds)
	if err != nil {
		return nil, err
	}
	tab, ok := fitted.(recsys.MFTabler)
	if !ok {
		return nil, fmt.Errorf("%s: the fitted %s gives no tables to export", run.Dir, plan.ModelName)
	}
	return MatrixFactorization(plan, tab.MFTables(), ds.Ratings), nil
}

// ratingMeta is the ids of a layer stack's input on rating data: for a
// rating vector (rating_matrix) the dataset's ids of its entries, for
// rating pairs (user, item) the ids of the dense user and item indices.
func ratingMeta(plan *pipeline.Plan, opt Options) (Meta, error) {
	var meta Meta
	for _, s := range plan.Steps {
		if rm, ok := s.Transform.(*loaders.RatingMatrix); ok {
			meta.VectorOf = map[string]string{"item": "user", "user": "item"}[rm.By]
		}
	}
	ds, closer, err := plan.Data(data.UserDir(opt.DataDir, "PIPE_DATA", "data"), opt.CacheDir)
	if err != nil {
		return meta, err
	}
	defer closer.Close()
	if ds.Ratings == nil {
		return meta, fmt.Errorf("loader %s gives no rating info", plan.LoaderName)
	}
	switch meta.VectorOf {
	case "user":
		meta.VectorIDs = ds.Ratings.Users
	case "item":
		meta.VectorIDs = ds.Ratings.Items
	default:
		meta.UserIDs, meta.ItemIDs = ds.Ratings.Users, ds.Ratings.Items
	}
	return meta, nil
}

// MatrixFactorization is the ONNX model of a fitted matrix
// factorisation: inputs "user" and "item" [N] (int32 dense indices, as
// pipe's rating data holds them; the metadata's pipe.user_ids and
// pipe.item_ids give the dataset's id of each index), output "rating" [N],
// computed as recsys.MFTables says, fallbacks included. ONNX's Gather
// fails on an index past the end, and counts a negative one from the end.
func MatrixFactorization(plan *pipeline.Plan, t recsys.MFTables, info *data.RatingInfo) *onnxpb.ModelProto {
	b := newGraphBuilder(plan.Name)
	b.names["user"], b.names["item"], b.names["rating"] = 1, 1, 1
	f64 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	gather := func(table, ids string) string { return b.op("Gather", "mf", []string{table, ids}, int1("axis", 0)) }
	pu := gather(b.floats("mf/p", []int{t.Users, t.Factors}, t.P), "user")
	qi := gather(b.floats("mf/q", []int{t.Items, t.Factors}, t.Q), "item")
	dot := b.op("ReduceSum", "mf", []string{b.op("Mul", "mf", []string{pu, qi}), b.axes("mf/factor_axis", 1)}, int1("keepdims", 0))
	v := b.op("Add", "mf", []string{dot, b.scalar("mf/mu", float32(t.Mu))})
	if t.BU != nil {
		biases := b.op("Add", "mf", []string{gather(b.floats("mf/bu", []int{t.Users}, t.BU), "user"), gather(b.floats("mf/bi", []int{t.Items}, t.BI), "item")})
		v = b.op("Add", "mf", []string{v, biases})
	}
	// Back from the user's normalisation to the rating scale.
	v = b.op("Mul", "mf", []string{v, gather(b.floats("mf/scale", []int{t.Users}, f64(t.Scale)), "user")})
	v = b.op("Add", "mf", []string{v, gather(b.floats("mf/shift", []int{t.Users}, f64(t.Shift)), "user")})
	// The fallback: the user's mean, else the item's, else the global mean.
	tu := gather(b.bools("mf/trained_user", []int{t.Users}, t.TrainedUser), "user")
	ti := gather(b.bools("mf/trained_item", []int{t.Items}, t.TrainedItem), "item")
	fb := b.op("Where", "fallback", []string{ti, gather(b.floats("mf/item_mean", []int{t.Items}, f64(t.ItemMean)), "item"), b.scalar("mf/global_mean", float32(t.Global))})
	fb = b.op("Where", "fallback", []string{tu, gather(b.floats("mf/user_mean", []int{t.Users}, f64(t.UserMean)), "user"), fb})
	v = b.op("Where", "mf", []string{b.op("And", "mf", []string{tu, ti}), v, fb})
	v = b.op("Clip", "mf", []string{v, b.scalar("mf/min_rating", t.Range[0]), b.scalar("mf/max_rating", t.Range[1])})
	b.identity(v, "rating")

	b.g.Input = []*onnxpb.ValueInfoProto{
		valueInfo("user", "the user's dense index, 0 .. users-1 (pipe.user_ids gives the dataset's id of each)", onnxpb.TensorProto_INT32, batchDim),
		valueInfo("item", "the item's dense index, 0 .. items-1 (pipe.item_ids gives the dataset's id of each)", onnxpb.TensorProto_INT32, batchDim),
	}
	outDoc := fmt.Sprintf("the predicted rating, clipped to [%v, %v]; a user or item without training ratings gets the user's mean, else the item's, else the global mean", t.Range[0], t.Range[1])
	b.g.Output = []*onnxpb.ValueInfoProto{valueInfo("rating", outDoc, onnxpb.TensorProto_FLOAT, batchDim)}
	props := [][2]string{
		{"pipe.spec", plan.Name},
		{"pipe.loader", plan.LoaderName},
		{"pipe.model", plan.ModelName},
		{"pipe.input", "user and item: dense indices of the dataset's users and items"},
		{"pipe.preprocessing", "none: the per-user normalisation is in the graph"},
		{"pipe.output", outDoc},
	}
	if info != nil {
		props = append(props, [2]string{"pipe.user_ids", jsonList(info.Users)}, [2]string{"pipe.item_ids", jsonList(info.Items)})
	}
	doc := fmt.Sprintf("pipe model %s: matrix factorisation with %d factors over %d users and %d items.", plan.Name, t.Factors, t.Users, t.Items)
	return newModel(b.g, doc, props)
}
