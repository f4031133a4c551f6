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
	yf := r.Build(&fwd, x)
	yb := r.reversed().Build(&bwd, x)
	if r.returnsSequences() {
		yb = graph.Transpose(reverseTime(graph.Transpose(yb, 0, 1)), 0, 1)
	}
	switch l.MergeMode {
	case "sum":
		return graph.Add(yf, yb)
	case "mul":
		return graph.Mul(yf, yb)
	case "ave":
		return graph.MulScalar(graph.Add(yf, yb), 0.5)
	}
	return graph.Concatenate([]*graph.Node{yf, yb}, -1)
}
