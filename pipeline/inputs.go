package pipeline

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/spec"
)

// ModelInput is one input of a layer stack: the whole example (model.input),
// or the columns [From, To) of its last axis (one of model.inputs).
type ModelInput struct {
	Name     string
	Shape    []int // of one example, as the layers see it
	From, To int   // To == 0: the whole example
}

// compileInputs resolves the model's inputs against the data's examples:
// model.input takes them whole; each of model.inputs takes its columns,
// given in the spec or by the loader under its name, and must have as many
// values as they hold. Plan.Input is the shape of the whole example, which
// the data is checked against once loaded.
func (p *Plan) compileInputs(s *spec.Spec) spec.ErrorList {
	if s.Model.Input != nil {
		p.Input = s.Model.Input.Shape
		p.Inputs = []ModelInput{{Name: spec.InputName, Shape: p.Input}}
		if !sameShape(p.X.Shape, p.Input) {
			return spec.ErrorList{s.Errorf("model.input.shape", "the data gives examples of shape %v after the transforms, the model expects %v", p.X.Shape, p.Input)}
		}
		return nil
	}
	var errs spec.ErrorList
	x := p.X.Shape
	if len(x) == 0 || slices.Contains(x, -1) {
		errs = append(errs, s.Errorf("model.inputs", "several inputs take columns of the examples' last axis; the data gives examples of shape %v after the transforms", x))
	}
	p.Input = x
	declared := map[string]data.Columns{}
	var names []string
	if l, ok := p.Loader.(loaders.InputColumns); ok {
		raw, _ := p.Loader.Schemas()
		for _, c := range l.InputColumns() {
			names = append(names, c.Name)
			// Transforms that change the examples move the columns.
			if slices.Equal(raw.Shape, x) {
				declared[c.Name] = c
			}
		}
	}
	for i, in := range s.Model.Inputs {
		path := fmt.Sprintf("model.inputs[%d]", i)
		mi := ModelInput{Name: in.Name, Shape: in.Shape}
		switch c, ok := declared[in.Name]; {
		case in.Columns != nil:
			mi.From, mi.To = in.Columns[0], in.Columns[1]
		case ok:
			mi.From, mi.To = c.From, c.To
		case len(names) > 0 && len(declared) == 0:
			errs = append(errs, s.Errorf(path, "the transforms change the examples from the loader's, so its inputs (%v) no longer hold: give columns: [from, to]", names))
		case len(names) > 0:
			errs = append(errs, s.Errorf(path+".name", "loader %s gives no input %q%s; name one of its inputs or give columns: [from, to]", p.LoaderName, in.Name, spec.DidYouMean(in.Name, names)))
		default:
			errs = append(errs, s.Errorf(path, "loader %s names no inputs: give columns: [from, to] of the examples' last axis", p.LoaderName))
		}
		p.Inputs = append(p.Inputs, mi)
		if mi.To == 0 || len(x) == 0 || slices.Contains(x, -1) {
			continue
		}
		if last := x[len(x)-1]; mi.To > last {
			errs = append(errs, s.Errorf(path+".columns", "columns [%d, %d) of examples of shape %v: the last axis has %d", mi.From, mi.To, x, last))
			continue
		}
		got := append(slices.Clone(x[:len(x)-1]), mi.To-mi.From)
		if !slices.Equal(got, in.Shape) {
			errs = append(errs, s.Errorf(path+".shape", "input %s takes columns [%d, %d) of examples of shape %v: shape %v, the model expects %v", in.Name, mi.From, mi.To, x, got, in.Shape))
		}
	}
	return errs
}

// graphInputs are the model's inputs as ops.GraphOn takes them.
func (p *Plan) graphInputs() []ops.Input {
	out := make([]ops.Input, len(p.Inputs))
	for i, in := range p.Inputs {
		out[i] = ops.Input{Name: in.Name, Shape: in.Shape}
	}
	return out
}

// inputValues are the model's inputs on a batch x of whole examples: x
// itself, or each input's columns of its last axis.
func (p *Plan) inputValues(x *graph.Node) []*graph.Node {
	out := make([]*graph.Node, len(p.Inputs))
	for i, in := range p.Inputs {
		if in.To == 0 {
			out[i] = x
			continue
		}
		axes := make([]graph.SliceAxisSpec, x.Rank())
		for a := range axes {
			axes[a] = graph.AxisRange()
		}
		axes[len(axes)-1] = graph.AxisRange(in.From, in.To)
		out[i] = graph.Slice(x, axes...)
	}
	return out
}
