package pipeline

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
)

// OpenRun reads a run directory's resolved spec and compiles it.
func OpenRun(dir string) (*rundir.Run, *Plan, error) {
	run, err := rundir.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	p, err := Load(run.SpecPath())
	return run, p, err
}

// loadModel builds the plan's layer stack with the variables of run's
// checkpoint, on backend config (the plan's when "").
func (p *Plan) loadModel(run *rundir.Run, backendConfig string) (*Model, error) {
	backend, err := NewBackend(cmp.Or(backendConfig, p.Backend))
	if err != nil {
		return nil, err
	}
	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	// Attached before any graph is built, the checkpoint gives the
	// variables their saved values when the graphs create them.
	if err := run.LoadCheckpoint(m.store); err != nil {
		return nil, err
	}
	return m, nil
}

// EvaluateRun measures a finished run's model on its spec's test split:
// a layer stack from its checkpoint, a rating model from its saved state
// (or, memory-based, fitted again on the same training ratings).
func EvaluateRun(dir string, opt Options) (*Plan, map[string]float64, error) {
	opt = opt.withDefaults()
	run, p, err := OpenRun(dir)
	if err != nil {
		return nil, nil, err
	}
	var m *Model
	if p.Recommender == nil {
		if m, err = p.loadModel(run, opt.Backend); err != nil {
			return nil, nil, err
		}
	}
	ds, closer, err := p.Data(opt.DataDir, opt.CacheDir)
	if err != nil {
		return nil, nil, err
	}
	defer closer.Close()
	if m != nil {
		res, err := m.Evaluate(&ds.Test)
		return p, res, err
	}
	fitted, err := p.restoreFitted(run, ds)
	if err != nil {
		return nil, nil, err
	}
	pred, _, err := fitted.Predict(&ds.Test.X)
	if err != nil {
		return nil, nil, err
	}
	backend, err := NewBackend(cmp.Or(opt.Backend, p.Backend))
	if err != nil {
		return nil, nil, err
	}
	defer backend.Finalize()
	res, err := MeasurePredictions(backend, p.Metrics, pred, ds.Test.Y.Float)
	return p, res, err
}

// Prediction is a trained model's answer for one input file.
type Prediction struct {
	Input   string
	Outputs []float32 // the model's output: class probabilities, or values
	// For a user's ratings file (a run on rating data): the items the user
	// did not rate, best first, Outputs holding their predicted ratings in
	// the same order; how many ratings the file gave; and how many of the
	// predictions are the model's fallback (the user's mean rating).
	Items     []string
	Rated     int
	Fallbacks int
}

// PredictRun applies a finished run's model to input files that its
// loader can decode (images for mnist and cifar10, reviews for imdb),
// after the spec's feature transforms; on rating data, to files of one
// user's ratings each (see predictUsers).
func PredictRun(dir string, inputs []string, opt Options) (*Plan, []Prediction, error) {
	opt = opt.withDefaults()
	run, p, err := OpenRun(dir)
	if err != nil {
		return nil, nil, err
	}
	if p.RatingData() {
		out, err := p.predictUsers(run, inputs, opt)
		return p, out, err
	}
	dec, ok := p.Loader.(loaders.InputDecoder)
	if !ok {
		return nil, nil, &PredictError{fmt.Errorf("loader %s cannot read input files for predict", p.LoaderName)}
	}
	m, err := p.loadModel(run, opt.Backend)
	if err != nil {
		return nil, nil, err
	}
	var transforms []loaders.ColumnTransform
	for _, s := range p.Steps {
		if t, ok := s.Transform.(loaders.ColumnTransform); ok {
			transforms = append(transforms, t)
		}
	}
	var out []Prediction
	for _, path := range inputs {
		x, err := dec.DecodeInput(opt.DataDir, path)
		if err == nil {
			x, err = loaders.ApplyToInput(transforms, x)
		}
		if err != nil {
			return nil, nil, err
		}
		// A label column of the right length, unused by Outputs.
		split := data.Split{X: x, Y: data.Array{Schema: p.Y, Int: []int32{0}, Float: []float32{0}}}
		o, err := m.Outputs(&split)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Prediction{Input: path, Outputs: o})
	}
	return p, out, nil
}

// resume loads the checkpoint of run into m and returns its history, the
// epochs already trained, in the order Fit writes the series.
func resume(p *Plan, m *Model, run *rundir.Run) (*data.History, error) {
	series, err := run.History()
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	h := &data.History{}
	names := metricNames(p.Metrics)
	if p.Train.Validation.Split != "none" {
		for _, n := range metricNames(p.Metrics) {
			names = append(names, "val_"+n)
		}
	}
	for _, n := range names {
		v, ok := series[n]
		if !ok || len(v) != len(series[names[0]]) || len(v) == 0 {
			return nil, fmt.Errorf("resume: %s/%s lacks a whole %s series", run.Dir, rundir.HistoryFile, n)
		}
		h.Names, h.Values = append(h.Names, n), append(h.Values, v)
	}
	if done := len(h.Values[0]); done >= p.Train.Epochs {
		return nil, fmt.Errorf("resume: %s already trained %d of %d epochs (raise train.epochs with --set)", run.Dir, done, p.Train.Epochs)
	}
	if err := m.loadTrainingState(run); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	return h, nil
}

// trainSeconds is the training time that run's metrics.json records (0
// when it cannot be read), which a resumed run adds to its own.
func trainSeconds(run *rundir.Run) float64 {
	var m struct {
		TrainSeconds float64 `json:"train_seconds"`
	}
	if b, err := os.ReadFile(filepath.Join(run.Dir, rundir.MetricsFile)); err == nil {
		json.Unmarshal(b, &m)
	}
	return m.TrainSeconds
}
