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

// Merge is a layer that reads several inputs (add, concatenate, ...). Its
// single-input methods serve Layer's contract only: the graph calls these.
type Merge interface {
	Layer
	// MergeShape returns the output shape for the inputs' shapes, or why
	// they do not merge.
	MergeShape(ins [][]int) ([]int, error)
	// BuildMerge adds the layer to the graph; xs have the batch axis first.
	BuildMerge(b *Builder, xs []*graph.Node) *graph.Node
}

// NonTrainable is implemented by a layer that keeps state besides its
// trainable parameters (batch_normalization's moving statistics, created
// with Builder.State): Keras counts it as non-trainable params.
type NonTrainable interface {
	// NonTrainableParams counts the state's values for input shape in.
	NonTrainableParams(in []int) int
}

// NonTrainableParams is l's count of state values on input shape in, 0
// for a layer without state.
func NonTrainableParams(l Layer, in []int) int {
	if n, ok := l.(NonTrainable); ok {
		return n.NonTrainableParams(in)
	}
	return 0
}

// FormatShape writes a per-example shape with Keras' leading None batch axis.
func FormatShape(s []int) string {
	out := "(None"
	for _, d := range s {
		out += fmt.Sprintf(", %d", d)
	}
	return out + ")"
}
