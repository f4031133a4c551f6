package ops

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("kernel_dense", "Dense layer whose kernel is modulated elementwise by a local kernel (GLocal-K, Han et al. 2021): activation(x . (kernel * k) + bias), k[i,j] = max(0, 1 - ||u_i - v_j||²) between learned points u_i of the inputs and v_j of the units in a space of dim dimensions; k is 0 where the points are far apart, so training can switch weights off. On a flat input, or on every row of a (rows, features) input.",
		func() Layer {
			return &KernelDense{Dim: 5, Activation: "linear", UseBias: true}
		})
}

// glocalPoints is GLocal-K's draw of the points: truncated normal, stddev 0.001.
var glocalPoints Initializer = &TruncatedNormal{Stddev: 1e-3}

// KernelDense is GLocal-K's kernel layer: a dense layer whose effective
// kernel is kernel * k, k the finite-support RBF kernel
// max(0, 1 - ||u_i - v_j||²) between a learned point u_i per input and v_j
// per unit. Its points start near the origin (GLocal-K's truncated normal
// of stddev 1e-3), where k is close to 1 everywhere: the layer starts as a
// plain dense layer and learns which connections to keep.
type KernelDense struct {
	Units      int     `pipe:"units,required,min=1,max=1000000000" doc:"output size"`
	Dim        int     `pipe:"dim,min=1,max=1000" doc:"dimensions of the space of the input and unit points (GLocal-K: 5)"`
	Activation string  `pipe:"activation,oneof=@activation" doc:"activation applied to the output"`
	UseBias    bool    `pipe:"use_bias" doc:"add a learned bias"`
	L2         float64 `pipe:"l2,min=0" doc:"shorthand for kernel_regularizer: {l2: ...}: adds l2 * sum(kernel²) to the loss (GLocal-K's lambda_2, halved: TensorFlow's l2_regularizer(s) adds s * sum(w²) / 2)"`
	KernelL2   float64 `pipe:"kernel_l2,min=0" doc:"adds kernel_l2 * sum(k²) to the loss, k the local kernel: pushes points apart, so connections switch off (GLocal-K's lambda_s, halved as l2)"`
	// PointInitializer draws u and v.
	PointInitializer spec.Component `pipe:"point_initializer,registry=initializer" doc:"how the input and unit points start; default truncated_normal with stddev 0.001 (GLocal-K's)"`
	Weights
}

// Validate rejects l2 given beside kernel_regularizer, as dense does.
func (l *KernelDense) Validate() error {
	if l.L2 > 0 && l.KernelRegularizer.Kind != "" {
		return fmt.Errorf("l2 is a shorthand for kernel_regularizer: {l2: %v}; give one of them, not both", l.L2)
	}
	if err := validateWeights(named{"point_initializer", l.PointInitializer, true}); err != nil {
		return err
	}
	return l.Weights.Validate()
}

func (l *KernelDense) OutputShape(in []int) ([]int, error) {
	return (&Dense{Units: l.Units}).OutputShape(in)
}

// Params counts the kernel, the points of the inputs and of the units,
// and the bias.
func (l *KernelDense) Params(in []int) int {
	n := in[len(in)-1]
	p := n*l.Units + (n+l.Units)*l.Dim
	if l.UseBias {
		p += l.Units
	}
	return p
}

func (l *KernelDense) Build(b *Builder, x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	in := d[len(d)-1]
	w := (&Dense{L2: l.L2, Weights: l.Weights}).weights()
	kernel := b.Kernel(w, "kernel", in, l.Units)
	u := b.Weight("u", l.PointInitializer, spec.Component{}, glocalPoints, FansOf([]int{in, l.Dim}), in, l.Dim)
	v := b.Weight("v", l.PointInitializer, spec.Component{}, glocalPoints, FansOf([]int{l.Units, l.Dim}), l.Units, l.Dim)
	k := localKernel(u, v)
	if l.KernelL2 > 0 {
		b.AddPenalty(graph.MulScalar(graph.ReduceAllSum(graph.Square(k)), l.KernelL2))
	}
	eff := graph.Mul(kernel, k)
	rows := x
	if len(d) == 3 { // every row of each example: [B·R, F] · kernel
		rows = graph.Reshape(x, d[0]*d[1], in)
	}
	y := graph.MatMul(rows, eff)
	if len(d) == 3 {
		y = graph.Reshape(y, d[0], d[1], l.Units)
	}
	return b.BiasActivation(w, y, l.UseBias, l.Activation)
}

// localKernel is max(0, 1 - ||u_i - v_j||²) for every input point u_i
// (rows of u) and unit point v_j (rows of v): an [in, units] matrix.
// ||u_i - v_j||² is expanded as |u_i|² + |v_j|² - 2 u_i·v_j, one matrix
// product instead of an [in, units, dim] difference tensor (1682 x 943 x 5
// floats for GLocal-K's output layer, for each of the value and its
// gradient).
func localKernel(u, v *graph.Node) *graph.Node {
	uu := graph.ReduceAndKeep(graph.Square(u), graph.ReduceSum, -1)                       // [in, 1]
	vv := graph.Reshape(graph.ReduceSum(graph.Square(v), -1), 1, v.Shape().Dimensions[0]) // [1, units]
	uv := graph.MatMul(u, graph.Transpose(v, 0, 1))                                       // [in, units]
	dist := graph.Sub(graph.Add(uu, vv), graph.MulScalar(uv, 2))
	return graph.Max(graph.OneMinus(dist), graph.ZerosLike(dist))
}
