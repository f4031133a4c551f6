package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/spec"
)

// Options are the run-time choices that are not part of the spec.
type Options struct {
	DataDir  string    // resolved data directory
	CacheDir string    // preprocessed-data cache; "" for none
	RunsDir  string    // parent of the run directories; default "runs"
	Backend  string    // overrides the spec's backend when not empty
	Log      io.Writer // one line per epoch; nil for none
	// Context, when canceled (Ctrl-C), ends training after the current
	// step; the run is written with its whole epochs, marked interrupted.
	Context context.Context
	// Resume names an interrupted (or finished) run directory whose
	// checkpoint and history training continues from.
	Resume string
	// checkpoint writes the run so far (Run sets it; train.checkpoint_every
	// says when).
	checkpoint func(interim *Result) error
	// Progress, when not nil, gets a progress bar within each epoch (a
	// terminal: the CLI sets it only when stderr is one).
	Progress io.Writer
}

// Result is what a finished run produced.
type Result struct {
	Dir     string // the run directory; empty when nothing was written
	History *evaluators.History
	Test    map[string]float64 // final metrics on the test split
	Seconds float64            // training time
	// Interrupted runs stopped early (Ctrl-C, or a diverged loss: Stopped
	// says which); Test is empty and the run keeps the last whole epoch.
	Interrupted bool
	Stopped     error
	// Fallbacks counts test predictions of a rating model that used its
	// fallback (a user or item without training ratings).
	Fallbacks int
	model     *Model          // the trained layer stack, saved as the run's checkpoint
	backend   compute.Backend // where model's variables live, until Close
	// recommender is the fitted rating model; its state, when it has one
	// (ops.StateSaver), is saved as the run's checkpoint.
	recommender ops.Recommender
	// Predictions are the rows of predictions.arrow; nil when the model's
	// outputs have no per-example prediction (whole rating vectors).
	Predictions  *PredictionRows
	TestExamples int
}

// Data loads the plan's dataset, preprocessed, and keeps the spec's
// subsets (the first examples after the transforms). With a cacheDir it
// reuses the Arrow files of an earlier run with the same loader, params,
// transforms and source files, memory-mapped; close the returned Closer
// when done with the data.
func (p *Plan) Data(dataDir, cacheDir string) (*loaders.Dataset, io.Closer, error) {
	ds, closer, err := p.preprocessed(dataDir, cacheDir)
	if err != nil {
		return nil, nil, err
	}
	if n := p.Spec.Data.TrainLimit; n > 0 && n < ds.Train.Len() {
		ds.Train = ds.Train.Slice(0, n)
	}
	if n := p.Spec.Data.TestLimit; n > 0 && n < ds.Test.Len() {
		ds.Test = ds.Test.Slice(0, n)
	}
	if in := p.Spec.Model.Input; in != nil && !slices.Equal(ds.Train.X.Shape, in.Shape) {
		closer.Close()
		return nil, nil, spec.ErrorList{p.Spec.Errorf("model.input.shape", "the data gives examples of shape %v after the transforms, the model expects %v", ds.Train.X.Shape, in.Shape)}
	}
	return ds, closer, nil
}

// preprocessed returns the whole dataset after the transforms, from the
// cache when it holds a valid entry. A cache that cannot be written costs
// only time: the run goes on with the data it loaded.
func (p *Plan) preprocessed(dataDir, cacheDir string) (*loaders.Dataset, io.Closer, error) {
	var entry string
	var key cacheKey
	if cacheDir != "" {
		k, id, ok, err := p.key(dataDir, cacheDir)
		if err == nil && ok {
			key, entry = k, filepath.Join(cacheDir, id)
			if ds, closer, err := readCache(entry, key); err == nil {
				return ds, closer, nil
			}
		}
	}
	loader := p.Spec.Data.Loader.Config.(loaders.Loader)
	ds, err := loader.Load(dataDir)
	if err != nil {
		return nil, nil, err
	}
	wantX, wantY := loader.Schemas()
	for _, split := range []*loaders.Split{&ds.Train, &ds.Test} {
		if !slices.Equal(split.X.Shape, wantX.Shape) || !slices.Equal(split.Y.Shape, wantY.Shape) || split.X.DType != wantX.DType || split.Y.DType != wantY.DType {
			return nil, nil, fmt.Errorf("loader %s declared examples %s -> %s but produced %s -> %s", p.Spec.Data.Loader.Kind, wantX, wantY, split.X.Schema, split.Y.Schema)
		}
	}
	if err := loaders.Apply(p.Spec, ds); err != nil {
		return nil, nil, &loaders.DataError{Path: p.Spec.File, Err: err}
	}
	if entry != "" {
		writeCache(entry, key, ds)
	}
	return ds, closeAll(nil), nil
}

