package ops

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

// Stage is one layer of a compiled graph, with its resolved shapes.
type Stage struct {
	Name     string // unique: given in the spec, or Keras style dense, dense_1, ...
	Kind     string
	Layer    Layer
	From     []int   // the values it reads: 0..n-1 the model's n inputs, n+i stage i's output
	Ins      [][]int // their shapes
	In, Out  []int   // In is the first input's shape
	NParams  int
	SpecPath string
	// Shares is the stage whose weights this one uses (spec's shares:);
	// "" for a stage with weights of its own. Its NParams is 0: Keras
	// counts a shared layer's weights once.
	Shares string
}

// Sequential reports whether every stage of a one-input model reads only
// the one before it: a plain stack, whose summary is Keras' Sequential table.
func Sequential(stages []Stage) bool {
	for i, st := range stages {
		if len(st.From) != 1 || st.From[0] != i {
			return false
		}
	}
	return true
}

// Graph resolves the shapes of layers, in the order given (spec decoding
// puts each after its inputs), on the model's input shape in. Every layer
// that does not fit its inputs gets an error naming it; checking stops at
// the first, so one mistake does not cascade into many.
func Graph(in []int, layers []spec.ModelLayer) ([]Stage, spec.ErrorList) {
	return GraphOn([]Input{{Name: spec.InputName, Shape: in}}, layers)
}

// Input is one of a model's inputs: the name layers read it by, and the
// shape of one example.
type Input struct {
	Name  string
	Shape []int
}

// GraphOn is Graph on several named inputs: a stage's From counts them
// first, in the order given.
func GraphOn(inputs []Input, layers []spec.ModelLayer) ([]Stage, spec.ErrorList) {
	index := map[string]int{}
	var shapes [][]int
	for i, in := range inputs {
		index[in.Name] = i
		shapes = append(shapes, in.Shape)
	}
	stages := make([]Stage, 0, len(layers))
	var errs spec.ErrorList
	for _, l := range layers {
		// Build copies the params and runs the layer's Validate; a rejected
		// param leaves the shapes known, so the check goes on.
		layer, verr := Layers.Build(l.Component)
		if verr != nil {
			verr.Msg = l.ErrorVia(verr.Msg)
			errs = append(errs, verr)
			layer = l.Config.(Layer)
		}
		st := Stage{Name: l.Name, Kind: l.Kind, Layer: layer, SpecPath: l.Path, Shares: l.Shares}
		for _, name := range l.Inputs {
			st.From = append(st.From, index[name])
			st.Ins = append(st.Ins, shapes[index[name]])
		}
		st.In = st.Ins[0]
		var err error
		st.Out, err = outputShape(st)
		if err != nil {
			var from []string
			for _, s := range st.Ins {
				from = append(from, FormatShape(s))
			}
			msg := fmt.Sprintf("layer %s on input shape %s: %v", st.Name, strings.Join(from, " and "), err)
			return stages, append(errs, &spec.Error{Pos: l.Pos, Path: l.Path, Msg: l.ErrorVia(msg)})
		}
		st.NParams = st.Layer.Params(st.In)
		if mp, ok := st.Layer.(MergeParams); ok && len(st.Ins) > 1 {
			st.NParams = mp.MergeParams(st.Ins)
		}
		if st.Shares != "" {
			// Weights fit one input shape: the shared layer's.
			owner := stages[slices.IndexFunc(stages, func(o Stage) bool { return o.Name == st.Shares })]
			if !slices.EqualFunc(owner.Ins, st.Ins, slices.Equal) {
				return stages, append(errs, &spec.Error{Pos: l.Pos, Path: l.Path, Msg: l.ErrorVia(fmt.Sprintf("layer %s shares the weights of %s, which reads %s; it reads %s", st.Name, st.Shares, FormatShape(owner.In), FormatShape(st.In)))})
			}
			st.NParams = 0
		}
		index[l.Name] = len(shapes)
		shapes = append(shapes, st.Out)
		stages = append(stages, st)
	}
	return stages, errs
}

func outputShape(st Stage) ([]int, error) {
	m, merge := st.Layer.(Merge)
	switch {
	case merge && len(st.Ins) > 1:
		return m.MergeShape(st.Ins)
	case len(st.Ins) > 1:
		return nil, fmt.Errorf("%s reads one input, got %d: merge them first (add, concatenate, ...)", st.Kind, len(st.Ins))
	}
	// A merge on one input answers for itself: add and the like say that
	// they need several (merge.go's single), multi_head_attention attends
	// to its one input.
	return st.Layer.OutputShape(st.In)
}

// Build adds the stage to the graph on its inputs' values.
func (st Stage) Build(b *Builder, xs []*graph.Node) *graph.Node {
	if m, ok := st.Layer.(Merge); ok && len(xs) > 1 {
		return m.BuildMerge(b, xs)
	}
	return st.Layer.Build(b, xs[0])
}
