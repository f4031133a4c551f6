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

// MergeParams is implemented by a merge whose parameter count depends on
// every input's shape, not only the first's (multi_head_attention: the
// key and value projections read the key's and value's features).
type MergeParams interface {
	MergeParams(ins [][]int) int
}

// MaskedLayer is implemented by a layer that makes, reads or passes on a
// mask, Keras' masking: a Bool [batch, timesteps] node, true where a step
// of a sequence value [batch, timesteps, ...] holds data and false where
// it is padding. The graph carries one mask (or nil) beside each value;
// Stage.BuildMasked calls BuildMasked when a layer has it, and otherwise
// Build with this rule: a merge passes on the AND of its inputs' masks
// (an input without one counts as all true), any other layer drops the
// mask. So the mask reaches the consumers only through layers that keep
// the time axis and work step by step: dropout, spatial_dropout1d,
// gaussian_noise, activation, dense and layer_normalization on sequences,
// time_distributed, all of which pass it on here.
//
//   - makers: embedding (mask_zero), masking, token_and_position_embedding
//     (mask_zero) return a mask whatever they receive;
//   - consumers: lstm, gru, simple_rnn and bidirectional (a masked step
//     keeps the previous state and output, forward and in the hand-written
//     backward passes), global_average_pool1d and global_max_pool1d (masked
//     steps left out), multi_head_attention (masked keys get no attention;
//     its output carries the query's mask).
type MaskedLayer interface {
	// BuildMasked adds the layer to the graph on its inputs xs (one for a
	// layer that is not a merge) and their masks (each nil where that
	// input has none), and returns its output and the output's mask (nil
	// for none). With every mask nil it builds what Build builds.
	BuildMasked(b *Builder, xs, masks []*graph.Node) (y, mask *graph.Node)
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
