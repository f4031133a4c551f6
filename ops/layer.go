// Package ops holds the layer registry. Each layer declares its params once
// (a tagged config struct), infers its output shape, counts its parameters
// and builds its GoMLX graph nodes.
package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

// Layers is the layer registry; each layer file registers itself in init().
var Layers = spec.NewRegistry[Layer]("layer")

// Layer is a registered layer's config. Shapes are of one example: the
// batch axis is implicit, as in Keras' summary.
type Layer interface {
	// OutputShape returns the shape the layer produces from in, or an error
	// saying why in does not fit.
	OutputShape(in []int) ([]int, error)
	// Params counts the trainable parameters for input shape in.
	Params(in []int) int
	// Build adds the layer to the graph. x has the batch axis first.
	Build(b *Builder, x *graph.Node) *graph.Node
}

// Stage is one layer of a compiled stack, with its resolved shapes.
type Stage struct {
	Name     string // unique, Keras style: dense, dense_1, ...
	Kind     string
	Layer    Layer
	In, Out  []int
	NParams  int
	SpecPath string
}

// Stack resolves the shapes of layers on input shape in. Every layer that
// does not fit its input gets an error naming it; the shape check continues
// past the first error only when the failing layer's output can still be
// known, so one mistake does not cascade into many.
func Stack(in []int, layers []spec.Component) ([]Stage, spec.ErrorList) {
	var errs spec.ErrorList
	stages := make([]Stage, 0, len(layers))
	count := map[string]int{}
	shape := in
	for _, c := range layers {
		// Build copies the params and runs the layer's Validate (the
		// initializers and regularizers of Weights); shapes do not depend
		// on what Validate rejects, so the check goes on.
		l, verr := Layers.Build(c)
		if verr != nil {
			errs = append(errs, verr)
			l = c.Config.(Layer)
		}
		name := c.Kind
		if n := count[c.Kind]; n > 0 {
			name = fmt.Sprintf("%s_%d", c.Kind, n)
		}
		count[c.Kind]++
		out, err := l.OutputShape(shape)
		if err != nil {
			errs = append(errs, &spec.Error{Pos: c.Pos, Path: c.Path, Msg: fmt.Sprintf("layer %s on input shape %s: %v", name, FormatShape(shape), err)})
			return stages, errs
		}
		stages = append(stages, Stage{Name: name, Kind: c.Kind, Layer: l, In: shape, Out: out, NParams: l.Params(shape), SpecPath: c.Path})
		shape = out
	}
	return stages, errs
}

// FormatShape writes a per-example shape with Keras' leading None batch axis.
func FormatShape(s []int) string {
	out := "(None"
	for _, d := range s {
		out += fmt.Sprintf(", %d", d)
	}
	return out + ")"
}
