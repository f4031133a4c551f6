package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPool1DShapes(t *testing.T) {
	two, three := 2, 3
	checkShapes(t, []shapeCase{
		{&MaxPool1D{Pool: 2, Padding: "valid"}, []int{9, 4}, []int{4, 4}, ""},
		{&MaxPool1D{Pool: 2, Padding: "same"}, []int{9, 4}, []int{5, 4}, ""},
		{&AveragePool1D{Pool: 3, Strides: &two, Padding: "valid"}, []int{9, 4}, []int{4, 4}, ""},
		{&AveragePool1D{Pool: 2, Strides: &three, Padding: "same"}, []int{10, 1}, []int{4, 1}, ""},
		{&AveragePool1D{Pool: 5, Padding: "valid"}, []int{4, 2}, nil, "pool 5 is longer than the 4 steps"},
		{&MaxPool1D{Pool: 2, Padding: "valid"}, []int{4, 4, 1}, nil, "needs examples of shape (timesteps, features), got 3 axes"},
		{&GlobalAveragePool1D{}, []int{7, 3}, []int{3}, ""},
		{&GlobalAveragePool1D{Keepdims: true}, []int{7, 3}, []int{1, 3}, ""},
		{&GlobalAveragePool1D{}, []int{7}, nil, "got 1 axes"},
	})
}

func TestPool1DValues(t *testing.T) {
	// Steps 0..4, one channel: same padding adds one step at the end, left
	// out of the last mean.
	y, dims, _ := runLayer(t, &AveragePool1D{Pool: 2, Padding: "same"}, false, ramp(5), []int{1, 5, 1}, nil)
	if want := []float32{0.5, 2.5, 4}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 3, 1}) {
		t.Errorf("average_pool1d same = %v %v, want %v [1 3 1]", y, dims, want)
	}
	y, _, _ = runLayer(t, &MaxPool1D{Pool: 2, Padding: "valid"}, false, []float32{3, 1, 4, 1, 5}, []int{1, 5, 1}, nil)
	if want := []float32{3, 4}; !slices.Equal(y, want) {
		t.Errorf("max_pool1d valid = %v, want %v", y, want)
	}
	y, dims, _ = runLayer(t, &GlobalAveragePool1D{Keepdims: true}, false, ramp(12), []int{2, 3, 2}, nil)
	if want := []float32{2, 3, 8, 9}; !slices.Equal(y, want) || !slices.Equal(dims, []int{2, 1, 2}) {
		t.Errorf("global_average_pool1d = %v %v, want %v [2 1 2]", y, dims, want)
	}
}

// TestPool1DMatchesReference checks the 1-D pools, output and input
// gradient, against the 2-D reference on one column.
func TestPool1DMatchesReference(t *testing.T) {
	const B, T, C = 2, 9, 3
	r := rand.New(rand.NewPCG(5, 6))
	x := randomF32(r, B*T*C, 1)
	for _, c := range []struct {
		pool, stride int
		padding      string
	}{{2, 2, "valid"}, {2, 2, "same"}, {3, 2, "same"}, {4, 1, "valid"}, {4, 3, "same"}} {
		for _, isMax := range []bool{true, false} {
			s := c.stride
			var l Layer = &AveragePool1D{Pool: c.pool, Strides: &s, Padding: c.padding}
			if isMax {
				l = &MaxPool1D{Pool: c.pool, Strides: &s, Padding: c.padding}
			}
			out, err := l.OutputShape([]int{T, C})
			if err != nil {
				t.Fatal(err)
			}
			rw := randomF32(r, B*out[0]*out[1], 1)
			y, _, dx := runLayer(t, l, true, x, []int{B, T, C}, rw)
			wantY, wantDx := refPool2D(x, [4]int{B, T, 1, C}, isMax, Size2{c.pool, 1}, Size2{c.stride, 1}, c.padding, rw)
			if d, i := maxDiff(y, wantY); d > 1e-5 {
				t.Errorf("%T%+v: y[%d] = %v, reference %v", l, c, i, y[i], wantY[i])
			}
			if d, i := maxDiff(dx, wantDx); d > 1e-5 {
				t.Errorf("%T%+v: dx[%d] = %v, reference %v", l, c, i, dx[i], wantDx[i])
			}
		}
	}
}
