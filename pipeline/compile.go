// Package pipeline compiles a spec into a Plan, checking everything that can
// be checked without data, and runs the plan: load, preprocess, train,
// evaluate, and write the run directory.
package pipeline

import (
	"fmt"
	"slices"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/spec"
)

// Plan is a spec whose every part has been resolved and checked.
type Plan struct {
	Spec    *spec.Spec
	X, Y    loaders.Schema // of one example, after the transforms
	Stages  []ops.Stage
	Loss    evaluators.Loss // nil for a rating model
	Metrics []NamedMetric
	Opt     Optimizer
	// Recommender is the rating model named by model.name; nil for a layer stack.
	Recommender ops.Recommender
}

// NamedMetric is a metric with the name its history series carries.
type NamedMetric struct {
	Name string
	evaluators.Metric
}

// Output is the model's output shape for one example.
func (p *Plan) Output() []int {
	if len(p.Stages) == 0 {
		return []int{}
	}
	return p.Stages[len(p.Stages)-1].Out
}

// Params is the number of trainable parameters.
func (p *Plan) Params() int {
	n := 0
	for _, s := range p.Stages {
		n += s.NParams
	}
	return n
}

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
	p := &Plan{Spec: s}
	x, y, errs := loaders.Schemas(s)
	p.X, p.Y = x, y
	if s.Model.Name.Kind != "" {
		errs = append(errs, p.compileRecommender()...)
	} else {
		errs = append(errs, p.compileStack()...)
	}
	return p, errs.Err()
}

// compileRecommender checks a spec whose model is a registered rating model.
func (p *Plan) compileRecommender() spec.ErrorList {
	s := p.Spec
	var errs spec.ErrorList
	p.Recommender = s.Model.Name.Config.(ops.Recommender)
	if s.Model.Input != nil || len(s.Model.Layers) > 0 {
		errs = append(errs, s.Errorf("model.name", "a rating model (%s) takes no input or layers; leave out model.name for a layer stack", s.Model.Name.Kind))
	}
	want, _ := loaders.RatingSchemas()
	if !slices.Equal(p.X.Shape, want.Shape) || p.X.DType != loaders.Int32 {
		errs = append(errs, s.Errorf("data.loader", "%s needs rating data ((user, item) pairs), got examples %s", s.Model.Name.Kind, p.X))
	}
	errs = append(errs, p.compileMetrics([]int{}, []string{"rmse", "mae"})...)
	return errs
}

// compileStack checks a layer-stack model.
func (p *Plan) compileStack() spec.ErrorList {
	s := p.Spec
	var errs spec.ErrorList
	if s.Model.Input == nil {
		errs = append(errs, s.Errorf("model.input", "a layer stack needs input: {shape: [...]}, or name a rating model with model.name"))
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
	if !sameShape(p.X.Shape, s.Model.Input.Shape) {
		errs = append(errs, s.Errorf("model.input.shape", "the data gives examples of shape %v after the transforms, the model expects %v", p.X.Shape, s.Model.Input.Shape))
	}
	stages, stackErrs := ops.Stack(s.Model.Input.Shape, s.Model.Layers)
	p.Stages = stages
	errs = append(errs, stackErrs...)
	if len(errs) > 0 {
		return errs
	}
	out := p.Output()
	p.Loss = s.Train.Loss.Config.(evaluators.Loss)
	if err := p.Loss.Check(out, p.Y); err != nil {
		errs = append(errs, s.Errorf("train.loss", "%s: %v", s.Train.Loss.Kind, err))
	}
	p.Opt = s.Train.Optimizer.Config.(Optimizer)
	errs = append(errs, p.checkMemory()...)
	errs = append(errs, p.compileMetrics(out, []string{"loss"})...)
	return append(errs, p.checkMonitors()...)
}

// compileMetrics resolves the spec's metrics against output shape out;
// the metrics in always are reported first when the spec leaves them out.
func (p *Plan) compileMetrics(out []int, always []string) spec.ErrorList {
	var errs spec.ErrorList
	seen := map[string]bool{}
	for _, m := range p.Spec.Evaluate {
		if seen[m.Kind] {
			errs = append(errs, &spec.Error{Pos: m.Pos, Path: m.Path, Msg: fmt.Sprintf("metric %s is listed twice", m.Kind)})
			continue
		}
		seen[m.Kind] = true
		metric := m.Config.(evaluators.Metric)
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
			e, _ := evaluators.Metrics.Lookup(name)
			first = append(first, NamedMetric{Name: name, Metric: e.New().(evaluators.Metric)})
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
	s := p.Spec
	var series []string
	for _, m := range p.Metrics {
		series = append(series, m.Name)
		if s.Train.Validation.Split != "none" {
			series = append(series, "val_"+m.Name)
		}
	}
	var errs spec.ErrorList
	check := func(path, name string) {
		if !slices.Contains(series, name) {
			errs = append(errs, s.Errorf(path, "the history has no series %q%s", name, spec.DidYouMean(name, series)))
		}
	}
	if es := s.Train.EarlyStopping; es != nil {
		check("train.early_stopping.monitor", es.Monitor)
	}
	if pl, ok := s.Train.LRSchedule.Config.(*PlateauSchedule); ok {
		check("train.lr_schedule.monitor", pl.Monitor)
	}
	return errs
}
