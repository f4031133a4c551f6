package ops

import (
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

func yamlNode(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func TestEdges2Decode(t *testing.T) {
	for src, want := range map[string]Edges2{
		"2":                {{2, 2}, {2, 2}},
		"[1, 3]":           {{1, 1}, {3, 3}},
		"[[1, 0], [2, 3]]": {{1, 0}, {2, 3}},
		"[[1, 0], 4]":      {{1, 0}, {4, 4}},
	} {
		var e Edges2
		if err := e.DecodeNode(yamlNode(t, src)); err != nil || e != want {
			t.Errorf("%s: decoded %v, %v; want %v", src, e, err, want)
		}
	}
	for _, src := range []string{"-1", "1.5", "[1, 2, 3]", "[[1, 2, 3], 1]", "{top: 1}", "[[1, -2], 0]", "abc"} {
		var e Edges2
		if err := e.DecodeNode(yamlNode(t, src)); err == nil {
			t.Errorf("%s: decoded %v, want an error", src, e)
		}
	}
	// What encoding writes, decoding reads back.
	var e Edges2
	if err := e.DecodeNode(yamlNode(t, Edges2{{1, 0}, {2, 3}}.String())); err != nil || e != (Edges2{{1, 0}, {2, 3}}) {
		t.Errorf("round trip: %v, %v", e, err)
	}
}

func TestPadding2DShapes(t *testing.T) {
	checkShapes(t, []shapeCase{
		{&ZeroPadding2D{Padding: Edges2{{1, 1}, {1, 1}}}, []int{28, 28, 1}, []int{30, 30, 1}, ""},
		{&ZeroPadding2D{Padding: Edges2{{1, 0}, {2, 3}}}, []int{4, 5, 2}, []int{5, 10, 2}, ""},
		{&ZeroPadding2D{}, []int{4, 5}, nil, "got 2 axes"},
		{&Cropping2D{Cropping: Edges2{{1, 0}, {2, 3}}}, []int{4, 6, 2}, []int{3, 1, 2}, ""},
		{&Cropping2D{}, []int{4, 6, 2}, []int{4, 6, 2}, ""},
		{&Cropping2D{Cropping: Edges2{{1, 0}, {3, 3}}}, []int{4, 6, 2}, nil, "cropping [[1, 0], [3, 3]] leaves nothing of the 4x6 input"},
	})
}

func TestPadding2DValues(t *testing.T) {
	// 1 2      0 0 0 0 0
	// 3 4  ->  0 1 2 0 0   one row on top, one column left, two right
	y, dims, _ := runLayer(t, &ZeroPadding2D{Padding: Edges2{{1, 0}, {1, 2}}}, false, []float32{1, 2, 3, 4}, []int{1, 2, 2, 1}, nil)
	if want := []float32{0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 4, 0, 0}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 3, 5, 1}) {
		t.Errorf("zero_padding2d = %v %v, want %v [1 3 5 1]", y, dims, want)
	}
	// Rows 1..2 and columns 1..2 of a 4x4 ramp; the gradient lands there.
	y, dims, dx := runLayer(t, &Cropping2D{Cropping: Edges2{{1, 1}, {1, 2}}}, true, ramp(16), []int{1, 4, 4, 1}, []float32{1, 2})
	if want := []float32{5, 9}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 2, 1, 1}) {
		t.Errorf("cropping2d = %v %v, want %v [1 2 1 1]", y, dims, want)
	}
	if want := []float32{0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0}; !slices.Equal(dx, want) {
		t.Errorf("cropping2d gradient = %v, want %v", dx, want)
	}
}
