package ops

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// bandedConv computes a convolution with few channels and filters as one
// matrix multiplication, so that the work runs on the backend's SIMD matmul
// instead of its generic (scalar) convolution kernel.
//
// Output row y of one example is the sum over kernel rows dy of input row
// y*sh+dy, flattened to (width*cin), times a banded matrix B_dy of shape
// (width*cin, ow*filters) with B_dy[xin*cin+c, x*filters+f] =
// kernel[dy, xin-x*sw, c, f] inside the window and 0 outside. The kh input
// rows are concatenated, so one product with the stacked bands gives the
// row. The band does width/kw times the multiply-adds of a direct
// convolution, which the SIMD matmul more than pays back while
// width*cin*ow*filters stays small; it is gathered from the kernel, so its
// gradient flows to the kernel.
//
// The product is computed transposed, band·rowsᵀ: the backend's matmul wants
// the contracted axis last on its left operand, and in this orientation the
// kernel's gradient (a contraction over batch*oh rows) needs no transposed
// copy of the rows; only the smaller output is transposed, forward and back.
// x is already padded; the result is [batch, oh, ow, filters].
func bandedConv(x, kernel *graph.Node, kh, kw, sh, sw, oh, ow, filters int) *graph.Node {
	dims := x.Shape().Dimensions
	batch, width, cin := dims[0], dims[2], dims[3]
	g := x.Graph()
	size := kh * kw * cin * filters
	// The kernel flattened, followed by one zero that the band's empty cells point at.
	flat := graph.Concatenate([]*graph.Node{graph.Reshape(kernel, size), graph.Zeros(g, shapes.Make(kernel.DType(), 1))}, 0)
	idx := make([]int32, 0, ow*filters*kh*width*cin)
	for xo := 0; xo < ow; xo++ {
		for f := 0; f < filters; f++ {
			for dy := 0; dy < kh; dy++ {
				for xin := 0; xin < width; xin++ {
					for c := 0; c < cin; c++ {
						at := int32(size)
						if dx := xin - xo*sw; dx >= 0 && dx < kw {
							at = int32(((dy*kw+dx)*cin+c)*filters + f)
						}
						idx = append(idx, at)
					}
				}
			}
		}
	}
	band := graph.Gather(flat, graph.Const(g, tensors.FromFlatDataAndDimensions(idx, ow*filters, kh*width*cin, 1)))
	rows := make([]*graph.Node, kh)
	for dy := range rows {
		r := graph.Slice(x, graph.AxisRange(), graph.AxisRange(dy, dy+(oh-1)*sh+1).Stride(sh), graph.AxisRange(), graph.AxisRange())
		rows[dy] = graph.Reshape(r, batch*oh, width*cin)
	}
	yT := graph.DotGeneral(band, []int{1}, nil, graph.Concatenate(rows, -1), []int{1}, nil)
	return graph.Reshape(graph.Transpose(yT, 0, 1), batch, oh, ow, filters)
}
