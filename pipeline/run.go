package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/spec"
)

// Options are the run-time choices that are not part of the spec.
type Options struct {
	DataDir  string    // data directory; "" for $PIPE_DATA, then the user cache dir
	CacheDir string    // preprocessed-data cache; "" for none
	RunsDir  string    // parent of the run directories; default "runs"
	Backend  string    // overrides the spec's backend when not empty
	Log      io.Writer // one line per epoch; nil for none
	// Context, when canceled (Ctrl-C), ends training after the current
	// step; the run is written with its whole epochs, marked interrupted.
	Context context.Context
	// Resume names an interrupted (or finished) run directory whose
	// checkpoint and history training continues from; Run writes the
	// continued run back into it.
	Resume string
	// checkpoint writes the run so far (Run sets it; train.checkpoint_every
	// says when).
	checkpoint func(interim *Result) error
	// Progress, when not nil, gets a progress bar within each epoch (a
	// terminal: the CLI sets it only when stderr is one).
	Progress io.Writer
}

// withDefaults fills what the caller left out: the data directory is
// $PIPE_DATA, then the user cache dir, as for the command line.
func (o Options) withDefaults() Options {
	o.DataDir = data.UserDir(o.DataDir, "PIPE_DATA", "data")
	return o
}

// Result is what a finished run produced.
type Result struct {
	Dir     string // the run directory; empty when nothing was written
	History *data.History
	Test    map[string]float64 // final metrics on the test split
	Seconds float64            // training time, that of the epochs before a resume included
	// Interrupted runs stopped early (Ctrl-C, or a diverged loss: Stopped
	// says which); Test is empty and the run keeps the last whole epoch.
	Interrupted bool
	Stopped     error
	// Fallbacks counts test predictions of a rating model that used its
	// fallback (a user or item without training ratings).
	Fallbacks int
	model     *Model          // the trained layer stack, saved as the run's checkpoint
	backend   compute.Backend // where model's variables live, until Close
	// fitted is the fitted rating model; its state, when it has one
	// (recsys.StateSaver), is saved as the run's checkpoint.
	fitted recsys.Fitted
	// Predictions are the rows of predictions.arrow (for rating vectors,
	// each example's output vector, without a classification report); nil
	// when the outputs do not fit the labels.
	Predictions  *arrowio.PredictionRows
	TestExamples int
	// augment is augment.png's images; nil without train.augment.
	augment *rundir.ImageGrid
	// Grid is reconstructions.png: test inputs beside their
	// reconstructions, for a model that reconstructs images; else nil.
	Grid *rundir.ImageGrid
}

// Data loads the plan's dataset, preprocessed up to its batch steps (as
// the plan's StoredX and StoredY: batch.go), and keeps the spec's subsets
// (the first examples after the transforms). With a cacheDir it reuses the
// Arrow files of an earlier run with the same loader, params, transforms
// and source files, memory-mapped; close the returned Closer when done
// with the data.
func (p *Plan) Data(dataDir, cacheDir string) (*data.Dataset, io.Closer, error) {
	ds, closer, err := p.preprocessed(dataDir, cacheDir)
	if err != nil {
		return nil, nil, err
	}
	if n := p.TrainLimit; n > 0 && n < ds.Train.Len() {
		ds.Train = ds.Train.Slice(0, n)
	}
	if n := p.TestLimit; n > 0 && n < ds.Test.Len() {
		ds.Test = ds.Test.Slice(0, n)
	}
	if x, _, _ := loaders.Schemas(ds.Train.X.Schema, ds.Train.Y.Schema, p.batchSteps()); p.Input != nil && !slices.Equal(x.Shape, p.Input) {
		closer.Close()
		return nil, nil, spec.ErrorList{p.Errorf("model.input.shape", "the data gives examples of shape %v after the transforms, the model expects %v", x.Shape, p.Input)}
	}
	return ds, closer, nil
}

// preprocessed returns the whole dataset after the transforms before the
// batch steps, from the cache when it holds a valid entry, with the batch
// steps fitted and checked on it. A cache that cannot be written costs
// only time: the run goes on with the data it loaded.
func (p *Plan) preprocessed(dataDir, cacheDir string) (*data.Dataset, io.Closer, error) {
	ds, closer, err := p.stored(dataDir, cacheDir)
	if err != nil {
		return nil, nil, err
	}
	err = p.fitBatchSteps(&ds.Train)
	if err == nil {
		err = p.checkLabels(ds)
	}
	if err != nil {
		closer.Close()
		return nil, nil, &data.DataError{Path: p.SpecFile(), Err: err}
	}
	return ds, closer, nil
}

