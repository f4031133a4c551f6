// Package bench is pipe's benchmark harness: it measures training,
// evaluation and prediction throughput, the first step and peak RSS of
// models given as specs, each in a process of its own so that its peak RSS
// is its own; runs the PyTorch reference (torch/reference.py) on the models
// it has an entry for, in processes of their own, alternating with pipe's
// trials; and prints one table of medians with their spread. `pipe bench`
// is its command line.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/pipe-ml/pipe/optim"
	"github.com/pipe-ml/pipe/pipeline"
)

// Models are the specs `pipe bench` measures when given none: the course
// models and the Keras example CNN.
var Models = []string{
	"specs/mnist_cnn.yaml",
	"specs/cifar10_cnn.yaml",
	"specs/cifar10_convnet.yaml",
	"specs/imdb_lstm.yaml",
	"specs/cf/movielense_i_autorec.yaml",
}

// Target is a spec to measure, with what the reference needs to build the
// same model: the spec's name (its entry in the reference), batch size and
// optimizer.
type Target struct {
	Spec, Name string
	Batch      int
	Optimizer  string
	LR         float64
	MACs       int64    // forward multiply-adds per example (pipe's count)
	Uncounted  []string // layer kinds counted as 0
}

// TargetOf is the target of plan, read from path.
func TargetOf(path string, plan *pipeline.Plan) Target {
	t := Target{Spec: path, Name: plan.Name, Batch: plan.Train.BatchSize}
	t.Optimizer, t.LR = optimizer(plan.Optimizer)
	t.MACs, t.Uncounted = plan.MultiplyAdds()
	return t
}

// optimizer is o's registry name and learning rate, for the reference.
func optimizer(o optim.Optimizer) (string, float64) {
	switch o := o.(type) {
	case *optim.Adam:
		return "adam", o.LearningRate
	case *optim.Adadelta:
		return "adadelta", o.LearningRate
	case *optim.RMSprop:
		return "rmsprop", o.LearningRate
	case *optim.SGD:
		return "sgd", o.LearningRate
	}
	return "adam", 0
}

