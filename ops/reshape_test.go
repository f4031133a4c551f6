package ops

import (
	"slices"
	"testing"
)

func TestReshapeShapes(t *testing.T) {
	checkShapes(t, []shapeCase{
		{&Reshape{TargetShape: []int{7, 7, 64}}, []int{3136}, []int{7, 7, 64}, ""},
		{&Reshape{TargetShape: []int{-1, 4}}, []int{3, 4, 2}, []int{6, 4}, ""},
		{&Reshape{TargetShape: []int{-1}}, []int{3, 4, 2}, []int{24}, ""},
		{&Reshape{TargetShape: []int{5, -1}}, []int{24}, nil, "24 elements do not divide into axes of 5"},
		{&Reshape{TargetShape: []int{-1, -1}}, []int{24}, nil, "more than one -1"},
		{&Reshape{TargetShape: []int{4, 0}}, []int{24}, nil, "axis of size 0"},
		{&Reshape{TargetShape: []int{5, 5}}, []int{24}, nil, "holds more than the input's 24 elements"},
		{&Reshape{TargetShape: []int{2, 3}}, []int{24}, nil, "holds 6 elements, the input 24"},
		{&Reshape{TargetShape: []int{1 << 20, 1 << 20, 1 << 20}}, []int{24}, nil, "has an axis of 1048576"},
		{&Permute{Dims: []int{2, 1}}, []int{10, 4}, []int{4, 10}, ""},
		{&Permute{Dims: []int{3, 1, 2}}, []int{5, 6, 7}, []int{7, 5, 6}, ""},
		{&Permute{Dims: []int{2, 1}}, []int{5, 6, 7}, nil, "dims [2 1] orders 2 axes, examples have 3"},
		{&Permute{Dims: []int{1, 1}}, []int{5, 6}, nil, "not an order of the axes 1..2"},
		{&Permute{Dims: []int{0, 1}}, []int{5, 6}, nil, "not an order of the axes 1..2"},
		{&RepeatVector{N: 3}, []int{8}, []int{3, 8}, ""},
		{&RepeatVector{N: 3}, []int{8, 2}, nil, "needs a flat input"},
	})
}

func TestReshapeValues(t *testing.T) {
	y, dims, _ := runLayer(t, &Reshape{TargetShape: []int{-1, 3}}, false, ramp(12), []int{2, 2, 3}, nil)
	if !slices.Equal(y, ramp(12)) || !slices.Equal(dims, []int{2, 2, 3}) {
		t.Errorf("reshape [-1, 3] = %v %v", y, dims)
	}
	// (2, 3) -> (3, 2): the transpose of each example.
	y, dims, dx := runLayer(t, &Permute{Dims: []int{2, 1}}, true, ramp(12), []int{2, 2, 3}, ramp(12))
	if want := []float32{0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11}; !slices.Equal(y, want) || !slices.Equal(dims, []int{2, 3, 2}) {
		t.Errorf("permute [2, 1] = %v %v, want %v [2 3 2]", y, dims, want)
	}
	if want := []float32{0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11}; !slices.Equal(dx, want) {
		t.Errorf("permute gradient = %v, want %v", dx, want)
	}
	y, dims, dx = runLayer(t, &RepeatVector{N: 3}, true, []float32{1, 2, 3, 4}, []int{2, 2}, ramp(12))
	if want := []float32{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}; !slices.Equal(y, want) || !slices.Equal(dims, []int{2, 3, 2}) {
		t.Errorf("repeat_vector 3 = %v %v, want %v [2 3 2]", y, dims, want)
	}
	if want := []float32{0 + 2 + 4, 1 + 3 + 5, 6 + 8 + 10, 7 + 9 + 11}; !slices.Equal(dx, want) {
		t.Errorf("repeat_vector gradient = %v, want %v", dx, want)
	}
}
