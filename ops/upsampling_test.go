package ops

import (
	"slices"
	"testing"
)

func TestUpSamplingShapes(t *testing.T) {
	checkShapes(t, []shapeCase{
		{&UpSampling2D{Size: Size2{2, 3}}, []int{2, 3, 4}, []int{4, 9, 4}, ""},
		{&UpSampling2D{Size: Size2{2, 2}}, []int{6, 4}, nil, "got 2 axes"},
		{&UpSampling1D{Size: 3}, []int{5, 2}, []int{15, 2}, ""},
		{&UpSampling1D{Size: 2}, []int{6}, nil, "got 1 axes"},
	})
}

func TestUpSampling2DNearest(t *testing.T) {
	y, dims, dx := runLayer(t, &UpSampling2D{Size: Size2{2, 2}, Interpolation: "nearest"}, true,
		[]float32{1, 2, 3, 4}, []int{1, 2, 2, 1}, ramp(16))
	want := []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}
	if !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 4, 4, 1}) {
		t.Errorf("nearest x2 = %v %v, want %v", y, dims, want)
	}
	// Each input gets the weights of its 2x2 copies: 0+1+4+5, ...
	if want := []float32{10, 18, 42, 50}; !slices.Equal(dx, want) {
		t.Errorf("gradient %v, want %v", dx, want)
	}
}

// TestUpSampling2DBilinear checks against values computed once with
// PyTorch, torch.nn.functional.interpolate(x, scale_factor=(2, 3),
// mode="bilinear", align_corners=False) on the NCHW tensor
// [[1, 2, 4], [3, 5, 9]], which is tf.image.resize's bilinear (half-pixel
// centres) for whole factors.
func TestUpSampling2DBilinear(t *testing.T) {
	x := []float32{1, 2, 4, 3, 5, 9, -1, -2, -4, -3, -5, -9} // two channels, the second negated
	// channels last: [1, 2, 3, 2]
	xl := make([]float32, 12)
	for i := range 6 {
		xl[2*i], xl[2*i+1] = x[i], x[6+i]
	}
	torch := []float32{
		1.0, 1.0, 1.3333333730697632, 1.6666667461395264, 2.0, 2.6666667461395264, 3.3333334922790527, 4.0, 4.0,
		1.5, 1.5, 1.9166667461395264, 2.3333332538604736, 2.75, 3.5833334922790527, 4.4166669845581055, 5.25, 5.25,
		2.5, 2.5, 3.0833334922790527, 3.6666665077209473, 4.25, 5.4166669845581055, 6.583333492279053, 7.75, 7.75,
		3.0, 3.0, 3.6666667461395264, 4.333333492279053, 5.0, 6.333333492279053, 7.6666669845581055, 9.0, 9.0,
	}
	ones := make([]float32, 4*9*2)
	for i := range ones {
		ones[i] = 1
	}
	y, dims, dx := runLayer(t, &UpSampling2D{Size: Size2{2, 3}, Interpolation: "bilinear"}, true, xl, []int{1, 2, 3, 2}, ones)
	if !slices.Equal(dims, []int{1, 4, 9, 2}) {
		t.Fatalf("bilinear [2, 3] on (2, 3, 2) gave %v", dims)
	}
	for i, v := range torch {
		if d := y[2*i] - v; d > 1e-5 || d < -1e-5 {
			t.Errorf("channel 0, output %d = %v, PyTorch %v", i, y[2*i], v)
		}
		if d := y[2*i+1] + v; d > 1e-5 || d < -1e-5 {
			t.Errorf("channel 1, output %d = %v, want %v", i, y[2*i+1], -v)
		}
	}
	// Each output is a weighted mean of inputs: the weights that reach the
	// inputs sum to the number of outputs, per channel.
	var sum float32
	for i := 0; i < len(dx); i += 2 {
		sum += dx[i]
	}
	if sum < 36-1e-4 || sum > 36+1e-4 {
		t.Errorf("gradients of one channel sum to %v, want 36", sum)
	}
}

func TestUpSampling1D(t *testing.T) {
	y, dims, _ := runLayer(t, &UpSampling1D{Size: 3}, false, []float32{1, 10, 2, 20}, []int{1, 2, 2}, nil)
	if want := []float32{1, 10, 1, 10, 1, 10, 2, 20, 2, 20, 2, 20}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 6, 2}) {
		t.Errorf("upsampling1d 3 = %v %v, want %v [1 6 2]", y, dims, want)
	}
}
