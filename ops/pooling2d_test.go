package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// runLayer builds l on x (dims with the batch axis first) in training or
// inference mode and returns its output and the output's dimensions; with
// w, also the gradient of sum(y·w) with respect to x.
func runLayer(t *testing.T, l Layer, training bool, x []float32, dims []int, w []float32) (y []float32, ydims []int, dx []float32) {
	t.Helper()
	exec, err := model.NewExec(backend(t), model.NewStore(), func(s *model.Scope, xn *graph.Node) []*graph.Node {
		g := xn.Graph()
		s.SetTraining(g, training)
		y := l.Build(&Builder{Graph: g, Scope: s.In("layer"), Training: training, Seed: 1}, xn)
		if w == nil {
			return []*graph.Node{y}
		}
		wn := graph.Const(g, tensors.FromFlatDataAndDimensions(w, y.Shape().Dimensions...))
		return []*graph.Node{y, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, wn)), xn)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, dims...))
	if err != nil {
		t.Fatal(err)
	}
	y, ydims = tensors.MustCopyFlatData[float32](out[0]), out[0].Shape().Dimensions
	if w != nil {
		dx = tensors.MustCopyFlatData[float32](out[1])
	}
	return y, ydims, dx
}

// ramp is 0, 1, 2, ... n-1.
func ramp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)
	}
	return x
}

func close32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

func TestPool2DShapes(t *testing.T) {
	two := Size2{2, 2}
	checkShapes(t, []shapeCase{
		{&AveragePool2D{Pool: two, Padding: "valid"}, []int{28, 28, 3}, []int{14, 14, 3}, ""},
		{&AveragePool2D{Pool: Size2{3, 3}, Padding: "valid"}, []int{7, 8, 2}, []int{2, 2, 2}, ""},
		{&AveragePool2D{Pool: Size2{3, 3}, Strides: &Size2{2, 1}, Padding: "same"}, []int{7, 8, 2}, []int{4, 8, 2}, ""},
		{&MaxPool2D{Pool: Size2{3, 3}, Strides: &two, Padding: "valid"}, []int{7, 7, 1}, []int{3, 3, 1}, ""},
		{&AveragePool2D{Pool: Size2{3, 2}, Padding: "valid"}, []int{2, 8, 1}, nil, "pool [3, 2] is larger than the 2x8 input"},
		{&AveragePool2D{Pool: two, Padding: "valid"}, []int{8, 8}, nil, "needs examples of shape (height, width, channels), got 2 axes"},
		{&GlobalAveragePool2D{}, []int{5, 6, 7}, []int{7}, ""},
		{&GlobalAveragePool2D{Keepdims: true}, []int{5, 6, 7}, []int{1, 1, 7}, ""},
		{&GlobalMaxPool2D{}, []int{5, 6, 7}, []int{7}, ""},
		{&GlobalMaxPool2D{Keepdims: true}, []int{5, 6, 7}, []int{1, 1, 7}, ""},
		{&GlobalMaxPool2D{}, []int{10, 4}, nil, "got 2 axes"},
	})
}