// stored returns the whole dataset after the transforms before the batch
// steps, from the cache when it holds a valid entry.
func (p *Plan) stored(dataDir, cacheDir string) (*data.Dataset, io.Closer, error) {
	steps := p.Steps[:p.BatchFrom]
	var entry string
	var key cacheKey
	if cacheDir != "" {
		k, id, ok, err := p.key(dataDir, cacheDir)
		if err == nil && ok {
			key, entry = k, filepath.Join(cacheDir, id)
			if ds, closer, err := readCache(entry, key); err == nil {
				// A fitted transform's statistics come with the entry.
				if p.setFitted(steps, cacheFitted(entry)) == nil {
					return ds, closer, nil
				}
				closer.Close()
			}
		}
	}
	ds, err := p.load(dataDir)
	if err != nil {
		return nil, nil, err
	}
	if entry != "" {
		writeCache(entry, key, ds, p.fittedState(steps))
	}
	return ds, closeAll(nil), nil
}

// load runs the loader and the transforms before the batch steps, in
// memory.
func (p *Plan) load(dataDir string) (*data.Dataset, error) {
	ds, err := p.Loader.Load(dataDir)
	if err != nil {
		return nil, err
	}
	wantX, wantY := p.Loader.Schemas()
	for _, split := range []*data.Split{&ds.Train, &ds.Test} {
		if !slices.Equal(split.X.Shape, wantX.Shape) || !slices.Equal(split.Y.Shape, wantY.Shape) || split.X.DType != wantX.DType || split.Y.DType != wantY.DType {
			return nil, fmt.Errorf("loader %s declared examples %s -> %s but produced %s -> %s", p.LoaderName, wantX, wantY, split.X.Schema, split.Y.Schema)
		}
	}
	if err := loaders.Apply(p.Steps[:p.BatchFrom], ds); err != nil {
		return nil, &data.DataError{Path: p.SpecFile(), Err: err}
	}
	return ds, nil
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
	// Where the checkpoints of train.checkpoint_every went: a resumed run
	// goes on in its own directory, replaced as it grows, so that one run
	// leaves one directory whose history is whole.
	dir := opt.Resume
	opt.checkpoint = func(interim *Result) error {
		var err error
		dir, err = p.writeRun(opt, interim, dir)
		return err
	}
	res, err := Train(p, opt)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	if res.Dir, err = p.writeRun(opt, res, dir); err != nil {
		return nil, err
	}
	return res, nil
}

