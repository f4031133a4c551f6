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
	Loss    evaluators.Loss
	Metrics []NamedMetric
	Opt     Optimizer
}

// NamedMetric is a metric with the name its history series carries.
type NamedMetric struct {
	Name string
	evaluators.Metric
}

// Output is the model's output shape for one example.
func (p *Plan) Output() []int { return p.Stages[len(p.Stages)-1].Out }

// Params is the number of trainable parameters.
func (p *Plan) Params() int {
	n := 0
	for _, s := range p.Stages {
		n += s.NParams
	}
	return n
}

// Load reads, decodes and compiles the spec at path.
func Load(path string) (*Plan, error) {
	s, err := spec.Load(path)
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
	if len(errs) == 0 && !slices.Equal(x.Shape, s.Model.Input.Shape) {
		errs = append(errs, s.Errorf("model.input.shape", "the data gives examples of shape %v after the transforms, the model expects %v", x.Shape, s.Model.Input.Shape))
	}
	if len(s.Model.Layers) == 0 {
		errs = append(errs, s.Errorf("model.layers", "the model needs at least one layer"))
		return p, errs.Err()
	}
	stages, stackErrs := ops.Stack(s.Model.Input.Shape, s.Model.Layers)
	p.Stages = stages
	errs = append(errs, stackErrs...)
	if len(stackErrs) > 0 || len(errs) > 0 {
		return p, errs.Err()
	}
	out := p.Output()
	p.Loss = s.Train.Loss.Config.(evaluators.Loss)
	if err := p.Loss.Check(out, y); err != nil {
		errs = append(errs, s.Errorf("train.loss", "%s: %v", s.Train.Loss.Kind, err))
	}
	metrics := s.Evaluate
	seen := map[string]bool{}
	for _, m := range metrics {
		if seen[m.Kind] {
			errs = append(errs, &spec.Error{Pos: m.Pos, Path: m.Path, Msg: fmt.Sprintf("metric %s is listed twice", m.Kind)})
			continue
		}
		seen[m.Kind] = true
		metric := m.Config.(evaluators.Metric)
		if err := metric.Check(out, y); err != nil {
			errs = append(errs, &spec.Error{Pos: m.Pos, Path: m.Path, Msg: fmt.Sprintf("metric %s: %v", m.Kind, err)})
		}
		p.Metrics = append(p.Metrics, NamedMetric{Name: m.Kind, Metric: metric})
	}
	if !seen["loss"] { // the loss is always reported, first, as Keras does
		p.Metrics = append([]NamedMetric{{Name: "loss", Metric: evaluators.LossMetric{}}}, p.Metrics...)
	}
	p.Opt = s.Train.Optimizer.Config.(Optimizer)
	return p, errs.Err()
}
