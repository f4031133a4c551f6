package ops

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

var points = []float64{-3, -1, -0.5, 0, 0.5, 1, 3, 7}

// apply runs fn on points.
func apply(t *testing.T, fn func(*graph.Node) *graph.Node) []float32 {
	t.Helper()
	x := make([]float32, len(points))
	for i, p := range points {
		x[i] = float32(p)
	}
	out, err := graph.ExecOnce(backend(t), fn, tensors.FromFlatDataAndDimensions(x, 1, len(x)))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out)
}

func nearFn(got []float32, want func(x float64) float64) (int, bool) {
	for i, p := range points {
		w := want(p)
		if math.Abs(float64(got[i])-w) > 1e-6*max(1, math.Abs(w)) {
			return i, false
		}
	}
	return 0, true
}

// references are the activations' definitions, Keras' (3) formulas
// written with Go's math package.
func references() map[string]func(x float64) float64 {
	const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
	want := map[string]func(x float64) float64{
		"linear":  func(x float64) float64 { return x },
		"relu":    func(x float64) float64 { return max(x, 0) },
		"sigmoid": sigmoid,
		"tanh":    math.Tanh,
		"leaky_relu": func(x float64) float64 {
			if x < 0 {
				return 0.2 * x
			}
			return x
		},
		"elu": func(x float64) float64 {
			if x < 0 {
				return math.Exp(x) - 1
			}
			return x
		},
		"selu": func(x float64) float64 {
			if x < 0 {
				return scale * alpha * (math.Exp(x) - 1)
			}
			return scale * x
		},
		"gelu":         func(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt2)) },
		"swish":        func(x float64) float64 { return x * sigmoid(x) },
		"silu":         func(x float64) float64 { return x * sigmoid(x) },
		"softplus":     func(x float64) float64 { return math.Log(1 + math.Exp(x)) },
		"softsign":     func(x float64) float64 { return x / (1 + math.Abs(x)) },
		"hard_sigmoid": func(x float64) float64 { return min(max(x/6+0.5, 0), 1) },
		"exponential":  math.Exp,
		"relu6":        func(x float64) float64 { return min(max(x, 0), 6) },
	}
	// Softmax over the last axis.
	sum := 0.0
	for _, p := range points {
		sum += math.Exp(p)
	}
	want["softmax"] = func(x float64) float64 { return math.Exp(x) / sum }

	return want
}

// TestActivations checks each activation at a few points against its
// definition.
func TestActivations(t *testing.T) {
	want := references()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range activations {
			if !yield(n) {
				return
			}
		}
	})
	if !slices.Equal(names, slices.Sorted(slices.Values(ActivationNames))) {
		t.Fatalf("activation functions %v, names %v", names, ActivationNames)
	}
	for _, name := range ActivationNames {
		got := apply(t, func(x *graph.Node) *graph.Node { return applyActivation(name, x) })
		if i, ok := nearFn(got, want[name]); !ok {
			t.Errorf("%s(%v) = %v, want %v", name, points[i], got[i], want[name](points[i]))
		}
	}
	// Spot values that need no formula.
	got := apply(t, activations["hard_sigmoid"])
	if got[0] != 0 || got[3] != 0.5 || got[6] != 1 {
		t.Errorf("hard_sigmoid(-3, 0, 3) = %v, %v, %v; want 0, 0.5, 1", got[0], got[3], got[6])
	}
}

func TestActivationLayers(t *testing.T) {
	six := 6.0
	for _, c := range []struct {
		l    Layer
		want func(x float64) float64
	}{
		{&LeakyReLU{Alpha: 0.3}, func(x float64) float64 { return map[bool]float64{true: 0.3 * x, false: x}[x < 0] }},
		{&ELU{Alpha: 2}, func(x float64) float64 { return map[bool]float64{true: 2 * (math.Exp(x) - 1), false: x}[x <= 0] }},
		{&ReLU{}, func(x float64) float64 { return max(x, 0) }},
		{&ReLU{MaxValue: &six}, func(x float64) float64 { return min(max(x, 0), 6) }},
		// Keras' ReLU: max_value above it, x from threshold, slope*(x-threshold) below.
		{&ReLU{MaxValue: &six, NegativeSlope: 0.1, Threshold: 1}, func(x float64) float64 {
			switch {
			case x >= 6:
				return 6
			case x >= 1:
				return x
			}
			return 0.1 * (x - 1)
		}},
		{&ReLU{Threshold: 0.5}, func(x float64) float64 { return map[bool]float64{true: 0, false: x}[x < 0.5] }},
	} {
		got := apply(t, func(x *graph.Node) *graph.Node { return c.l.Build(&Builder{}, x) })
		if i, ok := nearFn(got, c.want); !ok {
			t.Errorf("%T %+v at %v: %v, want %v", c.l, c.l, points[i], got[i], c.want(points[i]))
		}
	}
}

// TestActivationGradients: every activation can be differentiated (GoMLX
// has no gradient for some ops, Expm1 among them), and the gradient
// agrees with a central difference of the definition, but at kinks.
func TestActivationGradients(t *testing.T) {
	ref := references()
	for _, name := range ActivationNames {
		if name == "softmax" {
			continue // sum(softmax) is 1: its gradient is 0 everywhere
		}
		grad := apply(t, func(x *graph.Node) *graph.Node {
			return graph.Gradient(graph.ReduceAllSum(applyActivation(name, x)), x)[0]
		})
		for i, g := range grad {
			x := points[i]
			const h = 1e-6
			d := (ref[name](x+h) - ref[name](x-h)) / (2 * h)
			kink := x == 0 || name == "hard_sigmoid" && math.Abs(x) == 3
			if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) || !kink && math.Abs(float64(g)-d) > 1e-4*max(1, math.Abs(d)) {
				t.Errorf("%s: gradient at %v is %v, want %v", name, x, g, d)
			}
		}
	}
	// Where drops the exp branch above 0, where exp may overflow.
	big := apply(t, func(x *graph.Node) *graph.Node {
		x = graph.MulScalar(x, 100)
		return graph.Gradient(graph.ReduceAllSum(applyActivation("elu", x)), x)[0]
	})
	for i, g := range big {
		if math.IsNaN(float64(g)) {
			t.Errorf("elu: gradient at %v is NaN", 100*points[i])
		}
	}
}
