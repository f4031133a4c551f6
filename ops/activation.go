package ops

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("activation", "Applies an activation function element-wise (softmax over the last axis).",
		func() Layer { return &Activation{} })
	Layers.Register("leaky_relu", "Leaky ReLU, Keras' LeakyReLU layer: x for x >= 0, alpha * x below.",
		func() Layer { return &LeakyReLU{Alpha: 0.3} })
	Layers.Register("elu", "Exponential linear unit, Keras' ELU layer: x for x > 0, alpha * (exp(x) - 1) below.",
		func() Layer { return &ELU{Alpha: 1} })
	Layers.Register("relu", "Rectified linear unit with Keras' ReLU layer params: max_value for x >= max_value, x for threshold <= x < max_value, negative_slope * (x - threshold) below.",
		func() Layer { return &ReLU{} })
}

// ActivationNames are the activation functions that every `activation:`
// param accepts (declared `oneof=@activation`), Keras' names. Where Keras
// 2 and 3 differ, pipe follows Keras 3 (and PyTorch): leaky_relu has
// slope 0.2 below 0 (keras.activations.leaky_relu; the leaky_relu layer's
// alpha defaults to 0.3, as both Keras' LeakyReLU layers), and
// hard_sigmoid is relu6(x + 3) / 6, not Keras 2's clip(0.2x + 0.5, 0, 1).
// gelu is the exact erf form (Keras' approximate=False); swish and silu
// are the same function.
var ActivationNames = spec.RegisterChoices("activation",
	"linear", "relu", "sigmoid", "tanh", "softmax",
	"leaky_relu", "elu", "selu", "gelu", "swish", "silu", "softplus", "softsign",
	"hard_sigmoid", "exponential", "relu6")

// Keras' selu constants (Klambauer et al. 2017).
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// activations maps each name of ActivationNames to its function.
var activations = map[string]func(x *graph.Node) *graph.Node{
	"linear":  func(x *graph.Node) *graph.Node { return x },
	"relu":    activation.Relu,
	"sigmoid": graph.Sigmoid,
	"tanh":    graph.Tanh,
	"softmax": func(x *graph.Node) *graph.Node { return graph.Softmax(x, -1) },
	"leaky_relu": func(x *graph.Node) *graph.Node {
		return leakyReLU(x, 0.2)
	},
	"elu": func(x *graph.Node) *graph.Node { return elu(x, 1) },
	"selu": func(x *graph.Node) *graph.Node {
		return graph.MulScalar(elu(x, seluAlpha), seluScale)
	},
	"gelu": func(x *graph.Node) *graph.Node {
		// x * Φ(x), Φ(x) = (1 + erf(x / √2)) / 2.
		return graph.Mul(x, graph.MulScalar(graph.OnePlus(graph.Erf(graph.MulScalar(x, 1/math.Sqrt2))), 0.5))
	},
	"swish":    swish,
	"silu":     swish,
	"softplus": graph.Softplus,
	"softsign": func(x *graph.Node) *graph.Node {
		return graph.Div(x, graph.OnePlus(graph.Abs(x)))
	},
	"hard_sigmoid": func(x *graph.Node) *graph.Node {
		return graph.ClipScalar(graph.AddScalar(graph.MulScalar(x, 1.0/6), 0.5), 0, 1)
	},
	"exponential": graph.Exp,
	"relu6": func(x *graph.Node) *graph.Node {
		return graph.ClipScalar(x, 0, 6)
	},
}

func swish(x *graph.Node) *graph.Node { return graph.Mul(x, graph.Sigmoid(x)) }

func leakyReLU(x *graph.Node, alpha float64) *graph.Node {
	return graph.Where(graph.GreaterOrEqual(x, graph.ScalarZero(x.Graph(), x.DType())), x, graph.MulScalar(x, alpha))
}

