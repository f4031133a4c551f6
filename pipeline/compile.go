// Package pipeline compiles a spec into a Plan, checking everything that can
// be checked without data, and runs the plan: load, preprocess, train,
// evaluate, and hand the results to the run directory.
package pipeline

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/optim"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/spec"
)

// DefaultBackend is the backend of a spec that names none: GoMLX's pure-Go
// backend, which needs no C libraries and works offline.
const DefaultBackend = "go"

// Plan is a spec resolved into typed values and checked as a whole. It is
// not changed after Compile: execution (Train, Run, the Model) reads it and
// nothing else of the spec.
type Plan struct {
	Name    string
	Seed    int
	Backend string // the backend config; DefaultBackend when the spec names none

	Loader     loaders.Loader
	LoaderName string
	Steps      []loaders.Step // the transforms, in order
	InputInY   bool           // the labels are the input before noise (target: input with a noise step)
	TrainLimit int            // first N training examples (0: all)
	TestLimit  int
	Stream     *spec.Stream // data.stream: read from the cache in record batches; nil: whole, in memory
	X, Y       data.Schema  // of one example, after the transforms: what the model takes
	DataKey    DataKey      // what the preprocessed data depends on, for the cache
	// BatchFrom is the first of the steps that run on each batch rather
	// than on the whole dataset (batch.go): the data is held, cached and
	// handed around as Steps[:BatchFrom] leave it, one example of schema
	// StoredX and StoredY (uint8 pixels, int32 labels).
	BatchFrom        int
	StoredX, StoredY data.Schema

	// A layer stack: its input shape (of the whole example), its inputs,
	// layers, loss, optimizer and training.
	Input     []int
	Inputs    []ModelInput // one (input) or model.inputs
	Stages    []ops.Stage
	Heads     []Head          // the model's outputs; the first is the main one
	Loss      evaluators.Loss // the main output's, which metrics measure with
	Optimizer optim.Optimizer
	Schedule  optim.Schedule // nil: the optimizer's rate throughout
	Train     Training

	// A registered rating model (model.name); nil for a layer stack.
	Recommender recsys.Recommender
	ModelName   string

	Metrics []NamedMetric
	Report  Report
	Golden  spec.Golden

	spec *spec.Spec // for positioned errors found at run time and the resolved spec.yaml
}

// Training is how a layer stack is fitted (spec section train).
type Training struct {
	BatchSize, Shards, Epochs int
	Validation                spec.Validation
	EarlyStopping             *spec.EarlyStopping // nil: off
	ClipNorm                  float64             // 0: off
	CheckpointEvery           int                 // 0: only at the end
	// Phases are train.phases, in order (nil: one phase on every output):
	// Epochs sums them.
	Phases []Phase

	Augment []loaders.Augmentation // train.augment, in order; nil: none
	image   loaders.Image          // the examples' image shape, with Augment
}

// Phase is one phase of training: its epochs, and for each head whether
// its loss counts.
type Phase struct {
	Epochs int
	On     []bool
}

// lastPhaseStart is the first epoch of the last phase (from 1); 1 when
// the plan has no phases.
func (t *Training) lastPhaseStart() int {
	from := 1
	for _, ph := range t.Phases[:max(len(t.Phases)-1, 0)] {
		from += ph.Epochs
	}
	return from
}

// phaseOf returns the phase that epoch (from 1) falls in; nil when the
// plan has no phases.
func (t *Training) phaseOf(epoch int) *Phase {
	for i := range t.Phases {
		if epoch <= t.Phases[i].Epochs || i == len(t.Phases)-1 {
			return &t.Phases[i]
		}
		epoch -= t.Phases[i].Epochs
	}
	return nil
}

// Report is the plan's cell in pipe compare's table, its defaults filled
// in: the method is the spec name, the dataset the loader's.
type Report struct {
	Method, Dataset string
	Row             int
}

// DataKey is the loader and transforms as canonical YAML: with the source
// files' checksums, what names a cache entry.
type DataKey struct {
	Loader     string
	Transforms []string
}

// NamedMetric is a metric with the name its history series carries.
type NamedMetric struct {
	Name string
	evaluators.Metric
	head int // > 0: the loss of head head-1 (its series is <output>_loss)
}

