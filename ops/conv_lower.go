package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// bandedConv computes a convolution with few channels and filters as one
// matrix multiplication, so that the work runs on the backend's SIMD matmul
// instead of its generic (scalar) convolution kernel.
//
// Output row y of one example is the sum over kernel rows dy of input row
// y*sh+dy, its first in = (ow-1)*sw+kw columns flattened to (in*cin), times
// a banded matrix B_dy of shape (in*cin, ow*filters) with
// B_dy[xin*cin+c, x*filters+f] = kernel[dy, xin-x*sw, c, f] inside the
// window and 0 outside. The kh input rows sit side by side, so one product
// with the stacked bands gives the row. The band does in/kw times the
// multiply-adds of a direct convolution, which the SIMD matmul more than
// pays back while in*cin*ow*filters stays small; it is gathered from the
// kernel, so its gradient flows to the kernel. It is built transposed, [n,
// k], the layout whose gradient transposes only the [m, n] output gradient
// (see epilogue). x is already padded; the result is [batch, oh, ow,
// filters], with the epilogue's bias and fused activation.
func bandedConv(x, kernel *graph.Node, e epilogue, kh, kw, sh, sw, dh, dw, oh, ow, filters int) *graph.Node {
	dims := x.Shape().Dimensions
	batch, cin := dims[0], dims[3]
	g := x.Graph()
	in := (ow-1)*sw + (kw-1)*dw + 1 // the input columns that the windows read
	size := kh * kw * cin * filters
	var dband *graph.Node
	if productMode != "fused" {
		kernel = graph.IdentityWithCustomGradient(kernel, func(k, _ *graph.Node) *graph.Node {
			return bandKernelGrad(dband, k.Shape().Dimensions, sw, dw, ow, in)
		})
	}
	// The kernel flattened, followed by one zero that the band's empty cells point at.
	flat := graph.Concatenate([]*graph.Node{graph.Reshape(kernel, size), graph.Zeros(g, shapes.Make(kernel.DType(), 1))}, 0)
	idx := make([]int32, 0, ow*filters*kh*in*cin)
	for xo := 0; xo < ow; xo++ {
		for f := 0; f < filters; f++ {
			for dy := 0; dy < kh; dy++ {
				for xin := 0; xin < in; xin++ {
					for c := 0; c < cin; c++ {
						at := int32(size)
						if off := xin - xo*sw; off >= 0 && off%dw == 0 && off/dw < kw {
							at = int32(((dy*kw+off/dw)*cin+c)*filters + f)
						}
						idx = append(idx, at)
					}
				}
			}
		}
	}
	band := graph.Gather(flat, graph.Const(g, tensors.FromFlatDataAndDimensions(idx, ow*filters, kh*in*cin, 1)))
	if productMode != "fused" {
		band = graph.IdentityWithCustomGradient(band, func(_, v *graph.Node) *graph.Node {
			dband = v
			return v
		})
	}
	// The kh input rows of every output row, gathered as contiguous runs:
	// the backend's Gather copies them with memmove (and its gradient adds
	// them with SIMD), where Slice would copy element by element. The
	// windows overlap, so the starts are not sorted.
	at := make([]int32, 0, batch*oh*kh*3)
	for e := 0; e < batch; e++ {
		for y := 0; y < oh; y++ {
			for dy := 0; dy < kh; dy++ {
				at = append(at, int32(e), int32(y*sh+dy*dh), 0)
			}
		}
	}
	starts := graph.Const(g, tensors.FromFlatDataAndDimensions(at, batch, oh, kh, 3))
	rows := graph.Reshape(graph.GatherSlices(x, []int{0, 1, 2}, starts, []int{1, 1, in}, false), batch*oh, kh*in*cin)
	return graph.Reshape(e.product(rows, band, compute.DenseLayoutOutputsInput, ow), batch, oh, ow, filters)
}

