package ops

import "github.com/gomlx/gomlx/core/graph"

// product is rows [m, k] times w ([k, n], or [n, k] when transposed) with
// its gradient written by hand in the orientation the Go backend's matmul
// takes without copies: its kernels want the contracted axis last on the
// left operand and, on the right one, first ([k, n]) or last ([n, k]); any
// other contraction is first transposed into that form. GoMLX's own
// DotGeneral gradient contracts the weights' gradient over the m rows, axis
// 0 of both the output gradient dy [m, n] and the rows [m, k], and so
// copies both; here it is dyᵀ · rows, which transposes only dy (n is small
// next to k in a lowered convolution). The forward product and the rows'
// gradient (dy · w, w on the right as it is) copy nothing.
//
// graph.IdentityWithCustomGradient sets the gradient of one node from the
// gradient of its own output only, so the three identities share dy: the
// one on the output, created last, is differentiated first (GoMLX goes
// through nodes in reverse creation order) and records dy for the two on
// the inputs, which discard the gradient that DotGeneral's own rule hands
// them. The backend never computes those: nothing uses them, and its
// executor skips nodes that no output needs. The gradients read the
// identities' outputs, never rows and w themselves: the backend's Identity
// hands its input buffer on when it is the input's last use and copies it
// otherwise (that copy of the rows was an eighth of a ResNet-20 step).
func product(rows, w *graph.Node, transposed bool) *graph.Node {
	var dy, rowsIn, wIn *graph.Node
	rowsIn = graph.IdentityWithCustomGradient(rows, func(_, _ *graph.Node) *graph.Node {
		if transposed { // dy [m, n] · w [n, k]
			return graph.DotGeneral(dy, []int{1}, nil, wIn, []int{0}, nil)
		}
		return graph.DotGeneral(dy, []int{1}, nil, wIn, []int{1}, nil) // dy [m, n] · ([k, n])ᵀ
	})
	wIn = graph.IdentityWithCustomGradient(w, func(_, _ *graph.Node) *graph.Node {
		g := graph.DotGeneral(graph.Transpose(dy, 0, 1), []int{1}, nil, rowsIn, []int{0}, nil) // [n, k]
		if transposed {
			return g
		}
		return graph.Transpose(g, 0, 1)
	})
	var y *graph.Node
	if transposed {
		y = graph.DotGeneral(rowsIn, []int{1}, nil, wIn, []int{1}, nil)
	} else {
		y = graph.DotGeneral(rowsIn, []int{1}, nil, wIn, []int{0}, nil)
	}
	return graph.IdentityWithCustomGradient(y, func(_, v *graph.Node) *graph.Node {
		dy = v
		return v
	})
}