// TestAveragePool2DValues checks hand-computed means: 2x2 tiles of a 4x4
// ramp, and same padding on a 3x3 ramp, where the padded cells are left
// out of the mean (count_include_pad=False, as TensorFlow's avg_pool).
func TestAveragePool2DValues(t *testing.T) {
	y, dims, _ := runLayer(t, &AveragePool2D{Pool: Size2{2, 2}, Padding: "valid"}, false, ramp(16), []int{1, 4, 4, 1}, nil)
	if want := []float32{2.5, 4.5, 10.5, 12.5}; !slices.Equal(y, want) || !slices.Equal(dims, []int{1, 2, 2, 1}) {
		t.Errorf("2x2 pool of a 4x4 ramp = %v %v, want %v", y, dims, want)
	}
	// 0 1 2      the windows: rows {0,1} {2}, columns {0,1} {2} (padding after)
	// 3 4 5      (0+1+3+4)/4  (2+5)/2
	// 6 7 8      (6+7)/2      8
	y, _, dx := runLayer(t, &AveragePool2D{Pool: Size2{2, 2}, Padding: "same"}, true, ramp(9), []int{1, 3, 3, 1}, []float32{1, 1, 1, 1})
	if want := []float32{2, 3.5, 6.5, 8}; !slices.Equal(y, want) {
		t.Errorf("same 2x2 pool of a 3x3 ramp = %v, want %v", y, want)
	}
	if want := []float32{.25, .25, .5, .25, .25, .5, .5, .5, 1}; !slices.Equal(dx, want) {
		t.Errorf("its gradient = %v, want %v", dx, want)
	}
	// Overlapping windows: pool 3, stride 2, same on 4x4 pads one row and
	// column after (TensorFlow's split): windows rows {0,1,2} {2,3}.
	y, _, _ = runLayer(t, &AveragePool2D{Pool: Size2{3, 3}, Strides: &Size2{2, 2}, Padding: "same"}, false, ramp(16), []int{1, 4, 4, 1}, nil)
	if want := []float32{5, 6.5, 11, 12.5}; !close32(y, want, 1e-6) {
		t.Errorf("same 3x3 stride 2 pool of a 4x4 ramp = %v, want %v", y, want)
	}
}

// TestMaxPool2DSamePadsAsKeras: with pool 3, stride 2 and same padding on
// 4x4, TensorFlow pads one row and column at the end only, so the windows
// are rows {0,1,2} and {2,3}; GoMLX's PadSame pads one on each side
// (windows {-1,0,1}, {1,2,3}: maxima 5, 7, 13, 15).
func TestMaxPool2DSamePadsAsKeras(t *testing.T) {
	s := Size2{2, 2}
	y, _, _ := runLayer(t, &MaxPool2D{Pool: Size2{3, 3}, Strides: &s, Padding: "same"}, false, ramp(16), []int{1, 4, 4, 1}, nil)
	if want := []float32{10, 11, 14, 15}; !slices.Equal(y, want) {
		t.Errorf("same 3x3 stride 2 max pool of a 4x4 ramp = %v, want %v", y, want)
	}
	// Tiles with padding: pool 2 on 3x3, padded after with -inf.
	neg := ramp(9)
	for i := range neg {
		neg[i] = -neg[i] - 1
	}
	y, _, _ = runLayer(t, &MaxPool2D{Pool: Size2{2, 2}, Padding: "same"}, false, neg, []int{1, 3, 3, 1}, nil)
	if want := []float32{-1, -3, -7, -9}; !slices.Equal(y, want) {
		t.Errorf("same 2x2 max pool of a negative 3x3 ramp = %v, want %v (padding must never win)", y, want)
	}
}

// refPool2D is plain-Go pooling of x [b, h, w, c] with TensorFlow's
// padding, and the gradient of sum(y·r) with respect to x.
func refPool2D(x []float32, dims [4]int, isMax bool, pool, stride Size2, padding string, r []float32) (y, dx []float64) {
	B, H, W, C := dims[0], dims[1], dims[2], dims[3]
	oh, ow := windowOut(H, pool[0], stride[0], padding), windowOut(W, pool[1], stride[1], padding)
	top, left := 0, 0
	if padding == "same" {
		top = samePads(H, oh, pool[0], stride[0]).Start
		left = samePads(W, ow, pool[1], stride[1]).Start
	}
	y, dx = make([]float64, B*oh*ow*C), make([]float64, len(x))
	for b := range B {
		for i := range oh {
			for j := range ow {
				for c := range C {
					o := ((b*oh+i)*ow+j)*C + c
					var cells []int
					for u := range pool[0] {
						for v := range pool[1] {
							p, q := i*stride[0]+u-top, j*stride[1]+v-left
							if p >= 0 && p < H && q >= 0 && q < W {
								cells = append(cells, ((b*H+p)*W+q)*C+c)
							}
						}
					}
					if isMax {
						best := cells[0]
						for _, k := range cells {
							if x[k] > x[best] {
								best = k
							}
						}
						y[o] = float64(x[best])
						dx[best] += float64(r[o])
						continue
					}
					for _, k := range cells {
						y[o] += float64(x[k]) / float64(len(cells))
						dx[k] += float64(r[o]) / float64(len(cells))
					}
				}
			}
		}
	}
	return y, dx
}

