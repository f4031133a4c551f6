package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
)

// Transforms fitted on the training split (loaders.Fitter: standardize)
// keep their statistics in the plan's steps once the data is loaded, and
// a loader that fits its own (table: means, deviations, vocabularies) in
// the loader. A run stores them as fitted.json, keyed by each step's spec
// path and "data.loader" for the loader, and
// OpenRun puts them back, so that predict, serve, evaluate and export
// apply the numbers the model was trained with. The cache keeps those of
// the steps before the batch steps in its entry's meta.json, since a
// cached dataset is not fitted again; a batch step is fitted on the stored
// data of every run (batch.go).

// loaderPath is the loader's key in fitted.json.
const loaderPath = "data.loader"

// fitters are the plan's fitted loader and the fitted steps among steps
// (the plan's, or those before its batch steps that a cache entry keeps),
// by spec path.
func (p *Plan) fitters(steps []loaders.Step) map[string]loaders.FittedState {
	var out map[string]loaders.FittedState
	add := func(path string, c any) {
		if f, ok := c.(loaders.FittedState); ok {
			if out == nil {
				out = map[string]loaders.FittedState{}
			}
			out[path] = f
		}
	}
	add(loaderPath, p.Loader)
	for _, s := range steps {
		add(s.Path, s.Transform)
	}
	return out
}

// fittedState is the state of the loader and every fitted step among
// steps, by spec path; nil when there are none.
func (p *Plan) fittedState(steps []loaders.Step) map[string]json.RawMessage {
	fs := p.fitters(steps)
	if fs == nil {
		return nil
	}
	out := map[string]json.RawMessage{}
	for path, f := range fs {
		if st := f.Fitted(); st != nil {
			out[path] = st
		}
	}
	return out
}

// setFitted restores every fitted step among steps from state; a step
// missing from it is an error.
func (p *Plan) setFitted(steps []loaders.Step, state map[string]json.RawMessage) error {
	for path, f := range p.fitters(steps) {
		st, ok := state[path]
		if !ok {
			return fmt.Errorf("no fitted statistics for %s", path)
		}
		if err := f.Restore(st); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// loadFitted restores the fitted steps from run's fitted.json.
func (p *Plan) loadFitted(run *rundir.Run) error {
	if p.fitters(p.Steps) == nil {
		return nil
	}
	path := filepath.Join(run.Dir, rundir.FittedFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: the run has no %s, which holds the statistics its transforms fitted on the training split", run.Dir, rundir.FittedFile)
	} else if err != nil {
		return err
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(b, &state); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := p.setFitted(p.Steps, state); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// cacheFitted reads the fitted state of the cache entry in dir.
func cacheFitted(dir string) map[string]json.RawMessage {
	var meta cacheMeta
	if b, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		json.Unmarshal(b, &meta)
	}
	return meta.Fitted
}
