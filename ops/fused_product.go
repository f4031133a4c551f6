package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// epilogue is what follows the matrix product of a lowered dense or
// convolution layer: a bias per output channel (nil for none) and the
// named activation.
//
// product computes it in one of three ways (productMode). The default,
// "custom", is a plain product with a hand-written gradient (see product)
// followed by the bias and relu as element-wise ops. "fused" is the Go
// backend's FusedDense (through nn.Dense, which falls back to plain ops
// elsewhere): bias and relu in the matmul's epilogue, their gradients in
// the same pass; but its gradient transposes the [m, n] output gradient
// with a scalar loop and allocates two [m, n] scratch arrays per step.
// "plain" is matMul's orientation, transposedProduct, whose forward pass
// and gradient transpose [m, n] arrays three times (the code before
// epilogue). CPU time per training step, medians of alternating runs on 2
// shared cores (pipe bench --one): mnist_cnn 18.2 ms before, 16.6 fused,
// 15.8 custom (5 runs each); ResNet-20 at batch 32, 344 ms before against
// 337 fused, and 382 before against 308 custom (3 runs each).
type epilogue struct {
	bias *graph.Node
	act  string
}

// epilogue creates the layer's "bias" variable of n channels, as w says,
// when useBias is set.
func (b *Builder) epilogue(w Weights, useBias bool, n int, act string) epilogue {
	e := epilogue{act: act}
	if useBias {
		e.bias = b.Bias(w, "bias", n)
	}
	return e
}

// fused reports whether the activation runs inside the product; sigmoid and
// tanh stay separate so that their values are the element-wise functions'
// (the fused ones use other approximations), softmax is over more than one
// value.
func (e epilogue) fused() bool { return e.act == "relu" }

// product is rows [m, k] times w ([k, n] with DenseLayoutInputOutputs, [n,
// k] with DenseLayoutOutputsInput), plus the bias repeated tile times along
// the n outputs (n = tile * channels: a banded convolution's output row
// holds ow positions of every filter), then relu when the activation is
// relu. finish applies any other activation, once the caller has given the
// output its shape.
func (e epilogue) product(rows, w *graph.Node, layout compute.DenseLayout, tile int) *graph.Node {
	bias := e.bias
	if bias != nil && tile > 1 {
		c := bias.Shape().Dimensions[0]
		bias = graph.Reshape(graph.BroadcastToDims(graph.Reshape(bias, 1, c), tile, c), tile*c)
	}
	transposed := layout == compute.DenseLayoutOutputsInput
	var y *graph.Node
	switch productMode {
	case "fused":
		act := activation.TypeNone
		if e.fused() {
			act = activation.TypeRelu
		}
		return nn.Dense(rows, w, bias, layout, act)
	case "custom":
		y = product(rows, w, transposed)
	default:
		if transposed {
			y = transposedProduct(rows, w)
		} else {
			y = graph.MatMul(rows, w)
		}
	}
	if bias != nil {
		y = graph.Add(y, graph.Reshape(bias, 1, bias.Shape().Dimensions[0]))
	}
	if e.fused() {
		y = activation.Relu(y)
	}
	return y
}

// productMode picks how epilogue.product computes: "custom", "fused" or
// "plain" (see epilogue). Set with -ldflags "-X
// github.com/pipe-ml/pipe/ops.productMode=fused" to measure again; the
// tests run all three.
var productMode = "custom"

// finish applies the activation that product did not.
func (e epilogue) finish(y *graph.Node) *graph.Node {
	if e.fused() {
		return y
	}
	return applyActivation(e.act, y)
}

// fusedMatMul is matMul's product with the epilogue: the weights [k, n]
// transposed (a copy of the small weights) when n is small next to k, so
// that the gradient transposes the [m, n] output gradient rather than the
// [m, k] rows.
func fusedMatMul(rows, w *graph.Node, e epilogue) *graph.Node {
	k, n := w.Shape().Dimensions[0], w.Shape().Dimensions[1]
	if 2*n < k {
		return e.product(rows, graph.Transpose(w, 0, 1), compute.DenseLayoutOutputsInput, 1)
	}
	return e.product(rows, w, compute.DenseLayoutInputOutputs, 1)
}