// Close releases the backend that holds the trained model.
func (r *Result) Close() {
	if r.backend != nil {
		r.backend.Finalize()
		r.backend, r.model = nil, nil
	}
}

// Run trains and evaluates the plan and writes its run directory.
func Run(p *Plan, opt Options) (*Result, error) {
	var dir string // where the checkpoints of train.checkpoint_every went
	opt.checkpoint = func(interim *Result) error {
		var err error
		dir, err = p.writeRun(opt.RunsDir, interim, dir)
		return err
	}
	res, err := Train(p, opt)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	if res.Dir, err = p.writeRun(opt.RunsDir, res, dir); err != nil {
		return nil, err
	}
	return res, nil
}

// Train trains and evaluates the plan and writes nothing. Close the
// result when done with it.
func Train(p *Plan, opt Options) (*Result, error) {
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format, args...)
		}
	}
	backendName := p.Spec.Backend
	if opt.Backend != "" {
		backendName = opt.Backend
	}
	if backendName == "" {
		backendName = "go"
	}
	backend, err := NewBackend(backendName)
	if err != nil {
		return nil, err
	}
	// The trained variables live on the backend: it stays up until the
	// result is closed, after its checkpoint is written.
	keep := false
	defer func() {
		if !keep {
			backend.Finalize()
		}
	}()

	ds, closer, err := p.Data(opt.DataDir, opt.CacheDir)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	train, val := p.fitSplits(ds)
	if p.Recommender != nil {
		logf("%s: %d training and %d test ratings, model %s, backend %s\n", p.Spec.Name, train.Len(), ds.Test.Len(), p.Spec.Model.Name.Kind, backendName)
		return p.fitRecommender(backend, ds, &train, val, logf)
	}
	logf("%s: %d training and %d test examples, %s parameters, backend %s\n", p.Spec.Name, train.Len(), ds.Test.Len(), Thousands(p.Params()), backendName)

	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	fo := FitOptions{Context: opt.Context, Log: logf}
	if opt.Resume != "" {
		if fo.Resume, err = resume(p, m, opt.Resume); err != nil {
			return nil, err
		}
		logf("resuming %s after epoch %d\n", opt.Resume, len(fo.Resume.Values[0]))
	}
	start := time.Now()
	bar := newProgress(opt.Progress)
	fo.Step = bar.step
	var checkpointErr error
	fo.Report = func(r EpochReport) {
		bar.done()
		logf("epoch %d/%d - %.1fs - %.0f samples/s", r.Epoch, r.Epochs, r.Duration.Seconds(), float64(r.Samples)/r.Duration.Seconds())
		for _, n := range r.Names {
			logf(" - %s: %.4f", n, r.Metrics[n])
		}
		logf("\n")
		if every := p.Spec.Train.CheckpointEvery; every > 0 && r.Epoch%every == 0 && r.Epoch < r.Epochs && opt.checkpoint != nil && checkpointErr == nil {
			checkpointErr = opt.checkpoint(&Result{History: r.History.Clone(), model: m, Interrupted: true,
				Stopped: fmt.Errorf("checkpoint after epoch %d", r.Epoch)})
		}
	}
	hist, err := m.Fit(&train, val, p.Spec.Train.Epochs, fo)
	if checkpointErr != nil {
		return nil, fmt.Errorf("checkpoint: %w", checkpointErr)
	}
	if (errors.Is(err, ErrInterrupted) || errors.Is(err, ErrDiverged)) && hist != nil {
		// Keep what the whole epochs learned: the run directory is written,
		// marked interrupted, and `pipe run --resume` continues it.
		keep = true
		return &Result{History: hist, Seconds: time.Since(start).Seconds(), model: m, backend: backend, Interrupted: true, Stopped: err}, nil
	}
	if err != nil {
		return nil, err
	}
	res := &Result{History: hist, Seconds: time.Since(start).Seconds(), model: m, backend: backend}
	if res.Test, err = m.Evaluate(&ds.Test); err != nil {
		return nil, fmt.Errorf("test evaluation: %w", err)
	}
	res.TestExamples = ds.Test.Len()
	outputs, err := m.Outputs(&ds.Test)
	if err != nil {
		return nil, fmt.Errorf("test predictions: %w", err)
	}
	if rows, ok := predictionRows(outputs, &ds.Test.Y, ds.Classes); ok {
		res.Predictions = &rows
	}
	keep = true
	return res, nil
}

