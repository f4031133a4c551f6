package ops

import (
	"math"
	"slices"
	"testing"
)

func TestNoiseShapes(t *testing.T) {
	checkShapes(t, []shapeCase{
		{&SpatialDropout2D{Rate: 0.5}, []int{4, 5, 6}, []int{4, 5, 6}, ""},
		{&SpatialDropout2D{Rate: 0.5}, []int{4, 5}, nil, "got 2 axes"},
		{&SpatialDropout1D{Rate: 0.5}, []int{4, 5}, []int{4, 5}, ""},
		{&SpatialDropout1D{Rate: 0.5}, []int{4, 5, 6}, nil, "got 3 axes"},
		{&GaussianNoise{Stddev: 1}, []int{3}, []int{3}, ""},
	})
}

// TestSpatialDropout checks that evaluation leaves x alone and that
// training keeps or drops each channel of an example whole, the kept ones
// scaled by 1/(1-rate), about rate of them dropped.
func TestSpatialDropout(t *testing.T) {
	const rate = 0.25
	for _, c := range []struct {
		l    Layer
		dims []int
	}{{&SpatialDropout2D{Rate: rate}, []int{8, 3, 4, 64}}, {&SpatialDropout1D{Rate: rate}, []int{8, 12, 64}}} {
		n := 1
		for _, d := range c.dims {
			n *= d
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = 1 + float32(i%7)
		}
		if y, _, _ := runLayer(t, c.l, false, x, c.dims, nil); !slices.Equal(y, x) {
			t.Errorf("%T at evaluation changed its input", c.l)
		}
		y, _, _ := runLayer(t, c.l, true, x, c.dims, nil)
		B, C := c.dims[0], c.dims[len(c.dims)-1]
		steps := n / (B * C)
		dropped := 0
		for b := range B {
			for ch := range C {
				kept, zero := 0, 0
				for s := range steps {
					i := (b*steps+s)*C + ch
					switch {
					case y[i] == 0:
						zero++
					case math.Abs(float64(y[i])-float64(x[i])/(1-rate)) < 1e-5:
						kept++
					default:
						t.Fatalf("%T: y[%d] = %v from %v, neither 0 nor scaled by 1/(1-%v)", c.l, i, y[i], x[i], rate)
					}
				}
				if kept != steps && zero != steps {
					t.Fatalf("%T: example %d channel %d has %d kept and %d dropped cells, want one or the other", c.l, b, ch, kept, zero)
				}
				if zero == steps {
					dropped++
				}
			}
		}
		// 512 channels: the fraction dropped has a standard deviation of 0.019.
		if f := float64(dropped) / float64(B*C); math.Abs(f-rate) > 0.08 {
			t.Errorf("%T dropped %.3f of the channels, want about %v", c.l, f, rate)
		}
	}
}

func TestGaussianNoise(t *testing.T) {
	const n, stddev = 20000, 0.5
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i % 3)
	}
	l := &GaussianNoise{Stddev: stddev}
	if y, _, _ := runLayer(t, l, false, x, []int{100, n / 100}, nil); !slices.Equal(y, x) {
		t.Error("gaussian_noise at evaluation changed its input")
	}
	y, _, dx := runLayer(t, l, true, x, []int{100, n / 100}, ramp(n))
	var sum, sq float64
	for i := range y {
		d := float64(y[i] - x[i])
		sum += d
		sq += d * d
	}
	mean := sum / n
	std := math.Sqrt(sq/n - mean*mean)
	// The mean's standard error is 0.0035; the std's about 0.0025.
	if math.Abs(mean) > 0.02 || math.Abs(std-stddev) > 0.02 {
		t.Errorf("noise has mean %.4f and std %.4f, want 0 and %v", mean, std, stddev)
	}
	if !slices.Equal(dx, ramp(n)) {
		t.Error("gaussian_noise's gradient is not the identity")
	}
}
