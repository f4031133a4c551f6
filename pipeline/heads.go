package pipeline

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/spec"
)

// Head is one output of a model: the stage that gives it, the loss it
// trains with, the loss's weight in the total, and what it is compared
// with.
type Head struct {
	Stage  int    // index in Plan.Stages
	Name   string // the stage's name
	Loss   evaluators.Loss
	Weight float64
	Target string // "label" or "input"
}

// compileHeads resolves model.outputs (default: the last layer with
// train.loss) and checks each loss against its output and target.
func (p *Plan) compileHeads(s *spec.Spec) spec.ErrorList {
	var errs spec.ErrorList
	outputs := s.Model.Outputs
	if len(outputs) == 0 {
		outputs = []spec.Output{{Layer: p.Stages[len(p.Stages)-1].Name, Weight: 1, Target: s.Train.Target}}
	}
	index := map[string]int{}
	for i, st := range p.Stages {
		index[st.Name] = i
	}
	for i, o := range outputs {
		path := fmt.Sprintf("model.outputs[%d]", i)
		h := Head{Stage: index[o.Layer], Name: o.Layer, Weight: o.Weight, Target: o.Target}
		c := o.Loss
		if c.Kind == "" {
			c, path = s.Train.Loss, "train.loss"
		} else {
			path += ".loss"
		}
		loss, err := evaluators.Losses.Build(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		h.Loss = loss
		target := p.Y
		if h.Target == "input" && !p.InputInY {
			target = p.X
		}
		if h.Target == "label" && p.InputInY {
			errs = append(errs, s.Errorf(path, "output %s is compared with the label, but a noise transform makes the labels the clean input for the outputs compared with the input: train such a model without noise transforms", o.Layer))
			continue
		}
		if err := loss.Check(p.Stages[h.Stage].Out, target); err != nil {
			what := c.Kind
			if len(outputs) > 1 || h.Target != "label" {
				what = fmt.Sprintf("%s on output %s against the %s", c.Kind, o.Layer, h.Target)
			}
			errs = append(errs, s.Errorf(path, "%s: %v", what, err))
		}
		p.Heads = append(p.Heads, h)
	}
	if len(p.Heads) > 0 {
		p.Loss = p.Heads[0].Loss
	}
	return errs
}

// compilePhases resolves train.phases against the heads: each phase's
// epochs and which heads' losses count in it. train.epochs becomes their
// sum.
func (p *Plan) compilePhases(s *spec.Spec) spec.ErrorList {
	var errs spec.ErrorList
	if len(s.Train.Phases) == 0 {
		return nil
	}
	var names []string
	for _, h := range p.Heads {
		names = append(names, h.Name)
	}
	p.Train.Epochs = 0
	for i, ph := range s.Train.Phases {
		on := make([]bool, len(p.Heads))
		for k, o := range ph.Outputs {
			h := slices.Index(names, o)
			if h < 0 {
				errs = append(errs, s.Errorf(fmt.Sprintf("train.phases[%d].outputs[%d]", i, k), "no model output %q: the outputs are %v%s", o, names, spec.DidYouMean(o, names)))
				continue
			}
			on[h] = true
		}
		if len(ph.Outputs) == 0 {
			for h := range on {
				on[h] = true
			}
		}
		p.Train.Phases = append(p.Train.Phases, Phase{Epochs: ph.Epochs, On: on})
		p.Train.Epochs += ph.Epochs
	}
	return errs
}

// objective is what training minimises on a batch: with one output its
// loss's measure, with several the weighted sum of their per-example
// means. It also returns each output's own measure.
//
// on, when not nil, holds per head 1 where its loss counts in the current
// phase (train.phases) and 0 where not.
func (p *Plan) objective(preds []*graph.Node, x, y, on *graph.Node) (evaluators.Measure, []evaluators.Measure) {
	measures := make([]evaluators.Measure, len(p.Heads))
	for i, h := range p.Heads {
		target := y
		if h.Target == "input" && !p.InputInY {
			target = x
		}
		measures[i] = h.Loss.Build(preds[i], target)
	}
	if len(measures) == 1 {
		return measures[0], measures
	}
	var total *graph.Node
	for i, m := range measures {
		v := m.Value
		if m.Weight != nil {
			v = graph.Div(v, graph.Max(graph.ConvertDType(m.Weight, v.DType()), graph.ScalarOne(v.Graph(), v.DType())))
		}
		v = graph.MulScalar(v, p.Heads[i].Weight)
		if on != nil {
			v = graph.Mul(v, graph.ConvertDType(graph.Reshape(graph.Slice(on, graph.AxisElem(i))), v.DType()))
		}
		if total == nil {
			total = v
		} else {
			total = graph.Add(total, v)
		}
	}
	return evaluators.Measure{Value: total}, measures
}

// targetSteps returns the steps with, when some output is compared with the
// input and a step corrupts it, the clean input made the labels just before
// that step.
func targetSteps(s *spec.Spec, steps []loaders.Step) ([]loaders.Step, bool) {
	input := s.Train.Target == "input"
	for _, o := range s.Model.Outputs {
		input = input || o.Target == "input"
	}
	if !input {
		return steps, false
	}
	for i, st := range steps {
		if _, ok := st.Transform.(loaders.Corrupter); ok {
			target := loaders.Step{Transform: loaders.InputAsTarget{}, Kind: "target: input", Path: "train.target", Pos: s.PosOf("train.target")}
			return slices.Concat(steps[:i], []loaders.Step{target}, steps[i:]), true
		}
	}
	return steps, false
}

// inputTransforms are the steps that a new input goes through at
// prediction before the model's batches: those before the batch steps
// that rewrite one column (noise does not: it is no ColumnTransform). The
// batch steps run on the batch, as in training (batch.go).
func (p *Plan) inputTransforms() []loaders.ColumnTransform {
	var out []loaders.ColumnTransform
	for _, s := range p.Steps[:p.BatchFrom] {
		if t, ok := s.Transform.(loaders.ColumnTransform); ok {
			out = append(out, t)
		}
	}
	return out
}
