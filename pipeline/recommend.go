package pipeline

import (
	"fmt"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/recsys"
)

// fitRecommender fits a registered rating model and measures it on the
// test ratings with the plan's metrics.
func (p *Plan) fitRecommender(backend compute.Backend, ds *data.Dataset, train, val *data.Split, logf func(string, ...any)) (*Result, error) {
	if ds.Ratings == nil {
		return nil, fmt.Errorf("model %s needs rating data; loader %s gives none", p.ModelName, p.LoaderName)
	}
	ctx := &recsys.FitContext{Info: ds.Ratings, Backend: backend, Seed: uint64(p.Seed), Val: val, Log: logf}
	start := time.Now()
	fitted, hist, err := p.Recommender.Fit(ctx, train)
	if err != nil {
		return nil, err
	}
	if hist == nil {
		hist = &data.History{}
	}
	res := &Result{History: hist, Seconds: time.Since(start).Seconds(), fitted: fitted}
	if err := p.measureValidation(backend, fitted, hist, val); err != nil {
		return nil, err
	}
	pred, fallbacks, err := fitted.Predict(&ds.Test.X)
	if err != nil {
		return nil, fmt.Errorf("predicting the test ratings: %w", err)
	}
	res.Fallbacks, res.TestExamples = fallbacks, len(pred)
	// The labels are copied: with a cache they live in a memory mapping
	// that is gone once the run's data is closed, before the run is written.
	rows := arrowio.PredictionRows{Index: make([]int64, len(pred)), Label: slices.Clone(ds.Test.Y.Float), Prediction: pred}
	for i := range rows.Index {
		rows.Index[i] = int64(i)
	}
	res.Predictions = &rows
	if res.Test, err = MeasurePredictions(backend, p.Metrics, pred, ds.Test.Y.Float); err != nil {
		return nil, err
	}
	logf("%d of %d test predictions used the fallback\n", fallbacks, len(pred))
	return res, nil
}

// measureValidation gives a model without epochs (k-NN, Slope One,
// the baselines...), whose fit reports nothing, its validation metrics
// as a history of one epoch, val_NAME for each of the plan's metrics, so
// that a sweep chooses its params by a val_ series as it does an
// iterative model's. Only ratings held out of training count
// (train.validation: a fraction): with validation: test the series would
// repeat the test metrics, and the history stays empty as before. A
// history that has a val_ series already is left as the model wrote it.
func (p *Plan) measureValidation(backend compute.Backend, fitted recsys.Fitted, hist *data.History, val *data.Split) error {
	if p.Train.Validation.Split != "fraction" || val == nil || val.Len() == 0 {
		return nil
	}
	for _, m := range p.Metrics {
		if hist.Series("val_"+m.Name) != nil {
			return nil
		}
	}
	pred, _, err := fitted.Predict(&val.X)
	if err != nil {
		return fmt.Errorf("predicting the validation ratings: %w", err)
	}
	vals, err := MeasurePredictions(backend, p.Metrics, pred, val.Y.Float)
	if err != nil {
		return err
	}
	for _, m := range p.Metrics {
		hist.Add("val_"+m.Name, vals[m.Name])
	}
	return nil
}

// MeasurePredictions computes metrics of predictions against labels with
// the same graph code that measures layer stacks, so a metric means the
// same thing for every kind of model.
func MeasurePredictions(backend compute.Backend, metrics []NamedMetric, pred, labels []float32) (map[string]float64, error) {
	if len(pred) != len(labels) {
		return nil, fmt.Errorf("%d predictions for %d labels", len(pred), len(labels))
	}
	if len(pred) == 0 {
		return nil, fmt.Errorf("no test ratings to measure")
	}
	exec, err := model.NewExec(backend, model.NewStore(), func(_ *model.Scope, p, y *graph.Node) *graph.Node {
		return metricSums(metrics, nil, p, y, evaluators.Measure{}, nil)
	})
	if err != nil {
		return nil, err
	}
	out, err := exec.Call1(tensors.FromFlatDataAndDimensions(pred, len(pred)), tensors.FromFlatDataAndDimensions(labels, len(labels)))
	if err != nil {
		return nil, err
	}
	sums, err := tensors.CopyFlatData[float32](out)
	if err != nil {
		return nil, err
	}
	s64 := make([]float64, len(sums))
	for i, v := range sums {
		s64[i] = float64(v)
	}
	return finish(metrics, s64), nil
}
