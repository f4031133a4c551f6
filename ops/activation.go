package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
)

func init() {
	Layers.Register("activation", "Applies an activation function element-wise (softmax over the last axis).",
		func() Layer { return &Activation{} })
}

// applyActivation applies a named activation; names are checked by the
// `oneof` declaration of each param, so an unknown one cannot reach here.
func applyActivation(name string, x *graph.Node) *graph.Node {
	switch name {
	case "", "linear":
		return x
	case "relu":
		return activation.Relu(x)
	case "sigmoid":
		return graph.Sigmoid(x)
	case "tanh":
		return graph.Tanh(x)
	case "softmax":
		return graph.Softmax(x, -1)
	}
	panic(fmt.Sprintf("ops: unknown activation %q", name))
}

// biasActivation adds to y, with useBias, a zero-initialised "bias"
// variable over its last axis, then applies the named activation: the
// output of dense, conv1d and conv2d.
func (b *Builder) biasActivation(y *graph.Node, useBias bool, activation string) *graph.Node {
	if useBias {
		shape := make([]int, y.Rank())
		for i := range shape {
			shape[i] = 1
		}
		n := y.Shape().Dimensions[y.Rank()-1]
		shape[len(shape)-1] = n
		y = graph.Add(y, graph.Reshape(b.Zeros("bias", n), shape...))
	}
	return applyActivation(activation, y)
}

// Activation is a parameter-free activation layer.
type Activation struct {
	Fn string `pipe:"activation,required,oneof=linear|relu|sigmoid|tanh|softmax" doc:"the function: linear, relu, sigmoid, tanh or softmax"`
}

func (*Activation) OutputShape(in []int) ([]int, error) { return in, nil }
func (*Activation) Params([]int) int                    { return 0 }
func (l *Activation) Build(_ *Builder, x *graph.Node) *graph.Node {
	return applyActivation(l.Fn, x)
}
