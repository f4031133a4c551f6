package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("dense", "Fully connected layer: activation(x . kernel + bias) on a flat input, or on every step of a (timesteps, features) sequence.",
		func() Layer { return &Dense{Activation: "linear", UseBias: true} })
	Layers.Register("dropout", "Sets a random fraction rate of its inputs to 0 during training and scales the rest by 1/(1-rate); does nothing at evaluation.",
		func() Layer { return &Dropout{} })
	Layers.Register("flatten", "Flattens each example to one axis.",
		func() Layer { return &Flatten{} })
	Layers.Register("clip", "Clips values to [min, max] at evaluation and prediction, e.g. predicted ratings to the rating scale; training sees the values unclipped, so no gradient is cut off.",
		func() Layer { return &Clip{} })
}

// Dense is Keras' Dense on a flat input.
type Dense struct {
	Units      int     `pipe:"units,required,min=1,max=1000000000" doc:"output size"`
	Activation string  `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias    bool    `pipe:"use_bias" doc:"add a learned bias"`
	L2         float64 `pipe:"l2,min=0" doc:"shorthand for kernel_regularizer: {l2: ...}: adds l2 * sum(kernel²) to the loss, Keras' kernel_regularizer=l2(l2)"`
	Weights
}

// Validate rejects l2 given beside kernel_regularizer, which it stands for.
func (l *Dense) Validate() error {
	if l.L2 > 0 && l.KernelRegularizer.Kind != "" {
		return fmt.Errorf("l2 is a shorthand for kernel_regularizer: {l2: %v}; give one of them, not both", l.L2)
	}
	return l.Weights.Validate()
}

// weights are the layer's Weights with the l2 shorthand resolved.
func (l *Dense) weights() Weights {
	w := l.Weights
	if l.L2 > 0 {
		w.KernelRegularizer = spec.Component{Kind: "l2", Config: &L2{L2: l.L2}, Path: "l2"}
	}
	return w
}

func (l *Dense) OutputShape(in []int) ([]int, error) {
	switch len(in) {
	case 1:
		return []int{l.Units}, nil
	case 2: // a sequence: Keras' Dense on the last axis, the same weights at every step
		return []int{in[0], l.Units}, nil
	}
	return nil, fmt.Errorf("dense needs a flat input (one axis per example) or a sequence (timesteps, features), got %d axes: add a flatten layer before it", len(in))
}

func (l *Dense) Params(in []int) int {
	n := in[len(in)-1] * l.Units
	if l.UseBias {
		n += l.Units
	}
	return n
}

func (l *Dense) Build(b *Builder, x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	in := d[len(d)-1]
	w := l.weights()
	kernel := b.Kernel(w, "kernel", in, l.Units)
	if len(d) == 3 { // every step of a sequence: [B·T, F] · kernel
		y := matMul(graph.Reshape(x, d[0]*d[1], in), kernel)
		return b.BiasActivation(w, graph.Reshape(y, d[0], d[1], l.Units), l.UseBias, l.Activation)
	}
	e := b.epilogue(w, l.UseBias, l.Units, l.Activation)
	return e.finish(fusedMatMul(x, kernel, e))
}

// Dropout is inverted dropout, as in Keras.
type Dropout struct {
	Rate float64 `pipe:"rate,required,min=0,max=0.999" doc:"fraction of inputs dropped during training"`
}

func (*Dropout) OutputShape(in []int) ([]int, error) { return in, nil }
func (*Dropout) Params([]int) int                    { return 0 }

func (l *Dropout) Build(b *Builder, x *graph.Node) *graph.Node {
	if !b.Training || l.Rate == 0 {
		return x
	}
	keep := graph.GreaterOrEqual(b.Scope.RandomUniform(b.Graph, x.Shape()), graph.Scalar(b.Graph, x.DType(), l.Rate))
	scaled := graph.MulScalar(x, 1/(1-l.Rate))
	return graph.Where(keep, scaled, graph.ZerosLike(x))
}

// Flatten reshapes each example to one axis.
type Flatten struct{}

func (*Flatten) OutputShape(in []int) ([]int, error) { return []int{data.Elements(in)}, nil }
func (*Flatten) Params([]int) int                    { return 0 }
func (*Flatten) Build(_ *Builder, x *graph.Node) *graph.Node {
	return graph.Reshape(x, x.Shape().Dimensions[0], -1)
}

// Clip limits values to [Min, Max] outside training.
type Clip struct {
	Min float64 `pipe:"min,required" doc:"lowest value"`
	Max float64 `pipe:"max,required" doc:"highest value"`
}

func (l *Clip) OutputShape(in []int) ([]int, error) {
	if l.Min > l.Max {
		return nil, fmt.Errorf("min %v is above max %v", l.Min, l.Max)
	}
	return in, nil
}
func (*Clip) Params([]int) int { return 0 }
func (l *Clip) Build(b *Builder, x *graph.Node) *graph.Node {
	if b.Training {
		// A clipped output has no gradient: a network whose first outputs
		// all lie below min (near 0, for ratings 1..5) would never learn.
		return x
	}
	return graph.ClipScalar(x, l.Min, l.Max)
}