// elu is x above 0, alpha * (exp(x) - 1) below. Not Expm1, which GoMLX
// cannot differentiate; exp of min(x, 0), so that the branch Where drops
// never overflows (its zero gradient times an infinite exp is NaN).
func elu(x *graph.Node, alpha float64) *graph.Node {
	zero := graph.ScalarZero(x.Graph(), x.DType())
	neg := graph.MulScalar(graph.AddScalar(graph.Exp(graph.Min(x, zero)), -1), alpha)
	return graph.Where(graph.GreaterThan(x, zero), x, neg)
}

// applyActivation applies a named activation; names are checked by the
// `oneof=@activation` declaration of each param, so an unknown one cannot
// reach here.
func applyActivation(name string, x *graph.Node) *graph.Node {
	if name == "" {
		return x
	}
	if fn, ok := activations[name]; ok {
		return fn(x)
	}
	panic(fmt.Sprintf("ops: unknown activation %q", name))
}

// BiasActivation adds to y, with useBias, a "bias" variable over its last
// axis (Builder.Bias: w's bias_initializer and bias_regularizer), then
// applies the named activation: the output of dense, conv1d and conv2d.
func (b *Builder) BiasActivation(w Weights, y *graph.Node, useBias bool, activation string) *graph.Node {
	if useBias {
		shape := make([]int, y.Rank())
		for i := range shape {
			shape[i] = 1
		}
		n := y.Shape().Dimensions[y.Rank()-1]
		shape[len(shape)-1] = n
		y = graph.Add(y, graph.Reshape(b.Bias(w, "bias", n), shape...))
	}
	return applyActivation(activation, y)
}

// Activation is a parameter-free activation layer.
type Activation struct {
	Fn string `pipe:"activation,required,oneof=@activation" doc:"the function"`
}

func (*Activation) OutputShape(in []int) ([]int, error) { return in, nil }
func (*Activation) Params([]int) int                    { return 0 }
func (l *Activation) Build(_ *Builder, x *graph.Node) *graph.Node {
	return applyActivation(l.Fn, x)
}

// LeakyReLU is Keras' LeakyReLU layer.
type LeakyReLU struct {
	Alpha float64 `pipe:"alpha,min=0" doc:"slope below 0 (Keras 3 calls it negative_slope)"`
}

func (*LeakyReLU) OutputShape(in []int) ([]int, error) { return in, nil }
func (*LeakyReLU) Params([]int) int                    { return 0 }
func (l *LeakyReLU) Build(_ *Builder, x *graph.Node) *graph.Node {
	return leakyReLU(x, l.Alpha)
}

// ELU is Keras' ELU layer.
type ELU struct {
	Alpha float64 `pipe:"alpha" doc:"scale of the negative part: alpha * (exp(x) - 1)"`
}

func (*ELU) OutputShape(in []int) ([]int, error) { return in, nil }
func (*ELU) Params([]int) int                    { return 0 }
func (l *ELU) Build(_ *Builder, x *graph.Node) *graph.Node {
	return elu(x, l.Alpha)
}

// ReLU is Keras' ReLU layer.
type ReLU struct {
	MaxValue      *float64 `pipe:"max_value,min=0" doc:"the largest output; none when left out"`
	NegativeSlope float64  `pipe:"negative_slope,min=0" doc:"slope below threshold"`
	Threshold     float64  `pipe:"threshold" doc:"where the identity starts"`
}

func (*ReLU) OutputShape(in []int) ([]int, error) { return in, nil }
func (*ReLU) Params([]int) int                    { return 0 }
func (l *ReLU) Build(_ *Builder, x *graph.Node) *graph.Node {
	var y *graph.Node
	if l.NegativeSlope == 0 && l.Threshold == 0 {
		y = activation.Relu(x)
	} else {
		below := graph.MulScalar(graph.AddScalar(x, -l.Threshold), l.NegativeSlope)
		y = graph.Where(graph.GreaterOrEqual(x, graph.Scalar(x.Graph(), x.DType(), l.Threshold)), x, below)
	}
	if l.MaxValue != nil {
		y = graph.MinScalar(y, *l.MaxValue)
	}
	return y
}