// Output is the shape of the model's main output for one example.
func (p *Plan) Output() []int {
	if len(p.Heads) == 0 {
		return []int{}
	}
	return p.Stages[p.Heads[0].Stage].Out
}

// Params is the number of trainable parameters of a layer stack, known
// from the spec alone; 0 for a rating model, whose count depends on the
// data (see ParamCount and TrainedParams).
func (p *Plan) Params() int {
	n := 0
	for _, s := range p.Stages {
		n += s.NParams
	}
	return n
}

// Errorf is a positioned error about the spec field at path, for checks
// that need data and so run after Compile.
func (p *Plan) Errorf(path, format string, args ...any) *spec.Error {
	return p.spec.Errorf(path, format, args...)
}

// SpecFile is the file the plan's spec was read from.
func (p *Plan) SpecFile() string { return p.spec.File }

// ResolvedSpec is the spec with every default filled in, as a run
// directory keeps it.
func (p *Plan) ResolvedSpec() ([]byte, error) { return spec.Encode(p.spec) }

// Load reads, decodes and compiles the spec at path, with overrides
// ("train.epochs=3") applied as `--set` gives them.
func Load(path string, overrides ...string) (*Plan, error) {
	s, err := spec.Load(path, overrides...)
	if err != nil {
		return nil, err
	}
	return Compile(s)
}

// Compile checks the spec as a whole: the data's shapes through the
// transforms, the model's input against the data, the layer stack, and the
// loss and metrics against the output. It collects every error it can.
func Compile(s *spec.Spec) (*Plan, error) {
	p := &Plan{
		Name: s.Name, Seed: s.Seed, Backend: cmp.Or(s.Backend, DefaultBackend),
		LoaderName: s.Data.Loader.Kind, TrainLimit: s.Data.TrainLimit, TestLimit: s.Data.TestLimit, Stream: s.Data.Stream,
		Train: Training{BatchSize: s.Train.BatchSize, Shards: s.Train.Shards, Epochs: s.Train.Epochs, Validation: s.Train.Validation,
			EarlyStopping: s.Train.EarlyStopping, ClipNorm: s.Train.ClipNorm, CheckpointEvery: s.Train.CheckpointEvery},
		Report: Report{Method: cmp.Or(s.Report.Method, s.Name), Dataset: cmp.Or(s.Report.Dataset, s.Data.Loader.Kind), Row: s.Report.Row},
		Golden: *s.Golden,
		spec:   s,
	}
	var errs spec.ErrorList
	if err := CheckBackendName(p.Backend); err != nil {
		errs = append(errs, s.Errorf("backend", "%v", err))
	}
	loader, err := loaders.Loaders.Build(s.Data.Loader)
	if err != nil {
		return p, append(errs, err)
	}
	p.Loader = loader
	if _, ok := loader.(loaders.Splitter); s.CV != nil && !ok {
		errs = append(errs, s.Errorf("cv", "loader %s takes no split:, so it has no test folds; cv: needs a rating loader (jester5k, movielense, ml100k, ratings)", s.Data.Loader.Kind))
	}
	steps, stepErrs := loaders.BuildSteps(s.Data.Transforms)
	if errs = append(errs, stepErrs...); len(errs) > 0 {
		return p, errs
	}
	p.Steps, p.InputInY = targetSteps(s, steps)
	x, y := loader.Schemas()
	p.X, p.Y, errs = loaders.Schemas(x, y, p.Steps)
	p.X = modelSchema(p.X)
	p.BatchFrom = len(p.Steps)
	if s.Model.Name.Kind == "" { // a rating model fits on whole splits
		p.BatchFrom = loaders.SplitSteps(p.Steps)
	}
	p.StoredX, p.StoredY, _ = loaders.Schemas(x, y, p.Steps[:p.BatchFrom])
	if p.DataKey, err = dataKey(s); err != nil {
		return p, append(errs, err)
	}
	// The cache holds the data before the batch steps, the spec's last
	// transforms: a spec that differs from another only in them (scale
	// by 255 or 127.5) shares its entry.
	stored := len(s.Data.Transforms) - (len(p.Steps) - p.BatchFrom)
	p.DataKey.Transforms = p.DataKey.Transforms[:stored]
	if p.InputInY {
		p.DataKey.Transforms = append(p.DataKey.Transforms, "target: input")
	}
	if s.Model.Name.Kind != "" {
		errs = append(errs, p.compileRecommender(s)...)
	} else {
		errs = append(errs, p.compileStack(s)...)
	}
	errs = append(errs, p.checkStream(s)...)
	return p, errs.Err()
}

