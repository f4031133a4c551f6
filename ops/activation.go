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

// activations are the names accepted wherever a layer takes an activation.
const activations = "linear|relu|sigmoid|tanh|softmax"

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

// Activation is a parameter-free activation layer.
type Activation struct {
	Fn string `pipe:"activation,required,oneof=linear|relu|sigmoid|tanh|softmax" doc:"the function: linear, relu, sigmoid, tanh or softmax"`
}

func (*Activation) OutputShape(in []int) ([]int, error) { return in, nil }
func (*Activation) Params([]int) int                    { return 0 }
func (l *Activation) Build(_ *Builder, x *graph.Node) *graph.Node {
	return applyActivation(l.Fn, x)
}