// Train trains and evaluates the plan and writes nothing. Close the
// result when done with it.
func Train(p *Plan, opt Options) (*Result, error) {
	opt = opt.withDefaults()
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format, args...)
		}
	}
	backendName := cmp.Or(opt.Backend, p.Backend)
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

	var train, val, test examples
	var classes []string
	heldOut := ""
	if p.Stream != nil {
		sd, err := p.streamData(opt.DataDir, opt.CacheDir)
		if err != nil {
			return nil, err
		}
		defer sd.Close()
		train, test, classes = sd.train, sd.test, sd.classes
		if p.Train.Validation.Split == "test" {
			val = test
		}
	} else {
		ds, closer, err := p.Data(opt.DataDir, opt.CacheDir)
		if err != nil {
			return nil, err
		}
		defer closer.Close()
		tr, v := p.fitSplits(ds)
		// Examples held out of the training data for validation are said, so
		// the counts add up to what the data gave.
		heldOut = p.heldOutNote(v)
		if p.Recommender != nil {
			logf("%s: %d training%s and %d test ratings, model %s, backend %s\n", p.Name, tr.Len(), heldOut, ds.Test.Len(), p.ModelName, backendName)
			return p.fitRecommender(backend, ds, &tr, v, logf)
		}
		train, test, classes = memExamples{&tr}, memExamples{&ds.Test}, ds.Classes
		if v != nil {
			val = memExamples{v}
		}
	}
	logf("%s: %d training%s and %d test examples, %s parameters, backend %s\n", p.Name, train.Len(), heldOut, test.Len(), Thousands(p.Params()), backendName)

	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	first, err := train.head()
	if err != nil {
		return nil, err
	}
	samples, err := p.augmentSamples(first)
	if err != nil {
		return nil, err
	}
	fo := FitOptions{Context: opt.Context, Log: logf}
	var before float64 // training seconds of the epochs before a resume
	if opt.Resume != "" {
		run, err := rundir.Open(opt.Resume)
		if err != nil {
			return nil, err
		}
		if fo.Resume, err = resume(p, m, run); err != nil {
			return nil, err
		}
		before = trainSeconds(run)
		logf("resuming %s after epoch %d\n", opt.Resume, len(fo.Resume.Values[0]))
	}
	start := time.Now()
	seconds := func() float64 { return before + time.Since(start).Seconds() }
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
		if every := p.Train.CheckpointEvery; every > 0 && r.Epoch%every == 0 && r.Epoch < r.Epochs && opt.checkpoint != nil && checkpointErr == nil {
			checkpointErr = opt.checkpoint(&Result{History: r.History.Clone(), Seconds: seconds(), model: m, Interrupted: true, augment: samples,
				Stopped: fmt.Errorf("checkpoint after epoch %d", r.Epoch)})
		}
	}
	hist, err := m.fit(train, val, p.Train.Epochs, fo)
	withSamples := func(r *Result) *Result { r.augment = samples; return r }
	if checkpointErr != nil {
		return nil, fmt.Errorf("checkpoint: %w", checkpointErr)
	}
	if (errors.Is(err, ErrInterrupted) || errors.Is(err, ErrDiverged)) && hist != nil {
		// Keep what the whole epochs learned: the run directory is written,
		// marked interrupted, and `pipe run --resume` continues it.
		keep = true
		return withSamples(&Result{History: hist, Seconds: seconds(), model: m, backend: backend, Interrupted: true, Stopped: err}), nil
	}
	if err != nil {
		return nil, err
	}
	res := withSamples(&Result{History: hist, Seconds: seconds(), model: m, backend: backend})
	if res.Test, err = m.evaluateOn(test); err != nil {
		return nil, fmt.Errorf("test evaluation: %w", err)
	}
	res.TestExamples = test.Len()
	outputs, err := m.outputsOf(test)
	if err != nil {
		return nil, fmt.Errorf("test predictions: %w", err)
	}
	if p.reconstructs() {
		// An autoencoder's outputs are no class or value per example:
		// drawn beside its inputs rather than put in predictions.arrow.
		head, err := test.head()
		if err != nil {
			return nil, err
		}
		res.Grid = p.reconstructionGrid(head, outputs)
	} else {
		labels, err := test.labels()
		if err != nil {
			return nil, err
		}
		if rows, ok := predictionRows(outputs, &labels, classes); ok {
			res.Predictions = &rows
		}
	}
	keep = true
	return res, nil
}

// fitSplits are the data the model is fitted on and the validation data
// (nil for none), as train.validation says.
func (p *Plan) fitSplits(ds *data.Dataset) (train data.Split, val *data.Split) {
	train, val = ds.Train, &ds.Test
	switch v := p.Train.Validation; v.Split {
	case "none":
		val = nil
	case "fraction":
		if h := p.ratingHoldOut(); h != nil {
			// Rating vectors: a fraction of the ratings, not of the vectors.
			rest, drawn := h.HoldOut(ds.Train, v.Fraction, uint64(p.Seed))
			return rest, &drawn
		}
		held := int(float64(train.Len()) * v.Fraction)
		if ds.Ratings != nil && !ds.Train.X.Ragged() && !ds.Train.Y.Ragged() {
			// Rating files are often sorted by user (MovieLense, Jester):
			// their last fraction would be whole users that training
			// never sees. A seeded sample of the ratings is held out.
			rest, drawn := sampleOut(ds.Train, held, uint64(p.Seed))
			return rest, &drawn
		}
		// Keras' validation_split: the last fraction of the training data, before shuffling.
		cut := train.Len() - held
		train, val = ds.Train.Slice(0, cut), new(ds.Train.Slice(cut, ds.Train.Len()))
	}
	return train, val
}

// ratingHoldOut is the last transform that holds out ratings rather than
// examples for validation (rating_matrix), nil for none.
func (p *Plan) ratingHoldOut() loaders.RatingHoldOut {
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if h, ok := p.Steps[i].Transform.(loaders.RatingHoldOut); ok {
			return h
		}
	}
	return nil
}

