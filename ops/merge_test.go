package ops

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// runMerge builds merge layer l on inputs a and b (batch 1) and returns its
// output.
func runMerge(t *testing.T, l Merge, a, b []float32, da, db []int) ([]float32, []int) {
	t.Helper()
	exec, err := model.NewExec(backend(t), model.NewStore(), func(s *model.Scope, x, y *graph.Node) *graph.Node {
		return l.BuildMerge(&Builder{Graph: x.Graph(), Scope: s.In("merge")}, []*graph.Node{x, y})
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(a, append([]int{1}, da...)...), tensors.FromFlatDataAndDimensions(b, append([]int{1}, db...)...))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out[0]), out[0].Shape().Dimensions[1:]
}

func newMerge(t *testing.T, kind string) Merge {
	t.Helper()
	l, ok := Layers.New(kind)
	if !ok {
		t.Fatalf("no layer %s", kind)
	}
	return l.(Merge)
}

func TestElementwiseMerges(t *testing.T) {
	a, b := []float32{1, -2, 3}, []float32{4, 5, -6}
	for kind, want := range map[string][]float32{
		"add":      {5, 3, -3},
		"subtract": {-3, -7, 9},
		"multiply": {4, -10, -18},
		"average":  {2.5, 1.5, -1.5},
		"maximum":  {4, 5, 3},
		"minimum":  {1, -2, -6},
	} {
		got, _ := runMerge(t, newMerge(t, kind), a, b, []int{3}, []int{3})
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s = %v, want %v", kind, got, want)
				break
			}
		}
	}
	if _, err := newMerge(t, "add").MergeShape([][]int{{3}, {4}}); err == nil || !strings.Contains(err.Error(), "(None, 3) and (None, 4) do not merge") {
		t.Errorf("add of unequal shapes: %v", err)
	}
	if _, err := newMerge(t, "subtract").MergeShape([][]int{{3}, {3}, {3}}); err == nil {
		t.Error("subtract of three inputs accepted")
	}
}

func TestConcatenate(t *testing.T) {
	c := &Concatenate{Axis: -1}
	out, err := c.MergeShape([][]int{{4, 4, 2}, {4, 4, 3}})
	if err != nil || out[2] != 5 {
		t.Fatalf("shape %v, %v", out, err)
	}
	if _, err := c.MergeShape([][]int{{4, 4, 2}, {4, 5, 3}}); err == nil || !strings.Contains(err.Error(), "axis 2 differs") {
		t.Errorf("mismatched concat: %v", err)
	}
	first := &Concatenate{Axis: 1}
	got, dims := runMerge(t, first, []float32{1, 2, 3, 4}, []float32{5, 6}, []int{2, 2}, []int{1, 2})
	if want := []float32{1, 2, 3, 4, 5, 6}; dims[0] != 3 || dims[1] != 2 || !equal(got, want) {
		t.Errorf("concat axis 1 = %v %v, want %v", got, dims, want)
	}
	if _, err := (&Concatenate{Axis: 0}).MergeShape([][]int{{2}, {2}}); err == nil {
		t.Error("the batch axis accepted")
	}
}

func TestDot(t *testing.T) {
	d := &Dot{Axes: []int{1}}
	got, dims := runMerge(t, d, []float32{1, 2, 3}, []float32{4, 5, 6}, []int{3}, []int{3})
	if len(dims) != 1 || dims[0] != 1 || got[0] != 32 {
		t.Errorf("dot = %v %v, want [32] of shape [1]", got, dims)
	}
	cos := &Dot{Axes: []int{1}, Normalize: true}
	got, _ = runMerge(t, cos, []float32{1, 0, 1}, []float32{0, 2, 2}, []int{3}, []int{3})
	if math.Abs(float64(got[0])-0.5) > 1e-6 {
		t.Errorf("cosine = %v, want 0.5", got[0])
	}
	if _, err := d.MergeShape([][]int{{3}, {4}}); err == nil {
		t.Error("dot of sizes 3 and 4 accepted")
	}
	// (2, 3) . (2, 4) along axis 1: a 3x4 matrix per example, Keras' shape.
	out, err := (&Dot{Axes: []int{1, 1}}).MergeShape([][]int{{2, 3}, {2, 4}})
	if err != nil || len(out) != 2 || out[0] != 3 || out[1] != 4 {
		t.Errorf("shape %v, %v", out, err)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
