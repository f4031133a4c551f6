package ops

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("zero_padding2d", "Adds rows and columns of zeros at the edges of (height, width, channels) examples, Keras' ZeroPadding2D.",
		func() Layer { return &ZeroPadding2D{Padding: Edges2{{1, 1}, {1, 1}}} })
	Layers.Register("cropping2d", "Removes rows and columns at the edges of (height, width, channels) examples, Keras' Cropping2D.",
		func() Layer { return &Cropping2D{} })
}

// ZeroPadding2D is Keras' ZeroPadding2D with channels last.
type ZeroPadding2D struct {
	Padding Edges2 `pipe:"padding" doc:"rows and columns added: 1 on every edge, [rows, columns] at both ends, or [[top, bottom], [left, right]]"`
}

func (l *ZeroPadding2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	p := l.Padding
	return []int{in[0] + p[0][0] + p[0][1], in[1] + p[1][0] + p[1][1], in[2]}, nil
}

func (*ZeroPadding2D) Params([]int) int { return 0 }

func (l *ZeroPadding2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	p := l.Padding
	return graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), compute.PadAxis{},
		compute.PadAxis{Start: p[0][0], End: p[0][1]}, compute.PadAxis{Start: p[1][0], End: p[1][1]}, compute.PadAxis{})
}

// Cropping2D is Keras' Cropping2D with channels last.
type Cropping2D struct {
	Cropping Edges2 `pipe:"cropping" doc:"rows and columns removed: 1 on every edge, [rows, columns] at both ends, or [[top, bottom], [left, right]]"`
}

func (l *Cropping2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	c := l.Cropping
	h, w := in[0]-c[0][0]-c[0][1], in[1]-c[1][0]-c[1][1]
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("cropping %s leaves nothing of the %dx%d input", c, in[0], in[1])
	}
	return []int{h, w, in[2]}, nil
}

func (*Cropping2D) Params([]int) int { return 0 }

func (l *Cropping2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	d, c := x.Shape().Dimensions, l.Cropping
	return graph.Slice(x, graph.AxisRange(), graph.AxisRange(c[0][0], d[1]-c[0][1]), graph.AxisRange(c[1][0], d[2]-c[1][1]), graph.AxisRange())
}
