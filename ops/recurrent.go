package ops

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// What the recurrent layers (lstm.go, gru.go, simple_rnn.go) share: their
// options, the activations with the derivatives that the hand-written
// backward passes need, dropout masks, time reversal, the packing of a
// hand-written gradient, and the driver of backpropagation through time
// for the cells with one state (GRU, SimpleRNN). The LSTM, with two
// states, keeps its own driver in lstm.go, whose numbers are pinned by
// golden files.

// recurrentLayer is a layer that bidirectional can wrap.
type recurrentLayer interface {
	Layer
	MaskedLayer
	// reversed returns a copy of the layer with go_backwards flipped.
	reversed() Layer
	returnsSequences() bool
}

// rnnOptions are the options every recurrent layer has beside its cell's,
// and the input's mask (nil without).
type rnnOptions struct {
	returnSequences, goBackwards bool
	dropout, recurrentDropout    float64
	mask                         *graph.Node // [B, T] Bool
}

// stepMask is a mask as the recurrence reads it: time-major, reversed with
// go_backwards, as 1 and 0 (on) and 0 and 1 (off), each [T, B, 1]. A
// masked step keeps the previous state: s' = on·new + off·s (exact for
// on, off in {0, 1}), and its backward pass sends the new state's
// gradient into the cell at on·ds and straight to the previous state at
// off·ds. A nil *stepMask masks nothing.
type stepMask struct{ on, off *graph.Node }

func newStepMask(mask *graph.Node, dt dtypes.DType, goBackwards bool) *stepMask {
	if mask == nil {
		return nil
	}
	on := graph.InsertAxes(graph.Transpose(maskAs(mask, dt), 0, 1), -1)
	if goBackwards {
		on = reverseTime(on)
	}
	return &stepMask{on: on, off: graph.OneMinus(on)}
}

// at returns step t's on and off [B, 1].
func (m *stepMask) at(t int) (on, off *graph.Node) {
	idx := stepIndex(m.on.Graph(), t)
	return row(m.on, idx), row(m.off, idx)
}

// blend is the state after step t: new where the step holds data, old
// where it is masked.
func (m *stepMask) blend(t int, nw, old *graph.Node) *graph.Node {
	if m == nil {
		return nw
	}
	on, off := m.at(t)
	return graph.Add(graph.Mul(on, nw), graph.Mul(off, old))
}

// split cuts d, the gradient of the state after step t, into the part
// that entered the cell (on·d) and the part carried straight to the
// previous state (off·d; nil without a mask).
func (m *stepMask) split(t int, d *graph.Node) (cell, carried *graph.Node) {
	if m == nil {
		return d, nil
	}
	on, off := m.at(t)
	return graph.Mul(on, d), graph.Mul(off, d)
}

// rnnOutMask is the mask of a recurrent layer's output: the input's with
// return_sequences (reversed with go_backwards, as the output is), else
// none.
func rnnOutMask(o rnnOptions) *graph.Node {
	if !o.returnSequences || o.mask == nil {
		return nil
	}
	if o.goBackwards {
		return graph.Transpose(reverseTime(graph.Transpose(o.mask, 0, 1)), 0, 1)
	}
	return o.mask
}

// rnnOutputShape is the output shape of a recurrent layer of units on in.
func rnnOutputShape(in []int, units int, returnSequences bool) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	if returnSequences {
		return []int{in[0], units}, nil
	}
	return []int{units}, nil
}

// rnnInput makes x [B, T, F] time-major [T, B, F], reversed in time with
// go_backwards, with the input dropout applied; and returns the recurrent
// dropout mask [B, units] (nil without). Keras' masks: one per batch, the
// same at every step, training only. The recurrent mask applies where the
// state enters the recurrent kernel's product, not to the state carried
// over (Keras' GRU of implementation 1; its default implementation 2
// ignores recurrent_dropout).
func rnnInput(b *Builder, x *graph.Node, units int, o rnnOptions) (xt, recMask *graph.Node, sm *stepMask) {
	xt = graph.Transpose(x, 0, 1)
	d := xt.Shape().Dimensions
	if o.goBackwards {
		xt = reverseTime(xt)
	}
	if m := dropoutMask(b, xt.DType(), d[1], d[2], o.dropout); m != nil {
		xt = graph.Mul(xt, graph.InsertAxes(m, 0))
	}
	return xt, dropoutMask(b, xt.DType(), d[1], units, o.recurrentDropout), newStepMask(o.mask, xt.DType(), o.goBackwards)
}

// rnnOutput makes the recurrence's output y batch-major again.
func rnnOutput(y *graph.Node, returnSequences bool) *graph.Node {
	if returnSequences {
		return graph.Transpose(y, 0, 1) // [B, T, U]
	}
	return y
}