// dataKey encodes the loader and transforms canonically.
func dataKey(s *spec.Spec) (DataKey, *spec.Error) {
	var k DataKey
	b, err := spec.EncodeComponent(s.Data.Loader)
	if err != nil {
		return k, s.Errorf("data.loader", "%v", err)
	}
	k.Loader = string(b)
	for _, t := range s.Data.Transforms {
		b, err := spec.EncodeComponent(t)
		if err != nil {
			return k, s.Errorf(t.Path, "%v", err)
		}
		k.Transforms = append(k.Transforms, string(b))
	}
	return k, nil
}

// compileRecommender checks a spec whose model is a registered rating model.
func (p *Plan) compileRecommender(s *spec.Spec) spec.ErrorList {
	var errs spec.ErrorList
	r, err := recsys.Models.Build(s.Model.Name)
	if err != nil {
		return append(errs, err)
	}
	p.Recommender, p.ModelName = r, s.Model.Name.Kind
	if len(s.Train.Augment) > 0 {
		errs = append(errs, s.Errorf("train.augment", "a rating model (%s) trains on ratings, not image batches: augmentation does not apply", s.Model.Name.Kind))
	}
	if s.Model.Input != nil || len(s.Model.Inputs) > 0 || len(s.Model.Layers) > 0 {
		errs = append(errs, s.Errorf("model.name", "a rating model (%s) takes no input or layers; leave out model.name for a layer stack", s.Model.Name.Kind))
	}
	if want, _ := data.RatingSchemas(); !slices.Equal(p.X.Shape, want.Shape) || p.X.DType != want.DType {
		errs = append(errs, s.Errorf("data.loader", "%s needs rating data ((user, item) pairs), got examples %s", s.Model.Name.Kind, p.X))
	}
	return append(errs, p.compileMetrics(s, []int{}, []string{"rmse", "mae"})...)
}

// RatingData reports whether the plan's loader gives ratings, (user, item)
// pairs, whatever its transforms make of them (AutoRec's rating vectors).
func (p *Plan) RatingData() bool {
	x, _ := p.Loader.Schemas()
	want, _ := data.RatingSchemas()
	return x.DType == want.DType && slices.Equal(x.Shape, want.Shape)
}

