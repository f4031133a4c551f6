package pipeline

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
)

// checkpointDir is where a run directory keeps the trained model: GoMLX's
// checkpoint format (JSON index and binary values) of every variable,
// optimizer state included; the resolved spec sits beside it in spec.yaml.
const checkpointDir = "checkpoint"

// saveCheckpoint writes m's variables under dir/checkpoint.
func (m *Model) saveCheckpoint(dir string) error {
	h, err := checkpoint.Build(m.store).Dir(filepath.Join(dir, checkpointDir)).Done()
	if err != nil {
		return err
	}
	return h.Save()
}

// LoadRun rebuilds the plan and model of a finished run directory: its
// resolved spec and its checkpoint, on backend config (the spec's when "").
func LoadRun(runDir, backendConfig string) (*Plan, *Model, error) {
	p, err := Load(filepath.Join(runDir, "spec.yaml"))
	if err != nil {
		return nil, nil, err
	}
	if p.Recommender != nil {
		return nil, nil, fmt.Errorf("%s: %s is a rating model, measured on its test ratings when it ran (see its metrics.json); evaluate takes a layer stack's run", runDir, p.Spec.Model.Name.Kind)
	}
	m, err := p.loadModel(runDir, backendConfig)
	return p, m, err
}

// loadModel builds the plan's layer stack with the variables of runDir's
// checkpoint.
func (p *Plan) loadModel(runDir, backendConfig string) (*Model, error) {
	if _, err := os.Stat(filepath.Join(runDir, checkpointDir)); err != nil {
		return nil, fmt.Errorf("%s has no checkpoint: %w", runDir, err)
	}
	if backendConfig == "" {
		backendConfig = p.Spec.Backend
	}
	backend, err := NewBackend(backendConfig)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	// Attached before any graph is built, the checkpoint gives the
	// variables their saved values when the graphs create them.
	if _, err := checkpoint.Build(m.store).Dir(filepath.Join(runDir, checkpointDir)).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("%s: %w", runDir, err)
	}
	return m, nil
}

// EvaluateRun measures a finished run's model on its spec's test split:
// a layer stack from its checkpoint, a rating model from its saved state
// (or, memory-based, fitted again on the same training ratings).
func EvaluateRun(runDir string, opt Options) (*Plan, map[string]float64, error) {
	p, err := Load(filepath.Join(runDir, "spec.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var m *Model
	if p.Recommender == nil {
		if m, err = p.loadModel(runDir, opt.Backend); err != nil {
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
	if err := p.restoreFitted(runDir, ds); err != nil {
		return nil, nil, err
	}
	pred, _, err := p.Recommender.Predict(&ds.Test.X)
	if err != nil {
		return nil, nil, err
	}
	backend, err := NewBackend(cmp.Or(opt.Backend, p.Spec.Backend))
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
func PredictRun(runDir string, inputs []string, opt Options) (*Plan, []Prediction, error) {
	p, err := Load(filepath.Join(runDir, "spec.yaml"))
	if err != nil {
		return nil, nil, err
	}
	if p.ratingData() {
		out, err := p.predictUsers(runDir, inputs, opt)
		return p, out, err
	}
	m, err := p.loadModel(runDir, opt.Backend)
	if err != nil {
		return nil, nil, err
	}
	dec, ok := p.Spec.Data.Loader.Config.(loaders.InputDecoder)
	if !ok {
		return nil, nil, &PredictError{fmt.Errorf("loader %s cannot read input files for predict", p.Spec.Data.Loader.Kind)}
	}
	var transforms []loaders.Transform
	for _, c := range p.Spec.Data.Transforms {
		if t, ok := c.Config.(loaders.Transform); ok {
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
		split := loaders.Split{X: x, Y: loaders.Array{Schema: p.Y, Int: []int32{0}, Float: []float32{0}}}
		o, err := m.Outputs(&split)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Prediction{Input: path, Outputs: o})
	}
	return p, out, nil
}

// resume loads the checkpoint of runDir into m and returns its history,
// the epochs already trained, in the order Fit writes the series.
func resume(p *Plan, m *Model, runDir string) (*evaluators.History, error) {
	b, err := os.ReadFile(filepath.Join(runDir, "history.json"))
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	var series map[string][]float64
	if err := json.Unmarshal(b, &series); err != nil {
		return nil, fmt.Errorf("resume: %s: %w", filepath.Join(runDir, "history.json"), err)
	}
	h := &evaluators.History{}
	names := metricNames(p.Metrics)
	if p.Spec.Train.Validation.Split != "none" {
		for _, n := range metricNames(p.Metrics) {
			names = append(names, "val_"+n)
		}
	}
	for _, n := range names {
		v, ok := series[n]
		if !ok || len(v) != len(series[names[0]]) || len(v) == 0 {
			return nil, fmt.Errorf("resume: %s/history.json lacks a whole %s series", runDir, n)
		}
		h.Names, h.Values = append(h.Names, n), append(h.Values, v)
	}
	if done := len(h.Values[0]); done >= p.Spec.Train.Epochs {
		return nil, fmt.Errorf("resume: %s already trained %d of %d epochs (raise train.epochs with --set)", runDir, done, p.Spec.Train.Epochs)
	}
	if _, err := checkpoint.Build(m.store).Dir(filepath.Join(runDir, checkpointDir)).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	return h, nil
}