// bandKernelGrad is the gradient of the kernel (dims [kh, kw, cin,
// filters]) from dband, the gradient of the band [ow*filters, kh*in*cin]:
// each kernel entry sums its ow places in the band, gathered. GoMLX's own
// gradient of the band's Gather scatter-adds every cell of the band, five
// times more of them (most point at the zero), in the backend's generic
// scatter: 8% of a mnist_cnn step.
func bandKernelGrad(dband *graph.Node, dims []int, sw, dw, ow, in int) *graph.Node {
	kh, kw, cin, filters := dims[0], dims[1], dims[2], dims[3]
	cols := kh * in * cin
	at := make([]int32, 0, kh*kw*cin*filters*ow)
	for dy := 0; dy < kh; dy++ {
		for dx := 0; dx < kw; dx++ {
			for c := 0; c < cin; c++ {
				for f := 0; f < filters; f++ {
					for xo := 0; xo < ow; xo++ {
						at = append(at, int32((xo*filters+f)*cols+dy*in*cin+(xo*sw+dx*dw)*cin+c))
					}
				}
			}
		}
	}
	g := dband.Graph()
	places := graph.Gather(graph.Reshape(dband, dband.Shape().Size()), graph.Const(g, tensors.FromFlatDataAndDimensions(at, kh*kw*cin*filters, ow, 1)))
	return graph.Reshape(graph.ReduceSum(places, 1), kh, kw, cin, filters)
}

// im2colConv computes a convolution as patches times the kernel: the
// kh*kw*cin window of every output position, gathered into
// [batch*oh*ow, kh*kw*cin], times the kernel reshaped to [kh*kw*cin,
// filters].
func im2colConv(x, kernel *graph.Node, e epilogue, kh, kw, sh, sw, dh, dw, oh, ow, filters int) *graph.Node {
	dims := x.Shape().Dimensions
	batch, cin := dims[0], dims[3]
	cols := graph.Reshape(patches(x, kh, kw, sh, sw, dh, dw, oh, ow), batch*oh*ow, kh*kw*cin)
	return graph.Reshape(fusedMatMul(cols, graph.Reshape(kernel, kh*kw*cin, filters), e), batch, oh, ow, filters)
}

// patches gathers the window of every output position of x (already
// padded): [batch, oh, ow, kh, 1, 1, kw, cin]. Each window is gathered as
// kh runs of contiguous values, the kw*cin of its row; with a dilation dw
// the run spans (kw-1)*dw+1 columns, of which every dw-th is kept.
func patches(x *graph.Node, kh, kw, sh, sw, dh, dw, oh, ow int) *graph.Node {
	batch := x.Shape().Dimensions[0]
	at := make([]int32, 0, batch*oh*ow*kh*3)
	for e := 0; e < batch; e++ {
		for y := 0; y < oh; y++ {
			for xo := 0; xo < ow; xo++ {
				for dy := 0; dy < kh; dy++ {
					at = append(at, int32(e), int32(y*sh+dy*dh), int32(xo*sw))
				}
			}
		}
	}
	run := (kw-1)*dw + 1
	starts := graph.Const(x.Graph(), tensors.FromFlatDataAndDimensions(at, batch, oh, ow, kh, 3))
	p := graph.GatherSlices(x, []int{0, 1, 2}, starts, []int{1, 1, run}, false)
	if dw > 1 {
		p = graph.Slice(p, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisRange(),
			graph.AxisRange().Stride(dw), graph.AxisRange())
	}
	return p
}

// matMul is rows [m, k] times w [k, n] in the orientation that copies less
// on the Go backend: transposedProduct when n is small next to k (it
// transposes [m, n] three times where the plain product's gradient
// transposes [m, k] and [m, n] once each), else the plain product.
func matMul(rows, w *graph.Node) *graph.Node {
	k, n := w.Shape().Dimensions[0], w.Shape().Dimensions[1]
	if 2*n < k {
		return transposedProduct(rows, graph.Transpose(w, 0, 1))
	}
	return graph.MatMul(rows, w)
}

// transposedProduct is rows [m, k] times wT [n, k] transposed, computed as
// (wT·rowsᵀ)ᵀ. The backend's matmul wants the contracted axis last on its
// left operand; for the weights' gradient, a contraction over the m rows,
// rows·w would make it transpose both rows and the output's gradient, while
// this orientation transposes only [m, n] arrays: the product forward and
// its gradient back (and once more for the rows' gradient). That is less
// copying when n is small next to k, as in convolutions.
func transposedProduct(rows, wT *graph.Node) *graph.Node {
	return graph.Transpose(graph.DotGeneral(wT, []int{1}, nil, rows, []int{1}, nil), 0, 1)
}
