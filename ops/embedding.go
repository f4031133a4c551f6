package ops

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("embedding", "Turns integer ids (0 <= id < input_dim) into dense vectors of size output_dim, Keras' Embedding.",
		func() Layer { return &Embedding{} })
}

// Embedding is Keras' Embedding: a learned table of input_dim rows of
// output_dim values, looked up by the integer ids of each example.
type Embedding struct {
	InputDim  int  `pipe:"input_dim,required,min=1,max=1000000000" doc:"vocabulary size: ids run from 0 to input_dim-1"`
	OutputDim int  `pipe:"output_dim,required,min=1,max=1000000" doc:"size of each embedding vector"`
	MaskZero  bool `pipe:"mask_zero" doc:"id 0 is padding: its steps are masked, so that the layers after it that read masks (lstm, gru, simple_rnn, bidirectional, global pooling, multi_head_attention) skip them, Keras' mask_zero"`
	// Keras' names for the table's initializer and regularizer.
	EmbeddingsInitializer spec.Component `pipe:"embeddings_initializer,registry=initializer" doc:"how the table starts; default random_uniform (U(-0.05, 0.05))"`
	EmbeddingsRegularizer spec.Component `pipe:"embeddings_regularizer,registry=regularizer" doc:"penalty on the table added to the training loss; default none"`
}

// Validate checks the chosen initializer and regularizer.
func (l *Embedding) Validate() error {
	return validateWeights(named{"embeddings_initializer", l.EmbeddingsInitializer, true}, named{"embeddings_regularizer", l.EmbeddingsRegularizer, false})
}

func (l *Embedding) OutputShape(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("embedding needs examples of ids with at least one axis, e.g. (sequence length)")
	}
	return append(append([]int(nil), in...), l.OutputDim), nil
}

func (l *Embedding) Params([]int) int { return l.InputDim * l.OutputDim }

// Build looks the ids of x up in the table. Ids outside [0, input_dim) are
// clamped to the nearest valid row (Keras raises an error on CPU); the
// loaders keep ids in range, so this only defines what a bad id does.
func (l *Embedding) Build(b *Builder, x *graph.Node) *graph.Node {
	// Keras' default embeddings_initializer is uniform(-0.05, 0.05).
	dims := []int{l.InputDim, l.OutputDim}
	table := b.Weight("embeddings", l.EmbeddingsInitializer, l.EmbeddingsRegularizer, &RandomUniform{Minval: -0.05, Maxval: 0.05}, FansOf(dims), dims...)
	ids := x
	if ids.DType() != dtypes.Int32 {
		ids = graph.ConvertDType(ids, dtypes.Int32) // float ids from a transform
	}
	ids = graph.ClipScalar(ids, 0, float64(l.InputDim-1))
	return graph.Gather(table, graph.InsertAxes(ids, -1))
}

// BuildMasked is Build, with the mask of the ids that are not 0 when
// mask_zero is set (on examples of one axis of ids: (timesteps)).
func (l *Embedding) BuildMasked(b *Builder, xs, _ []*graph.Node) (*graph.Node, *graph.Node) {
	return l.Build(b, xs[0]), l.mask(xs[0])
}

// mask is the mask of the non-zero ids of x [B, T], nil without
// mask_zero or on ids of another rank.
func (l *Embedding) mask(x *graph.Node) *graph.Node {
	if !l.MaskZero || x.Rank() != 2 {
		return nil
	}
	return graph.NotEqual(x, graph.ScalarZero(x.Graph(), x.DType()))
}