// Line is what one measurement of pipe (a child process) prints, as JSON.
type Line struct {
	Spec        string  `json:"spec"`
	Batch       int     `json:"batch"`
	Steps       int     `json:"steps"`
	FirstStepS  float64 `json:"first_step_s"`
	SamplesPerS float64 `json:"samples_per_s"`
	EvalPerS    float64 `json:"eval_samples_per_s"`
	PredictPerS float64 `json:"predict_samples_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	BaseRSSMB   float64 `json:"base_rss_mb"` // the peak RSS before the model and its data
}

// StartLine is what a start-up measurement prints: the seconds from the
// spec to the end of the first training step on the real data.
type StartLine struct {
	StartS float64 `json:"start_s"`
}

// One measures a plan in this process and returns its line.
func One(plan *pipeline.Plan, backend compute.Backend, o pipeline.BenchOptions) (Line, error) {
	base := PeakRSSMB()
	res, err := pipeline.Bench(plan, backend, o)
	if err != nil {
		return Line{}, err
	}
	return Line{Spec: plan.Name, Batch: res.Batch, Steps: res.Steps, FirstStepS: res.FirstStep.Seconds(),
		SamplesPerS: res.SamplesPerS, EvalPerS: res.EvalPerS, PredictPerS: res.PredictPerS, PeakRSSMB: PeakRSSMB(), BaseRSSMB: base}, nil
}

// PeakRSSMB is this process's peak resident set size in MB.
func PeakRSSMB() float64 { return float64(pipeline.PeakRSS()) / (1 << 20) }

// Options say how to run the whole table.
type Options struct {
	Self     []string      // the command that measures one model: Self + [--one SPEC ...]
	Backend  string        // passed to each measurement; "" for the default
	Threads  int           // pipe's GOMAXPROCS, and the reference's threads
	Trials   int           // trials of each side, alternating
	MinTime  time.Duration // each phase of a measurement runs at least this long
	Steps    int           // > 0: timed steps of each phase instead of MinTime
	MinSteps int           // and at least this many
	Start    bool          // measure the start-up from the data, cold and from the cache
	Ref      Reference
	Log      io.Writer // progress, one line per measurement; nil for none
}

// Result is one target's trials on both sides.
type Result struct {
	Target
	Pipe       []Line
	PipeErr    error
	Cold, Warm []float64 // start-up seconds, without and with the Arrow cache
	StartErr   error
	HasRef     bool // the reference has a model of this name
	Torch      []TorchLine
	TorchErr   error
}

// Run measures every target Trials times, alternating pipe's and the
// reference's processes. info is the reference's, nil when it is missing
// (then every result says why); each trial after the first measures its
// ceiling again, into info.Ceilings.
func Run(o Options, targets []Target, info *Info) []*Result {
	results := make([]*Result, len(targets))
	for i, t := range targets {
		results[i] = &Result{Target: t, HasRef: info != nil && slices.Contains(info.Models, t.Name)}
	}
	for trial := 1; trial <= max(o.Trials, 1); trial++ {
		if trial > 1 && info != nil {
			if again, err := o.Ref.Probe(o.Threads); err == nil {
				info.Ceilings = append(info.Ceilings, again.CeilingGFLOPS)
			}
		}
		for _, r := range results {
			if r.PipeErr == nil {
				line, err := o.pipe(r.Target)
				o.logf("trial %d/%d %s pipe: %s", trial, o.Trials, r.Name, logged(line.SamplesPerS, err))
				if err != nil {
					r.PipeErr = err
				} else {
					r.Pipe = append(r.Pipe, line)
				}
			}
			if o.Start && r.StartErr == nil {
				cold, warm, err := o.start(r.Target)
				o.logf("trial %d/%d %s start: cold %.2f s, warm %.2f s %v", trial, o.Trials, r.Name, cold, warm, errOrEmpty(err))
				if err != nil {
					r.StartErr = err
				} else {
					r.Cold, r.Warm = append(r.Cold, cold), append(r.Warm, warm)
				}
			}
			if r.HasRef && r.TorchErr == nil {
				line, err := o.Ref.Measure(r.Target, o)
				o.logf("trial %d/%d %s torch: %s", trial, o.Trials, r.Name, logged(line.TrainPerS, err))
				if err != nil {
					r.TorchErr = err
				} else {
					r.Torch = append(r.Torch, line)
				}
			}
		}
	}
	return results
}

func logged(samples float64, err error) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return fmt.Sprintf("%.1f samples/s", samples)
}

func errOrEmpty(err error) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return ""
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// child runs Self with args and decodes its JSON line into v.
func (o Options) child(v any, args ...string) error {
	args = append(slices.Clone(o.Self[1:]), args...)
	if o.Backend != "" {
		args = append(args, "--backend", o.Backend)
	}
	out, err := exec.Command(o.Self[0], args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return fmt.Errorf("%s", strings.TrimSpace(string(ee.Stderr)))
	} else if err != nil {
		return err
	}
	return json.Unmarshal(out, v)
}

// pipe measures t in a child process, with extra arguments (--set).
func (o Options) pipe(t Target, extra ...string) (Line, error) {
	var line Line
	err := o.child(&line, append([]string{"--one", t.Spec, "--batch", strconv.Itoa(t.Batch),
		"--steps", strconv.Itoa(o.Steps), "--min-steps", strconv.Itoa(o.MinSteps), "--min-time", o.MinTime.String()}, extra...)...)
	if err == nil && line.Batch == 0 {
		err = fmt.Errorf("%s bench --one %s printed no measurement", o.Self[0], t.Spec)
	}
	return line, err
}

// start measures t's start-up twice, each in a child process: with an
// empty cache, so the data are parsed from their source files and the
// cache written, then from that cache.
func (o Options) start(t Target) (cold, warm float64, err error) {
	dir, err := os.MkdirTemp("", "pipe-bench-cache-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	var c, w StartLine
	if err := o.child(&c, "--one", t.Spec, "--one-start", "--cache-dir", dir); err != nil {
		return 0, 0, err
	}
	if entries, _ := pipeline.ListCache(dir); len(entries) == 0 {
		return 0, 0, fmt.Errorf("the cold start wrote no cache entry")
	}
	if err := o.child(&w, "--one", t.Spec, "--one-start", "--cache-dir", dir); err != nil {
		return 0, 0, err
	}
	return c.StartS, w.StartS, nil
}
