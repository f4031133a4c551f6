package ops

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("bidirectional", "Runs a recurrent layer (lstm, gru, simple_rnn) over the sequence forwards and a copy of it "+
		"backwards, and merges their outputs, Keras' Bidirectional.",
		func() Layer { return &Bidirectional{MergeMode: "concat"} })
}

// Bidirectional is Keras' Bidirectional wrapper: the layer, and a copy of
// it with go_backwards flipped and weights of its own, each in its own
// scope (forward_lstm, backward_lstm, as Keras names them). With
// return_sequences the backward copy's output is reversed back, so that
// step t of both is about input step t.
type Bidirectional struct {
	Layer     spec.Component `pipe:"layer,required,registry=layer" doc:"the recurrent layer to run both ways, e.g. {lstm: {units: 64}}"`
	MergeMode string         `pipe:"merge_mode,oneof=concat|sum|mul|ave" doc:"how the two outputs merge: concat (on the last axis), sum, mul or ave"`
}

// inner returns the wrapped layer, or why it cannot be wrapped.
func (l *Bidirectional) inner() (recurrentLayer, error) {
	r, ok := l.Layer.Config.(recurrentLayer)
	if !ok {
		var names []string
		for _, n := range Layers.Names() {
			e, _ := Layers.Lookup(n)
			if _, ok := e.New().(recurrentLayer); ok {
				names = append(names, n)
			}
		}
		return nil, fmt.Errorf("bidirectional wraps a recurrent layer (%s), not %s", strings.Join(names, ", "), l.Layer.Kind)
	}
	return r, nil
}

// Validate checks that the wrapped layer is recurrent, and runs its own
// Validate (its initializers and regularizers).
func (l *Bidirectional) Validate() error {
	r, err := l.inner()
	if err != nil {
		return err
	}
	if v, ok := r.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s: %w", l.Layer.Kind, err)
		}
	}
	return nil
}

func (l *Bidirectional) OutputShape(in []int) ([]int, error) {
	r, err := l.inner()
	if err != nil {
		return nil, err
	}
	out, err := r.OutputShape(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Layer.Kind, err)
	}
	if l.MergeMode == "" || l.MergeMode == "concat" {
		out = append([]int(nil), out...)
		out[len(out)-1] *= 2
	}
	return out, nil
}

func (l *Bidirectional) Params(in []int) int {
	r, err := l.inner()
	if err != nil {
		return 0
	}
	return 2 * r.Params(in)
}

func (l *Bidirectional) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

// BuildMasked runs both copies over the steps the input's mask keeps.
// With return_sequences their outputs at masked steps are 0 (Keras sets
// zero_output_for_mask on the copies it wraps), and the output carries the
// input's mask.
func (l *Bidirectional) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	mask := maskOf(masks)
	r, err := l.inner()
	if err != nil {
		panic(err) // OutputShape refused it when the stack was compiled
	}
	// Each copy in its own scope; the backward one draws its initial
	// weights from a generator of its own.
	fwd, bwd := *b, *b
	fwd.Scope = b.Scope.In("forward_%s", l.Layer.Kind)
	bwd.Scope = b.Scope.In("backward_%s", l.Layer.Kind)
	bwd.Seed = b.Seed ^ hash("backward")
	yf, _ := r.BuildMasked(&fwd, xs, masks)
	yb, _ := r.reversed().(recurrentLayer).BuildMasked(&bwd, xs, masks)
	var outMask *graph.Node
	if r.returnsSequences() {
		yb = graph.Transpose(reverseTime(graph.Transpose(yb, 0, 1)), 0, 1)
		if mask != nil {
			m := graph.InsertAxes(maskAs(mask, yf.DType()), -1)
			yf, yb, outMask = graph.Mul(yf, m), graph.Mul(yb, m), mask
		}
	}
	switch l.MergeMode {
	case "sum":
		return graph.Add(yf, yb), outMask
	case "mul":
		return graph.Mul(yf, yb), outMask
	case "ave":
		return graph.MulScalar(graph.Add(yf, yb), 0.5), outMask
	}
	return graph.Concatenate([]*graph.Node{yf, yb}, -1), outMask
}