// fitSplits are the data the model is fitted on and the validation data
// (nil for none), as train.validation says.
func (p *Plan) fitSplits(ds *loaders.Dataset) (train loaders.Split, val *loaders.Split) {
	train, val = ds.Train, &ds.Test
	switch v := p.Spec.Train.Validation; v.Split {
	case "none":
		val = nil
	case "fraction":
		// Keras' validation_split: the last fraction of the training data, before shuffling.
		cut := train.Len() - int(float64(train.Len())*v.Fraction)
		train, val = ds.Train.Slice(0, cut), new(ds.Train.Slice(cut, ds.Train.Len()))
	}
	return train, val
}

// GoldenRun returns the plan of the spec's golden run: its subsets and
// epochs, everything else unchanged.
func (p *Plan) GoldenRun() *Plan {
	g := *p.Spec.Golden
	s := *p.Spec
	s.Data.TrainLimit, s.Data.TestLimit, s.Train.Epochs = g.Train, g.Test, g.Epochs
	q := *p
	q.Spec = &s
	return &q
}

// writeRun writes the run directory (or replaces replace, the same run's
// earlier checkpoint). Files go to a hidden temporary
// directory first, renamed into place only when complete, so an
// interrupted run leaves no half-written directory that looks finished,
// and an earlier run's directory is never reused.
func (p *Plan) writeRun(runsDir string, res *Result, replace string) (string, error) {
	if runsDir == "" {
		runsDir = "runs"
	}
	parent := filepath.Join(runsDir, p.Spec.Name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	removeStalePartials(parent)
	tmp, err := os.MkdirTemp(parent, ".partial-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed

	resolved, err := spec.Encode(p.Spec)
	if err != nil {
		return "", err
	}
	var summary bytes.Buffer
	p.WriteSummary(&summary)
	metrics := map[string]any{
		"spec": p.Spec.Name, "params": p.Params(), "epochs": p.Spec.Train.Epochs,
		"train_seconds": res.Seconds, "test": res.Test, "final_epoch": res.History.Last(),
		"test_examples": res.TestExamples,
	}
	if res.Interrupted {
		metrics["interrupted"] = res.Stopped.Error()
		metrics["epochs_done"] = len(res.History.Values[0])
	}
	if p.Recommender != nil {
		metrics["model"] = p.Spec.Model.Name.Kind
		metrics["fallback_predictions"] = res.Fallbacks
	}
	for name, v := range map[string]any{"history.json": res.History, "metrics.json": metrics} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), append(b, '\n'), 0o644); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "spec.yaml"), resolved, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "summary.txt"), summary.Bytes(), 0o644); err != nil {
		return "", err
	}
	if err := writeHistoryArrow(filepath.Join(tmp, "history.arrow"), res.History); err != nil {
		return "", err
	}
	if err := writeHistoryPlot(filepath.Join(tmp, "history.png"), p.Spec.Name, res.History); err != nil {
		return "", fmt.Errorf("history.png: %w", err)
	}
	if res.model != nil {
		if err := res.model.saveCheckpoint(tmp); err != nil {
			return "", fmt.Errorf("checkpoint: %w", err)
		}
	}
	if s, ok := res.recommender.(ops.StateSaver); ok {
		if err := saveState(tmp, s); err != nil {
			return "", fmt.Errorf("checkpoint: %w", err)
		}
	}
	if res.Predictions != nil {
		if err := writePredictionsArrow(filepath.Join(tmp, "predictions.arrow"), *res.Predictions); err != nil {
			return "", err
		}
	}
	if replace != "" {
		// This run's own earlier checkpoint directory: moved aside, then
		// replaced, then removed, so a crash leaves one of the two whole.
		old := filepath.Join(parent, ".replaced-"+filepath.Base(tmp))
		if err := os.Rename(replace, old); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, replace); err != nil {
			os.Rename(old, replace)
			return "", err
		}
		return replace, os.RemoveAll(old)
	}
	stamp := time.Now().Format("20060102-150405")
	for i := 1; ; i++ {
		dir := filepath.Join(parent, stamp)
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		// os.Rename onto an existing non-empty directory fails, so a
		// finished run is never replaced; try the next name instead.
		err := os.Rename(tmp, dir)
		if err == nil {
			return dir, nil
		}
		if _, statErr := os.Stat(dir); statErr != nil || i > 100 {
			return "", errors.Join(fmt.Errorf("writing run directory %s", dir), err)
		}
	}
}
