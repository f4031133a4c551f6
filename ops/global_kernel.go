package ops

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("global_kernel_conv", "GLocal-K's global kernel (Han et al. 2021): convolves its first input, a (rows, cols) matrix such as the whole rating matrix, taken as a one-channel image, with a size x size kernel made from its second input, a reconstruction of the same matrix: that input is averaged over its last axis (one summary per row), the summary times a learned (rows, size²) matrix, times dot_scale, is the kernel; the result is relu(conv2d(first, kernel)) with same padding. inputs: [matrix, reconstruction].",
		func() Layer {
			return &GlobalKernelConv{Size: 3, DotScale: 1}
		})
}

// GlobalKernelConv is GLocal-K's global convolution kernel. Its kernel
// depends on the data through the reconstruction, so every example gets
// its own; GLocal-K has one example, the whole item x user rating matrix
// (rating_matrix with whole: true), and the reconstruction is its
// pre-trained autoencoder's output on it.
type GlobalKernelConv struct {
	Size        int            `pipe:"size,min=1,max=99" doc:"side of the square kernel, odd (GLocal-K's gk_size: 3)"`
	DotScale    float64        `pipe:"dot_scale" doc:"factor on the kernel (GLocal-K's dot_scale: 1 on ML-100K)"`
	Initializer spec.Component `pipe:"kernel_initializer,registry=initializer" doc:"how the (rows, size²) matrix starts; default truncated_normal with stddev 0.1 (GLocal-K's)"`
}

// glocalConv is GLocal-K's draw of the (rows, size²) matrix.
var glocalConv Initializer = &TruncatedNormal{Stddev: 0.1}

func (l *GlobalKernelConv) Validate() error {
	if l.Size%2 == 0 {
		return fmt.Errorf("size %d: want an odd size, so that same padding is centred", l.Size)
	}
	return validateWeights(named{"kernel_initializer", l.Initializer, true})
}

func (*GlobalKernelConv) OutputShape(in []int) ([]int, error) {
	return single{"global_kernel_conv"}.OutputShape(in)
}
func (*GlobalKernelConv) Build(b *Builder, x *graph.Node) *graph.Node {
	return single{"global_kernel_conv"}.Build(b, x)
}

func (l *GlobalKernelConv) MergeShape(ins [][]int) ([]int, error) {
	if len(ins) != 2 {
		return nil, fmt.Errorf("global_kernel_conv reads 2 inputs, the matrix and its reconstruction; got %d", len(ins))
	}
	if len(ins[0]) != 2 {
		return nil, fmt.Errorf("the matrix must be 2-D (rows, cols) per example, got %s: use rating_matrix with whole: true", FormatShape(ins[0]))
	}
	if !slices.Equal(ins[0], ins[1]) {
		return nil, fmt.Errorf("the reconstruction %s must have the matrix's shape %s", FormatShape(ins[1]), FormatShape(ins[0]))
	}
	return ins[0], nil
}

// Params counts the (rows, size²) matrix; in is the matrix's shape.
func (l *GlobalKernelConv) Params(in []int) int {
	if len(in) == 0 {
		return 0
	}
	return in[0] * l.Size * l.Size
}

func (l *GlobalKernelConv) BuildMerge(b *Builder, xs []*graph.Node) *graph.Node {
	x, recon := xs[0], xs[1]
	d := x.Shape().Dimensions // [batch, rows, cols]
	n, rows, cols, k := d[0], d[1], d[2], l.Size
	w := b.Weight("kernel", l.Initializer, spec.Component{}, glocalConv, FansOf([]int{rows, k * k}), rows, k*k)
	pooled := graph.ReduceMean(recon, -1)                      // [batch, rows]
	gk := graph.MulScalar(graph.MatMul(pooled, w), l.DotScale) // [batch, k²]
	// Same padding, then the k² shifted copies weighted by their kernel
	// entry: a cross-correlation, as conv2d computes it. k² is 9 for
	// GLocal-K, so this is cheaper than lowering to patches.
	p := k / 2
	padded := graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), compute.PadAxis{}, compute.PadAxis{Start: p, End: p}, compute.PadAxis{Start: p, End: p})
	var out *graph.Node
	for i := range k {
		for j := range k {
			shifted := graph.Slice(padded, graph.AxisRange(), graph.AxisRange(i, i+rows), graph.AxisRange(j, j+cols))
			c := graph.Reshape(graph.Slice(gk, graph.AxisRange(), graph.AxisRange(i*k+j, i*k+j+1)), n, 1, 1)
			term := graph.Mul(shifted, c)
			if out == nil {
				out = term
			} else {
				out = graph.Add(out, term)
			}
		}
	}
	return graph.Max(out, graph.ZerosLike(out))
}