// TestPool2DMatchesReference checks max and average pooling, output and
// input gradient, against plain Go for tiled and overlapping windows,
// valid and same.
func TestPool2DMatchesReference(t *testing.T) {
	const B, H, W, C = 2, 7, 6, 3
	r := rand.New(rand.NewPCG(3, 4))
	x := randomF32(r, B*H*W*C, 1)
	for _, c := range []struct {
		pool, stride Size2
		padding      string
	}{
		{Size2{2, 2}, Size2{2, 2}, "valid"}, {Size2{2, 2}, Size2{2, 2}, "same"}, {Size2{3, 2}, Size2{3, 2}, "same"},
		{Size2{3, 3}, Size2{2, 2}, "valid"}, {Size2{3, 3}, Size2{2, 2}, "same"}, {Size2{2, 3}, Size2{1, 2}, "same"},
		{Size2{4, 4}, Size2{3, 3}, "same"},
	} {
		for _, isMax := range []bool{true, false} {
			var l Layer = &AveragePool2D{Pool: c.pool, Strides: &c.stride, Padding: c.padding}
			if isMax {
				l = &MaxPool2D{Pool: c.pool, Strides: &c.stride, Padding: c.padding}
			}
			out, err := l.OutputShape([]int{H, W, C})
			if err != nil {
				t.Fatal(err)
			}
			rw := randomF32(r, B*data3(out), 1)
			y, dims, dx := runLayer(t, l, true, x, []int{B, H, W, C}, rw)
			if !slices.Equal(dims[1:], out) {
				t.Errorf("%T%+v: built %v, OutputShape %v", l, l, dims, out)
			}
			wantY, wantDx := refPool2D(x, [4]int{B, H, W, C}, isMax, c.pool, c.stride, c.padding, rw)
			if d, i := maxDiff(y, wantY); d > 1e-5 {
				t.Errorf("%T pool %v stride %v %s: y[%d] = %v, reference %v", l, c.pool, c.stride, c.padding, i, y[i], wantY[i])
			}
			if d, i := maxDiff(dx, wantDx); d > 1e-5 {
				t.Errorf("%T pool %v stride %v %s: dx[%d] = %v, reference %v", l, c.pool, c.stride, c.padding, i, dx[i], wantDx[i])
			}
		}
	}
}

func data3(s []int) int { return s[0] * s[1] * s[2] }

func TestGlobalPool2D(t *testing.T) {
	x := ramp(2 * 2 * 3 * 2) // B=2, H=2, W=3, C=2
	x[3] = 100
	y, dims, dx := runLayer(t, &GlobalMaxPool2D{Keepdims: true}, true, x, []int{2, 2, 3, 2}, []float32{1, 1, 1, 1})
	if want := []float32{10, 100, 22, 23}; !slices.Equal(y, want) || !slices.Equal(dims, []int{2, 1, 1, 2}) {
		t.Errorf("global max = %v %v, want %v [2 1 1 2]", y, dims, want)
	}
	for i, g := range dx {
		if want := map[int]float32{10: 1, 3: 1, 22: 1, 23: 1}[i]; g != want {
			t.Errorf("global max gradient[%d] = %v, want %v", i, g, want)
		}
	}
	y, dims, _ = runLayer(t, &GlobalAveragePool2D{}, false, ramp(24), []int{2, 2, 3, 2}, nil)
	// Channel 0 of example 0: 0, 2, ..., 10, mean 5.
	if want := []float32{5, 6, 17, 18}; !slices.Equal(y, want) || !slices.Equal(dims, []int{2, 2}) {
		t.Errorf("global mean = %v %v, want %v [2 2]", y, dims, want)
	}
}