// compileStack checks a layer-stack model.
func (p *Plan) compileStack(s *spec.Spec) spec.ErrorList {
	var errs spec.ErrorList
	if s.Model.Input == nil && len(s.Model.Inputs) == 0 {
		errs = append(errs, s.Errorf("model.input", "a layer stack needs input: {shape: [...]} (or inputs: [...]), or name a rating model with model.name"))
	}
	if len(s.Model.Layers) == 0 {
		errs = append(errs, s.Errorf("model.layers", "a layer stack needs at least one layer, or name a rating model with model.name"))
	}
	for _, f := range []struct {
		c    spec.Component
		name string
	}{{s.Train.Loss, "loss"}, {s.Train.Optimizer, "optimizer"}} {
		if f.c.Kind == "" {
			errs = append(errs, s.Errorf("train."+f.name, "a layer stack needs train.%s", f.name))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	errs = append(errs, p.compileInputs(s)...)
	errs = append(errs, p.compileAugment(s)...)
	stages, stackErrs := ops.GraphOn(p.graphInputs(), s.Model.Layers)
	p.Stages = stages
	if errs = append(errs, stackErrs...); len(errs) > 0 {
		return errs
	}
	if errs = append(errs, p.compileHeads(s)...); len(errs) > 0 {
		return errs
	}
	if errs = append(errs, p.compilePhases(s)...); len(errs) > 0 {
		return errs
	}
	out := p.Output()
	opt, err := optim.Optimizers.Build(s.Train.Optimizer)
	if err != nil {
		return append(errs, err)
	}
	p.Optimizer = opt
	if s.Train.LRSchedule.Kind != "" {
		sched, err := optim.Schedules.Build(s.Train.LRSchedule)
		if err != nil {
			return append(errs, err)
		}
		p.Schedule = sched
	}
	errs = append(errs, p.checkMemory()...)
	errs = append(errs, p.compileMetrics(s, out, []string{"loss"})...)
	if len(p.Heads) > 1 { // Keras' <output>_loss series beside the total
		for i, h := range p.Heads {
			lm, _ := evaluators.Metrics.New("loss")
			p.Metrics = append(p.Metrics, NamedMetric{Name: h.Name + "_loss", Metric: lm, head: i + 1})
		}
	}
	return append(errs, p.checkMonitors()...)
}

// compileMetrics resolves the spec's metrics against output shape out;
// the metrics in always are reported first when the spec leaves them out.
func (p *Plan) compileMetrics(s *spec.Spec, out []int, always []string) spec.ErrorList {
	var errs spec.ErrorList
	seen := map[string]bool{}
	for _, m := range s.Evaluate {
		if seen[m.Kind] {
			errs = append(errs, &spec.Error{Pos: m.Pos, Path: m.Path, Msg: fmt.Sprintf("metric %s is listed twice", m.Kind)})
			continue
		}
		seen[m.Kind] = true
		metric, err := evaluators.Metrics.Build(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Kind == "loss" && p.Loss == nil {
			errs = append(errs, &spec.Error{Pos: m.Pos, Path: m.Path, Msg: "a rating model has no loss to report; use rmse and mae"})
			continue
		}
		if err := metric.Check(out, p.Y); err != nil {
			errs = append(errs, &spec.Error{Pos: m.Pos, Path: m.Path, Msg: fmt.Sprintf("metric %s: %v", m.Kind, err)})
		}
		p.Metrics = append(p.Metrics, NamedMetric{Name: m.Kind, Metric: metric})
	}
	var first []NamedMetric
	for _, name := range always {
		if !seen[name] {
			metric, _ := evaluators.Metrics.New(name)
			first = append(first, NamedMetric{Name: name, Metric: metric})
		}
	}
	p.Metrics = append(first, p.Metrics...)
	return errs
}

// sameShape compares a data shape with a declared one; a -1 in the data
// (a size known only once the data is read, such as the length of a rating
// vector) matches any declared size and is checked at run time.
func sameShape(data, declared []int) bool {
	if len(data) != len(declared) {
		return false
	}
	for i := range data {
		if data[i] != -1 && data[i] != declared[i] {
			return false
		}
	}
	return true
}

// checkMonitors checks that the series early stopping and a plateau
// schedule watch will be in the history.
func (p *Plan) checkMonitors() spec.ErrorList {
	var series []string
	for _, m := range p.Metrics {
		series = append(series, m.Name)
		if p.Train.Validation.Split != "none" {
			series = append(series, "val_"+m.Name)
		}
	}
	var errs spec.ErrorList
	check := func(path, name string) {
		if !slices.Contains(series, name) {
			errs = append(errs, p.Errorf(path, "the history has no series %q%s", name, spec.DidYouMean(name, series)))
		}
	}
	if es := p.Train.EarlyStopping; es != nil {
		check("train.early_stopping.monitor", es.Monitor)
	}
	if m, ok := p.Schedule.(optim.Monitor); ok {
		check("train.lr_schedule.monitor", m.Monitored())
	}
	return errs
}

// GoldenRun returns the plan of the spec's golden run: its subsets and
// epochs, everything else unchanged.
func (p *Plan) GoldenRun() *Plan {
	s := *p.spec
	s.Data.TrainLimit, s.Data.TestLimit, s.Train.Epochs = p.Golden.Train, p.Golden.Test, p.Golden.Epochs
	q := *p
	q.TrainLimit, q.TestLimit, q.Train.Epochs = p.Golden.Train, p.Golden.Test, p.Golden.Epochs
	if len(p.Train.Phases) > 0 {
		// Every phase, each cut to golden.epochs, so the golden file
		// records each phase's training.
		q.Train.Phases, q.Train.Epochs = slices.Clone(p.Train.Phases), 0
		for i := range q.Train.Phases {
			q.Train.Phases[i].Epochs = min(q.Train.Phases[i].Epochs, p.Golden.Epochs)
			q.Train.Epochs += q.Train.Phases[i].Epochs
		}
		s.Train.Epochs = q.Train.Epochs
	}
	q.spec = &s
	return &q
}
