package pipeline

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
	if err == nil {
		err = p.loadFitted(run)
	}
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
	if p.Stream != nil && m != nil { // a streamed test split, a record batch at a time, as the run measured it
		sd, err := p.streamData(opt.DataDir, opt.CacheDir)
		if err != nil {
			return nil, nil, err
		}
		defer sd.Close()
		res, err := m.evaluateOn(sd.test)
		return p, res, err
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

// Stdin is the input name that stands for predict's standard input.
const Stdin = "-"

// maxInput bounds what predict reads of one input: a review, an image or
// one user's ratings is far smaller; a video given by mistake is refused
// rather than read into memory.
const maxInput = 64 << 20

// input is one input to predict: its name (the path, or "stdin"), the
// file's path ("" for stdin) and its content.
type input struct {
	name, path string
	content    []byte
}

// readInputs reads the inputs named by args, Stdin meaning stdin (once).
func readInputs(args []string, stdin io.Reader) ([]input, error) {
	var out []input
	for _, a := range args {
		in := input{name: a, path: a}
		var r io.Reader
		if a == Stdin {
			if slices.ContainsFunc(out, func(i input) bool { return i.path == "" }) {
				return nil, &PredictError{fmt.Errorf("%s (stdin) can be given once", Stdin)}
			}
			in.name, in.path, r = "stdin", "", cmp.Or[io.Reader](stdin, strings.NewReader(""))
		} else {
			f, err := os.Open(a)
			if errors.Is(err, os.ErrNotExist) {
				return nil, &data.DataError{Path: a, Err: errors.New("file not found")}
			} else if err != nil {
				return nil, &data.DataError{Path: a, Err: err}
			}
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
		if f, ok := r.(*os.File); ok && a != Stdin {
			f.Close()
		}
		if err != nil {
			return nil, &data.DataError{Path: in.name, Err: err}
		}
		if len(b) > maxInput {
			return nil, &PredictError{fmt.Errorf("%s: larger than %d MB: not an input predict takes", in.name, maxInput>>20)}
		}
		in.content = b
		out = append(out, in)
	}
	return out, nil
}

// ratingsInput is what a run on rating data takes for a new user.
var ratingsInput = loaders.InputKind{Text: true, What: "one user's ratings, a CSV file of item,rating lines"}

// PredictRun applies a finished run's model to inputs that its loader can
// decode (images for mnist and cifar10, reviews for imdb), after the spec's
// feature transforms; on rating data, to files of one user's ratings each
// (see predictUsers). An input named Stdin is read from stdin. An input
// of the wrong kind (an image for a text model, text or another format for
// an image model) is a PredictError saying what the run takes.
func PredictRun(dir string, args []string, stdin io.Reader, opt Options) (*Plan, []Prediction, error) {
	opt = opt.withDefaults()
	run, p, err := OpenRun(dir)
	if err != nil {
		return nil, nil, err
	}
	var kind loaders.InputKind
	dec, ok := p.Loader.(loaders.InputDecoder)
	switch {
	case p.RatingData():
		kind = ratingsInput
	case ok:
		kind = dec.InputKind()
	default:
		return nil, nil, &PredictError{fmt.Errorf("loader %s cannot read input files for predict", p.LoaderName)}
	}
	inputs, err := readInputs(args, stdin)
	if err != nil {
		return nil, nil, err
	}
	for _, in := range inputs {
		if err := loaders.CheckInput(kind, in.content); err != nil {
			return nil, nil, &PredictError{fmt.Errorf("%s: %w (run %s, loader %s)", in.name, err, run.Dir, p.LoaderName)}
		}
	}
	if p.RatingData() {
		return p.predictUserInputs(run, inputs, opt)
	}
	m, err := p.loadModel(run, opt.Backend)
	if err != nil {
		return nil, nil, err
	}
	transforms := p.inputTransforms()
	var out []Prediction
	for _, in := range inputs {
		x, err := dec.DecodeInput(opt.DataDir, in.name, in.content)
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
		out = append(out, Prediction{Input: in.name, Outputs: o})
	}
	return p, out, nil
}

// predictUserInputs runs predictUsers, which reads files, on inputs:
// stdin's ratings go through a temporary file whose name is then put back
// as "stdin" in the predictions and messages.
func (p *Plan) predictUserInputs(run *rundir.Run, inputs []input, opt Options) (*Plan, []Prediction, error) {
	paths := make([]string, len(inputs))
	tmp := ""
	for i, in := range inputs {
		paths[i] = in.path
		if in.path != "" {
			continue
		}
		f, err := os.CreateTemp("", "pipe-stdin-*.csv")
		if err != nil {
			return nil, nil, err
		}
		tmp = f.Name()
		defer os.Remove(tmp)
		_, err = f.Write(in.content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, nil, err
		}
		paths[i] = tmp
	}
	out, err := p.predictUsers(run, paths, opt)
	if tmp == "" {
		return p, out, err
	}
	if err != nil {
		return nil, nil, renamedError{err, tmp, "stdin"}
	}
	for i := range out {
		if out[i].Input == tmp {
			out[i].Input = "stdin"
		}
	}
	return p, out, nil
}

// renamedError shows err with a temporary file's name replaced by what
// the user gave; errors.As still finds what it wraps (a DataError: exit 4).
type renamedError struct {
	err      error
	from, to string
}

func (e renamedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.from, e.to) }
func (e renamedError) Unwrap() error { return e.err }

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