// heldOutNote says how much of the training data fitSplits held out for
// validation, "" when none: examples, or ratings for rating vectors.
func (p *Plan) heldOutNote(val *data.Split) string {
	switch {
	case p.Train.Validation.Split != "fraction" || val == nil:
		return ""
	case p.ratingHoldOut() != nil:
		n := 0
		for _, v := range val.Y.Float {
			if !math.IsNaN(float64(v)) {
				n++
			}
		}
		return fmt.Sprintf(" (%d of their ratings held out for validation)", n)
	}
	return fmt.Sprintf(" (%d held out for validation)", val.Len())
}

// sampleOut splits s into the examples not drawn and n examples drawn
// at random with seed, each part in s's order.
func sampleOut(s data.Split, n int, seed uint64) (rest, drawn data.Split) {
	out := make([]bool, s.Len())
	for _, i := range rand.New(rand.NewPCG(seed, 0x7a1)).Perm(s.Len())[:n] {
		out[i] = true
	}
	pick := func(a data.Array, want bool) data.Array {
		var idx []int
		for i, o := range out {
			if o == want {
				idx = append(idx, i)
			}
		}
		return a.Take(idx)
	}
	return data.Split{X: pick(s.X, false), Y: pick(s.Y, false)}, data.Split{X: pick(s.X, true), Y: pick(s.Y, true)}
}

// writeRun writes the run directory under opt.RunsDir (or replaces
// replace, the same run's earlier directory) through rundir, with the
// run's key (run.json) computed from opt's data.
func (p *Plan) writeRun(opt Options, res *Result, replace string) (string, error) {
	resolved, err := p.ResolvedSpec()
	if err != nil {
		return "", err
	}
	source, err := p.source(opt)
	if err != nil {
		return "", err
	}
	var summary bytes.Buffer
	p.WriteTrainedSummary(&summary, res)
	metrics := map[string]any{
		"spec": p.Name, "params": p.TrainedParams(res), "epochs": p.Train.Epochs,
		"train_seconds": res.Seconds, "test": res.Test, "final_epoch": res.History.Last(),
		"test_examples": res.TestExamples,
	}
	if res.Interrupted {
		metrics["interrupted"] = res.Stopped.Error()
		metrics["epochs_done"] = len(res.History.Values[0])
	}
	if rows := res.Predictions; rows != nil && rows.ClassNames != nil {
		// For predict, which names classes without loading the dataset.
		metrics["classes"] = rows.ClassNames
	}
	c := rundir.Contents{Spec: resolved, Source: source, Summary: summary.Bytes(), Metrics: metrics, History: res.History, Predictions: res.Predictions,
		Fitted: p.fittedState(p.Steps), Augment: res.augment, Grid: res.Grid}
	// Rating vectors (rating_matrix) are rows of outputs, no class per
	// example: taken for one-hot labels, a whole rating matrix (1682 x 943
	// for GLocal-K) would make a confusion matrix of that many classes.
	if !p.RatingData() {
		if c.Report, err = classificationReport(res.Predictions); err != nil {
			// The trained model is worth more than its report: the run
			// is written without one, and metrics.json says why.
			metrics["report_error"] = err.Error()
		}
	}
	// A run whose key cannot be computed (its data folder went away while
	// it trained) is still written, without run.json: pipe compare then
	// never reuses it, which is the safe side.
	if key, err := p.RunKey(opt); err == nil {
		c.Key = &key
	}
	if p.Recommender != nil {
		metrics["model"] = p.ModelName
		metrics["fallback_predictions"] = res.Fallbacks
		if s, ok := res.fitted.(recsys.StateSaver); ok {
			if c.Checkpoint, err = stateStore(s); err != nil {
				return "", fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	if res.model != nil {
		c.Checkpoint = res.model.store
	}
	return rundir.Write(opt.RunsDir, p.Name, c, replace)
}

// source is the spec as given, for the run directory: the plan's, or for
// a resumed run (whose plan was loaded from the resolved spec.yaml) its
// directory's with this resume's --set values applied again; nil for a
// run resumed from before runs kept one.
func (p *Plan) source(opt Options) ([]byte, error) {
	if opt.Resume == "" {
		return p.spec.Source, nil
	}
	old, err := os.ReadFile(filepath.Join(opt.Resume, rundir.SourceFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return spec.Reapply(old, p.spec.Overrides...)
}
