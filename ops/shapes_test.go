package ops

import (
	"slices"
	"strings"
	"testing"
)

// shapeCase is a layer without weights on examples of shape in: the
// output shape it gives, or part of the error it gives.
type shapeCase struct {
	l    Layer
	in   []int
	want []int  // OutputShape(in) when err is ""
	err  string // part of OutputShape's error; "" for none
}

// checkShapes checks each case's OutputShape, and that the layer has no
// parameters.
func checkShapes(t *testing.T, cases []shapeCase) {
	t.Helper()
	for _, c := range cases {
		out, err := c.l.OutputShape(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%T%+v on %v: error %v, want one containing %q", c.l, c.l, c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(out, c.want) || c.l.Params(c.in) != 0 {
			t.Errorf("%T%+v on %v: OutputShape = %v, %v; want %v and no params", c.l, c.l, c.in, out, err, c.want)
		}
	}
}