// reverseTime reverses a time-major sequence [T, ...] (a Gather: see row).
func reverseTime(seq *graph.Node) *graph.Node {
	steps := seq.Shape().Dimensions[0]
	idx := make([][]int32, steps)
	for i := range idx {
		idx[i] = []int32{int32(steps - 1 - i)}
	}
	return graph.Gather(seq, graph.Const(seq.Graph(), idx))
}

// dropoutMask is a [batch, n] mask of 0 and 1/(1-rate); nil when not
// training or rate is 0.
func dropoutMask(b *Builder, dt dtypes.DType, batch, n int, rate float64) *graph.Node {
	if !b.Training || rate == 0 {
		return nil
	}
	u := b.Scope.RandomUniform(b.Graph, shapes.Make(dt, batch, n))
	keep := graph.GreaterOrEqual(u, graph.Scalar(b.Graph, dt, rate))
	return graph.Where(keep, graph.MulScalar(graph.OnesLike(u), 1/(1-rate)), graph.ZerosLike(u))
}

// rnnActivations are the names an activation or recurrent_activation of
// a recurrent layer may take (in the params' oneof tags): those whose
// derivative can be written from their output, which is what the backward
// passes keep.
const rnnActivations = "tanh|sigmoid|relu|linear"

// rnnAct is a recurrent layer's activation, by name.
type rnnAct string

// or is a, or def when a is unset ("": a layer made in Go, not from a spec).
func (a rnnAct) or(def string) rnnAct {
	if a == "" {
		return rnnAct(def)
	}
	return a
}

func (a rnnAct) apply(x *graph.Node) *graph.Node { return applyActivation(string(a), x) }

// grad is d·f'(x), from y = f(x).
func (a rnnAct) grad(d, y *graph.Node, k bpttConsts) *graph.Node {
	switch a {
	case "tanh":
		return graph.Mul(d, graph.Sub(k.one, graph.Square(y)))
	case "sigmoid":
		return graph.Mul(d, graph.Mul(y, graph.Sub(k.one, y)))
	case "relu":
		return graph.Mul(d, graph.Sign(y)) // y >= 0: 1 where y > 0, else 0
	case "linear":
		return d
	}
	panic(fmt.Sprintf("ops: recurrent activation %q", string(a)))
}

// splitN cuts the last axis of x into n equal blocks.
func splitN(x *graph.Node, n int) []*graph.Node {
	r := x.Rank()
	u := x.Shape().Dimensions[r-1] / n
	out := make([]*graph.Node, n)
	for k := range out {
		out[k] = graph.SliceAxis(x, r-1, graph.AxisRange(k*u, (k+1)*u))
	}
	return out
}

// project is the input projection of every step at once, per gate block:
// xt [T, B, F] -> xt·kernel_k + bias_k, [T, B, U] (bias_k may be nil).
func project(xt *graph.Node, kernel, bias []*graph.Node) []*graph.Node {
	d := xt.Shape().Dimensions
	x2 := graph.Reshape(xt, d[0]*d[1], d[2])
	out := make([]*graph.Node, len(kernel))
	for k := range out {
		xw := graph.MatMul(x2, kernel[k])
		if bias != nil && bias[k] != nil {
			xw = graph.Add(xw, graph.InsertAxes(bias[k], 0))
		}
		out[k] = graph.Reshape(xw, d[0], d[1], -1)
	}
	return out
}

// withGradient returns y (computed with its gradients stopped) with the
// gradient grad attached: grad(dy) returns the gradients of inputs, in
// order, which receive them. The inputs and y travel through one packed
// identity node, since IdentityWithCustomGradient takes a single input.
func withGradient(y *graph.Node, inputs []*graph.Node, grad func(dy *graph.Node) []*graph.Node) *graph.Node {
	g := y.Graph()
	yShape := y.Shape().Dimensions
	parts := append([]*graph.Node{y}, inputs...)
	flat := make([]*graph.Node, len(parts))
	for i, p := range parts {
		flat[i] = graph.Reshape(p, -1)
	}
	ny := y.Shape().Size()
	packed := graph.IdentityWithCustomGradient(graph.Concatenate(flat, 0), func(_, v *graph.Node) *graph.Node {
		dy := graph.Reshape(graph.Slice(v, graph.AxisRange(0, ny)), yShape...)
		grads := append([]*graph.Node{graph.Zeros(g, shapes.Make(y.DType(), ny))}, grad(dy)...)
		for i, gr := range grads {
			grads[i] = graph.Reshape(gr, -1)
		}
		return graph.Concatenate(grads, 0)
	})
	return graph.Reshape(graph.Slice(packed, graph.AxisRange(0, ny)), yShape...)
}

