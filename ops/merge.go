package ops

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	for _, m := range []struct {
		name, doc string
		fn        func(a, b *graph.Node) *graph.Node
	}{
		{"add", "Adds its inputs element-wise (Keras' Add): the join of a residual connection.", graph.Add},
		{"subtract", "Subtracts its second input from its first (Keras' Subtract).", graph.Sub},
		{"multiply", "Multiplies its inputs element-wise (Keras' Multiply).", graph.Mul},
		{"average", "Averages its inputs element-wise (Keras' Average).", graph.Add},
		{"maximum", "Takes the element-wise maximum of its inputs (Keras' Maximum).", graph.Max},
		{"minimum", "Takes the element-wise minimum of its inputs (Keras' Minimum).", graph.Min},
	} {
		Layers.Register(m.name, m.doc+" Inputs of equal shapes; name them with inputs: [a, b].",
			func() Layer { return &Elementwise{kind: m.name, fn: m.fn} })
	}
	Layers.Register("concatenate", "Joins its inputs along an axis (Keras' Concatenate); the other axes must agree.",
		func() Layer { return &Concatenate{Axis: -1} })
	Layers.Register("dot", "Dot product of two inputs along an axis of each (Keras' Dot), e.g. a user and an item embedding; normalize: true makes it the cosine.",
		func() Layer { return &Dot{} })
}

// single is the Layer side of a merge: a merge reads several inputs, so
// the one-input methods only say so (Graph calls MergeShape and BuildMerge).
type single struct{ kind string }

func (s single) OutputShape([]int) ([]int, error) {
	return nil, fmt.Errorf("%s merges several inputs; name them with inputs: [a, b]", s.kind)
}
func (single) Params([]int) int { return 0 }
func (single) Build(_ *Builder, x *graph.Node) *graph.Node {
	panic("ops: a merge layer built on one input; Graph checks that it has several")
}

// Elementwise merges inputs of one shape with an element-wise function.
type Elementwise struct {
	kind string
	fn   func(a, b *graph.Node) *graph.Node
}

func (l *Elementwise) OutputShape(in []int) ([]int, error) { return single{l.kind}.OutputShape(in) }
func (*Elementwise) Params([]int) int                      { return 0 }
func (l *Elementwise) Build(b *Builder, x *graph.Node) *graph.Node {
	return single{l.kind}.Build(b, x)
}

func (l *Elementwise) MergeShape(ins [][]int) ([]int, error) {
	if l.kind == "subtract" && len(ins) != 2 {
		return nil, fmt.Errorf("subtract takes exactly 2 inputs, got %d", len(ins))
	}
	for _, s := range ins[1:] {
		if !slices.Equal(s, ins[0]) {
			return nil, fmt.Errorf("inputs of shapes %s and %s do not merge: %s needs equal shapes", FormatShape(ins[0]), FormatShape(s), l.kind)
		}
	}
	return ins[0], nil
}

func (l *Elementwise) BuildMerge(_ *Builder, xs []*graph.Node) *graph.Node {
	y := xs[0]
	for _, x := range xs[1:] {
		y = l.fn(y, x)
	}
	if l.kind == "average" {
		y = graph.DivScalar(y, float64(len(xs)))
	}
	return y
}

// Concatenate is Keras' Concatenate.
type Concatenate struct {
	Axis int `pipe:"axis" doc:"the axis to join along, counted as Keras does: -1 the last, 1 the first after the batch axis"`
}

func (l *Concatenate) OutputShape(in []int) ([]int, error) {
	return single{"concatenate"}.OutputShape(in)
}
func (*Concatenate) Params([]int) int { return 0 }
func (l *Concatenate) Build(b *Builder, x *graph.Node) *graph.Node {
	return single{"concatenate"}.Build(b, x)
}

// KerasAxis resolves a Keras axis (batch axis 0, negative from the end)
// on examples of rank n to an axis of one example (the exporter reads
// layers' axes with it too).
func KerasAxis(axis, n int) (int, error) {
	a := axis - 1
	if axis < 0 {
		a = n + axis
	}
	if axis == 0 || a < 0 || a >= n {
		return 0, fmt.Errorf("axis %d is not an axis of examples of rank %d (the batch axis 0 cannot be used)", axis, n)
	}
	return a, nil
}

func (l *Concatenate) MergeShape(ins [][]int) ([]int, error) {
	a, err := KerasAxis(l.Axis, len(ins[0]))
	if err != nil {
		return nil, err
	}
	out := slices.Clone(ins[0])
	for _, s := range ins[1:] {
		if len(s) != len(ins[0]) {
			return nil, fmt.Errorf("inputs of shapes %s and %s do not concatenate: their ranks differ", FormatShape(ins[0]), FormatShape(s))
		}
		for i := range s {
			if i != a && s[i] != ins[0][i] {
				return nil, fmt.Errorf("inputs of shapes %s and %s do not concatenate on axis %d: axis %d differs", FormatShape(ins[0]), FormatShape(s), l.Axis, i+1)
			}
		}
		out[a] += s[a]
	}
	return out, nil
}

