package ops

import (
	"slices"
	"testing"
)

func TestEdges1Decode(t *testing.T) {
	for src, want := range map[string]Edges1{"0": {0, 0}, "3": {3, 3}, "[2, 0]": {2, 0}} {
		var e Edges1
		if err := e.DecodeNode(yamlNode(t, src)); err != nil || e != want {
			t.Errorf("%s: decoded %v, %v; want %v", src, e, err, want)
		}
	}
	for _, src := range []string{"-1", "[1]", "[1, 2, 3]", "[[1, 2], 1]", "true"} {
		var e Edges1
		if err := e.DecodeNode(yamlNode(t, src)); err == nil {
			t.Errorf("%s: decoded %v, want an error", src, e)
		}
	}
}

func TestPadding1D(t *testing.T) {
	checkShapes(t, []shapeCase{
		{&ZeroPadding1D{Padding: Edges1{1, 2}}, []int{5, 3}, []int{8, 3}, ""},
		{&ZeroPadding1D{}, []int{5}, nil, "got 1 axes"},
		{&Cropping1D{Cropping: Edges1{1, 1}}, []int{5, 3}, []int{3, 3}, ""},
		{&Cropping1D{Cropping: Edges1{3, 2}}, []int{5, 3}, nil, "cropping [3, 2] leaves nothing of the 5 steps"},
	})
	y, dims, _ := runLayer(t, &ZeroPadding1D{Padding: Edges1{1, 2}}, false, []float32{1, 10, 2, 20}, []int{1, 2, 2}, nil)
	if want := []float32{0, 0, 1, 10, 2, 20, 0, 0, 0, 0}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 5, 2}) {
		t.Errorf("zero_padding1d = %v %v, want %v [1 5 2]", y, dims, want)
	}
	y, dims, _ = runLayer(t, &Cropping1D{Cropping: Edges1{2, 1}}, false, ramp(5), []int{1, 5, 1}, nil)
	if want := []float32{2, 3}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 2, 1}) {
		t.Errorf("cropping1d = %v %v, want %v [1 2 1]", y, dims, want)
	}
}