// rnnWeights are a one-state cell's weights in Keras' layouts, G gate
// blocks of U units: kernel [F, G·U], recurrent [U, G·U], bias [G·U] (nil
// without bias) and recBias [G·U], the recurrent bias of a GRU with
// reset_after (else nil).
type rnnWeights struct {
	kernel, recurrent, bias, recBias *graph.Node
}

func (w rnnWeights) inputs() []*graph.Node {
	out := []*graph.Node{w.kernel, w.recurrent}
	for _, b := range []*graph.Node{w.bias, w.recBias} {
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

func (w rnnWeights) stopGradient() rnnWeights {
	stop := func(n *graph.Node) *graph.Node {
		if n == nil {
			return nil
		}
		return graph.StopGradient(n)
	}
	return rnnWeights{stop(w.kernel), stop(w.recurrent), stop(w.bias), stop(w.recBias)}
}

// rnnBlocks are the weights cut per gate block, once per graph.
type rnnBlocks struct {
	kernel, recurrent, bias, recBias []*graph.Node // bias, recBias: nil without
	// Training only: kernelT is the transposed kernel [G·U, F], recT the
	// transposed recurrent kernel [G·U, U], recTLead and recTLast its rows
	// of all blocks but the last and of the last.
	kernelT, recT, recTLead, recTLast *graph.Node
}

func (w rnnWeights) blocks(n int, training bool) rnnBlocks {
	b := rnnBlocks{kernel: splitN(w.kernel, n), recurrent: splitN(w.recurrent, n)}
	if w.bias != nil {
		b.bias = splitN(w.bias, n)
	}
	if w.recBias != nil {
		b.recBias = splitN(w.recBias, n)
	}
	if training {
		u := w.recurrent.Shape().Dimensions[0]
		b.kernelT = graph.Transpose(w.kernel, 0, 1)
		b.recT = graph.Transpose(w.recurrent, 0, 1)
		b.recTLead = graph.Slice(b.recT, graph.AxisRange(0, (n-1)*u))
		b.recTLast = graph.Slice(b.recT, graph.AxisRange((n-1)*u, n*u))
	}
	return b
}

// recMatMul is h·recurrent_k (+ the recurrent bias_k).
func (b rnnBlocks) recMatMul(h *graph.Node, k int) *graph.Node {
	out := graph.MatMul(h, b.recurrent[k])
	if b.recBias != nil {
		out = graph.Add(out, graph.InsertAxes(b.recBias[k], 0))
	}
	return out
}

// recTerm is a part of the recurrent kernel's gradient: inᵀ·dz gives its
// next columns. A GRU without reset_after multiplies its last block by
// r·h rather than h, so its gradient has two parts.
type recTerm struct{ in, dz *graph.Node }

// rnnCell is a recurrent cell with one state, h [B, U].
type rnnCell interface {
	gates() int
	// step is one step from x, the inputs' projections of each gate block
	// with the input bias [B, U], the previous state h and hr, the state
	// as the recurrent kernel sees it (h with recurrent dropout). It
	// returns the new state and what the backward step needs.
	step(x []*graph.Node, h, hr *graph.Node, w rnnBlocks) (h2 *graph.Node, saved []*graph.Node)
	// backward is the step's gradient from dh, the gradient at the new
	// state h2. It returns dx, the gradient of the inputs' projection
	// [B, G·U]; rec, the parts of the recurrent kernel's gradient (the sum
	// of their dz is the recurrent bias'); dhr, the gradient of hr; and
	// dhc, that of h where it is carried over directly (nil if not).
	backward(dh *graph.Node, saved []*graph.Node, h, hr, h2 *graph.Node, w rnnBlocks, k bpttConsts) (dx *graph.Node, rec []recTerm, dhr, dhc *graph.Node)
}

// rnnRun runs cell over xt [T, B, F] with weights w and the recurrent
// dropout mask recMask (nil without) and the step mask sm (nil without);
// the result is [T, B, U] with
// returnSequences, else [B, U]. With training it keeps what
// backpropagation through time needs and attaches the hand-written
// gradient, as lstmTrain: memory linear in T.
func rnnRun(xt *graph.Node, w rnnWeights, cell rnnCell, recMask *graph.Node, sm *stepMask, returnSequences, training bool) *graph.Node {
	g := xt.Graph()
	dt := xt.DType()
	d := xt.Shape().Dimensions
	steps, batch, features := d[0], d[1], d[2]
	units := w.recurrent.Shape().Dimensions[0]
	n := cell.gates()
	ws, xs := w, xt
	if training {
		ws, xs = w.stopGradient(), graph.StopGradient(xt)
	}
	bl := ws.blocks(n, training)
	var input func(t int) []*graph.Node
	if training {
		xw := project(xs, bl.kernel, bl.bias) // [T, B, U] per gate
		input = func(t int) []*graph.Node {
			idx := stepIndex(g, t)
			out := make([]*graph.Node, n)
			for k := range out {
				out[k] = row(xw[k], idx)
			}
			return out
		}
	} else {
		// Each step projects its own input: no [T, B, G·U] tensor at
		// evaluation, which runs on batches of 500.
		input = func(t int) []*graph.Node {
			xr := row(xs, stepIndex(g, t))
			out := make([]*graph.Node, n)
			for k := range out {
				out[k] = graph.MatMul(xr, bl.kernel[k])
				if bl.bias != nil {
					out[k] = graph.Add(out[k], graph.InsertAxes(bl.bias[k], 0))
				}
			}
			return out
		}
	}
	zero := graph.Zeros(g, shapes.Make(dt, batch, units))
	hs := make([]*graph.Node, steps+1) // hs[t+1] after step t
	hrs := make([]*graph.Node, steps)
	saved := make([][]*graph.Node, steps)
	hs[0] = zero
	for t := range steps {
		hrs[t] = hs[t]
		if recMask != nil {
			hrs[t] = graph.Mul(hs[t], recMask)
		}
		var h2 *graph.Node
		h2, saved[t] = cell.step(input(t), hs[t], hrs[t], bl)
		hs[t+1] = sm.blend(t, h2, hs[t])
	}
	y := hs[steps]
	if returnSequences {
		y = graph.Stack(hs[1:], 0)
	}
	if !training {
		return y
	}
	chunks := chunkBounds(steps, gradChunk)
	return withGradient(graph.StopGradient(y), append([]*graph.Node{xt}, w.inputs()...), func(dy *graph.Node) []*graph.Node {
		k := newBPTTConsts(g, dt)
		dh := zero
		if !returnSequences {
			dh = dy
		}
		dxs := make([]*graph.Node, steps)
		recs := make([][]recTerm, steps)
		for t := steps - 1; t >= 0; t-- {
			if returnSequences {
				dh = graph.Add(dh, row(dy, stepIndex(g, t)))
			}
			var dhr, dhc *graph.Node
			// At a masked step the cell's output was not used (its dh is 0)
			// and hs[t+1] is not its output, which backward does not read
			// then; at the others hs[t+1] is the cell's output.
			dhCell, carried := sm.split(t, dh)
			dxs[t], recs[t], dhr, dhc = cell.backward(dhCell, saved[t], hs[t], hrs[t], hs[t+1], bl, k)
			if t == 0 {
				break // the initial state is a constant
			}
			if recMask != nil {
				dhr = graph.Mul(dhr, recMask)
			}
			dh = k.flushed(sum(carried, sum(dhc, dhr)))
		}
		// The weights' gradients, chunk by chunk (see lstmTape.chunks).
		var dK, db, dRb *graph.Node
		dR := make([]*graph.Node, len(recs[0]))
		dx := make([]*graph.Node, len(chunks)-1)
		stack := func(t0, t1 int, f func(t int) *graph.Node, cols int) *graph.Node {
			s := make([]*graph.Node, t1-t0)
			for t := range s {
				s[t] = f(t0 + t)
			}
			return graph.Reshape(graph.Stack(s, 0), (t1-t0)*batch, cols)
		}
		for i := range dx {
			t0, t1 := chunks[i], chunks[i+1]
			m := (t1 - t0) * batch
			dz := stack(t0, t1, func(t int) *graph.Node { return dxs[t] }, n*units)
			xc := graph.Reshape(rows(xs, t0, t1), m, features)
			dK = sum(dK, graph.DotGeneral(xc, []int{0}, nil, dz, []int{0}, nil)) // [F, G·U]
			db = sum(db, graph.ReduceSum(dz, 0))
			dx[i] = graph.MatMul(dz, bl.kernelT) // [m, F]
			var dzr []*graph.Node
			for j := range dR {
				cols := recs[t0][j].dz.Shape().Dimensions[1]
				in := stack(t0, t1, func(t int) *graph.Node { return recs[t][j].in }, units)
				dzj := stack(t0, t1, func(t int) *graph.Node { return recs[t][j].dz }, cols)
				dR[j] = sum(dR[j], graph.DotGeneral(in, []int{0}, nil, dzj, []int{0}, nil))
				dzr = append(dzr, dzj)
			}
			if w.recBias != nil {
				dRb = sum(dRb, graph.ReduceSum(graph.Concatenate(dzr, 1), 0))
			}
		}
		grads := []*graph.Node{graph.Concatenate(dx, 0), dK, graph.Concatenate(dR, 1)}
		if w.bias != nil {
			grads = append(grads, db)
		}
		if w.recBias != nil {
			grads = append(grads, dRb)
		}
		return grads
	})
}