func (l *Concatenate) BuildMerge(_ *Builder, xs []*graph.Node) *graph.Node {
	a, _ := KerasAxis(l.Axis, xs[0].Rank()-1)
	return graph.Concatenate(xs, a+1)
}

// Dot is Keras' Dot on two inputs.
type Dot struct {
	Axes      []int `pipe:"axes,required" doc:"the axis of each input to multiply along (Keras counts the batch axis as 0): one for both, or one per input"`
	Normalize bool  `pipe:"normalize" doc:"L2-normalise both inputs along their axes first, so the result is the cosine similarity"`
}

func (l *Dot) OutputShape(in []int) ([]int, error) { return single{"dot"}.OutputShape(in) }
func (*Dot) Params([]int) int                      { return 0 }
func (l *Dot) Build(b *Builder, x *graph.Node) *graph.Node {
	return single{"dot"}.Build(b, x)
}

// axes resolves the two inputs' contracting axes (of one example).
func (l *Dot) axes(ins [][]int) (int, int, error) {
	if len(ins) != 2 {
		return 0, 0, fmt.Errorf("dot takes exactly 2 inputs, got %d", len(ins))
	}
	if len(l.Axes) < 1 || len(l.Axes) > 2 {
		return 0, 0, fmt.Errorf("axes gives one axis for both inputs or one per input, got %d", len(l.Axes))
	}
	a0, a1 := l.Axes[0], l.Axes[len(l.Axes)-1]
	x, err := KerasAxis(a0, len(ins[0]))
	if err != nil {
		return 0, 0, err
	}
	y, err := KerasAxis(a1, len(ins[1]))
	return x, y, err
}

func (l *Dot) MergeShape(ins [][]int) ([]int, error) {
	a, b, err := l.axes(ins)
	if err != nil {
		return nil, err
	}
	if ins[0][a] != ins[1][b] {
		return nil, fmt.Errorf("inputs of shapes %s and %s do not dot along axes %v: sizes %d and %d differ", FormatShape(ins[0]), FormatShape(ins[1]), l.Axes, ins[0][a], ins[1][b])
	}
	out := slices.Concat(slices.Delete(slices.Clone(ins[0]), a, a+1), slices.Delete(slices.Clone(ins[1]), b, b+1))
	if len(out) == 0 {
		out = []int{1} // Keras keeps one axis for the dot of two vectors
	}
	return out, nil
}

func (l *Dot) BuildMerge(_ *Builder, xs []*graph.Node) *graph.Node {
	ins := [][]int{xs[0].Shape().Dimensions[1:], xs[1].Shape().Dimensions[1:]}
	a, b, _ := l.axes(ins)
	x, y := xs[0], xs[1]
	if l.Normalize {
		x, y = l2Normalize(x, a+1), l2Normalize(y, b+1)
	}
	out := graph.DotGeneral(x, []int{a + 1}, []int{0}, y, []int{b + 1}, []int{0})
	if out.Rank() == 1 {
		out = graph.Reshape(out, out.Shape().Dimensions[0], 1)
	}
	return out
}

// l2Normalize divides x by its L2 norm along axis, as Keras'
// l2_normalize does (with its epsilon 1e-12 on the squared norm). Div by
// Sqrt: GoMLX's Rsqrt has no gradient.
func l2Normalize(x *graph.Node, axis int) *graph.Node {
	sq := graph.ReduceAndKeep(graph.Square(x), graph.ReduceSum, axis)
	return graph.Div(x, graph.Sqrt(graph.Max(sq, graph.Scalar(x.Graph(), x.DType(), 1e-12))))
}

// BuildMasked joins the masks along the time axis when the inputs are
// joined along it (an input without a mask counts as all true), and ANDs
// them otherwise (Keras' Concatenate.compute_mask).
func (l *Concatenate) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	y := l.BuildMerge(b, xs)
	if andMasks(masks) == nil || y.Rank() < 3 {
		return y, nil
	}
	if a, _ := KerasAxis(l.Axis, xs[0].Rank()-1); a != 0 {
		return y, andMasks(masks)
	}
	parts := make([]*graph.Node, len(xs))
	for i, m := range masks {
		if m == nil {
			d := xs[i].Shape().Dimensions
			m = graph.BroadcastToDims(graph.Const(b.Graph, true), d[0], d[1])
		}
		parts[i] = m
	}
	return y, graph.Concatenate(parts, 1)
}

// BuildMasked drops the masks: the dot product has no time axis left to
// mask (Keras' Dot).
func (l *Dot) BuildMasked(b *Builder, xs, _ []*graph.Node) (*graph.Node, *graph.Node) {
	return l.BuildMerge(b, xs), nil
}
