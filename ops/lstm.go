package ops

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/pipe-ml/pipe/spec"
)

func init() {
	Layers.Register("lstm", "Long short-term memory recurrent layer over (timesteps, features) examples, Keras' LSTM "+
		"(by default tanh activation, sigmoid recurrent activation; gate order i, f, c, o, unit_forget_bias).",
		func() Layer { return &LSTM{UseBias: true, Activation: "tanh", RecurrentActivation: "sigmoid"} })
}

// LSTM is Keras' LSTM, by default with tanh for the cell and output and
// sigmoid for the gates. Its weights keep Keras' layouts: kernel
// [features, 4·units], recurrent_kernel [units, 4·units], bias [4·units],
// gates in the order i, f, c, o.
//
// How it trains. Differentiating the unrolled recurrence with
// graph.Gradient (GoMLX's own ml/layers/lstm) slices one time step out of the
// sequence per step, and the gradient of each slice is padded back to the
// whole sequence: memory grows with T² (4.5 GB at T=100, batch 128; over 23
// GB at T=500). Here the forward pass is unrolled as well, but its gradient
// is written by hand, backpropagation through time attached with
// graph.IdentityWithCustomGradient, so memory is linear in T: the forward
// pass keeps each step's gates, cell and hidden state (about 4·6·units·T·B
// bytes, 150 MB for the course model) and the backward pass the gradients of
// the pre-activations. What is not recurrent (the input projection x·W+b,
// and the gradients of the weights and of x) is a few large matrix products.
// The Go backend's Slice copies element by element, so the loop avoids it:
// the gates are computed from per-gate blocks of the weights, and steps are
// read with Gather, which copies whole blocks. Gradients below about 1e-27
// are flushed to zero, since the subnormal numbers they decay into make
// every product 20 times slower (see flushBelow).
//
// Measured on the course model (T=500, batch 128, 2 shared cores; see
// BenchmarkLSTMTrainStep): about 30 samples/s, or 120 to 160 when built with
// GOEXPERIMENT=simd, at under 1 GB peak RSS; PyTorch 1.13 does 3 to 6
// samples/s on the same machine.
//
// Unrolled, not graph.While: a While driver deadlocked the Go backend's
// parallel executor at batch 128 (its body's MatMul waits on pool workers).
type LSTM struct {
	Units               int     `pipe:"units,required,min=1,max=1000000" doc:"size of the hidden and cell state"`
	ReturnSequences     bool    `pipe:"return_sequences" doc:"output the hidden state of every time step (timesteps, units) instead of only the last (units)"`
	UseBias             bool    `pipe:"use_bias" doc:"add a learned bias to the gates; the forget gate's starts at 1 (Keras' unit_forget_bias)"`
	Activation          string  `pipe:"activation,oneof=tanh|sigmoid|relu|linear" doc:"activation of the cell candidate and of the cell state in the output"`
	RecurrentActivation string  `pipe:"recurrent_activation,oneof=tanh|sigmoid|relu|linear" doc:"activation of the input, forget and output gates"`
	GoBackwards         bool    `pipe:"go_backwards" doc:"process the sequence from its last step to its first; with return_sequences the output is in that reversed order"`
	Dropout             float64 `pipe:"dropout,min=0,max=0.999" doc:"fraction of the inputs' features dropped in training, the same ones at every time step"`
	RecurrentDropout    float64 `pipe:"recurrent_dropout,min=0,max=0.999" doc:"fraction of the hidden state's units dropped in training where it enters the recurrent kernel, the same ones at every time step"`
	// kernel_initializer (glorot_uniform), bias_initializer (zeros, but
	// for the forget gate's ones, whatever the initializer) and the
	// regularizers of kernel and bias.
	Weights
	RecurrentInitializer spec.Component `pipe:"recurrent_initializer,registry=initializer" doc:"how the recurrent kernel starts; default orthogonal"`
	RecurrentRegularizer spec.Component `pipe:"recurrent_regularizer,registry=regularizer" doc:"penalty on the recurrent kernel added to the training loss; default none"`
}

// Validate checks the chosen initializers and regularizers.
func (l *LSTM) Validate() error {
	return validateRecurrent(l.Weights, l.RecurrentInitializer, l.RecurrentRegularizer)
}

// validateRecurrent checks a recurrent layer's initializers and
// regularizers: w's and the recurrent kernel's.
func validateRecurrent(w Weights, init, reg spec.Component) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return validateWeights(named{"recurrent_initializer", init, true}, named{"recurrent_regularizer", reg, false})
}

// sequence checks that in is (timesteps, features).
func sequence(in []int) error { return axes(in, "timesteps", "features") }

func (l *LSTM) OutputShape(in []int) ([]int, error) {
	return rnnOutputShape(in, l.Units, l.ReturnSequences)
}

func (l *LSTM) Params(in []int) int {
	n := 4 * l.Units * (in[1] + l.Units)
	if l.UseBias {
		n += 4 * l.Units
	}
	return n
}

func (l *LSTM) reversed() Layer        { c := *l; c.GoBackwards = !c.GoBackwards; return &c }
func (l *LSTM) returnsSequences() bool { return l.ReturnSequences }

// weights creates the LSTM's variables.
func (l *LSTM) weights(b *Builder, features int) lstmWeights {
	units := l.Units
	w := lstmWeights{
		kernel:    b.Kernel(l.Weights, "kernel", features, 4*units),
		recurrent: b.recurrentKernel(l.RecurrentInitializer, l.RecurrentRegularizer, units, 4*units),
	}
	if l.UseBias {
		w.bias = lstmBias(b, l.Weights, units)
	}
	return w
}

func (l *LSTM) Build(b *Builder, x *graph.Node) *graph.Node {
	y, _ := l.BuildMasked(b, []*graph.Node{x}, nil)
	return y
}

// BuildMasked runs the LSTM over the steps its input's mask keeps: a
// masked step keeps the previous hidden and cell states (see stepMask).
func (l *LSTM) BuildMasked(b *Builder, xs, masks []*graph.Node) (*graph.Node, *graph.Node) {
	x := xs[0]
	w := l.weights(b, x.Shape().Dimensions[2])
	o := rnnOptions{l.ReturnSequences, l.GoBackwards, l.Dropout, l.RecurrentDropout, maskOf(masks)}
	xt, recMask, sm := rnnInput(b, x, l.Units, o) // time-major: [T, B, F]
	f := lstmActs{act: rnnAct(l.Activation).or("tanh"), rec: rnnAct(l.RecurrentActivation).or("sigmoid")}
	var y *graph.Node
	if b.Training {
		y = lstmTrain(xt, w, f, recMask, sm, l.ReturnSequences)
	} else {
		y = lstmInfer(xt, w, f, sm, l.ReturnSequences)
	}
	return rnnOutput(y, l.ReturnSequences), rnnOutMask(o)
}

// lstmActs are an LSTM's activation (cell candidate, cell state in the
// output) and recurrent activation (the gates).
type lstmActs struct{ act, rec rnnAct }

// lstmBias is the bias variable [4U]: drawn by w's bias_initializer
// (zeros by default), but for the forget gate's ones, Keras'
// unit_forget_bias, which Keras applies whatever the initializer.
func lstmBias(b *Builder, w Weights, units int) *graph.Node {
	dims := []int{4 * units}
	init := b.initialValues("bias", w.BiasInitializer, zeros, FansOf(dims), dims)
	for i := units; i < 2*units; i++ {
		init[i] = 1
	}
	v := b.variable("bias", init, dims)
	b.Regularize(w.BiasRegularizer, v)
	return v
}

// lstmWeights are an LSTM's weights in Keras' layouts; bias may be nil.
type lstmWeights struct {
	kernel, recurrent, bias *graph.Node
}

// stopGradient returns the weights with gradients stopped: the forward
// pass is not differentiated, lstmTrain attaches the gradient itself.
func (w lstmWeights) stopGradient() lstmWeights {
	out := lstmWeights{kernel: graph.StopGradient(w.kernel), recurrent: graph.StopGradient(w.recurrent)}
	if w.bias != nil {
		out.bias = graph.StopGradient(w.bias)
	}
	return out
}

// gates holds one tensor per gate, in Keras' order: input, forget, cell
// candidate, output.
type gates [4]*graph.Node

// split cuts the last axis of x into the four gates' blocks.
func split(x *graph.Node) gates {
	var out gates
	copy(out[:], splitN(x, 4))
	return out
}

// lstmBlocks are the weights cut per gate (once per graph, not per step):
// kernel [F, U], recurrent [U, U], bias [U] (nil without bias).
type lstmBlocks struct {
	kernel, recurrent, bias gates
}

func (w lstmWeights) blocks() lstmBlocks {
	b := lstmBlocks{kernel: split(w.kernel), recurrent: split(w.recurrent)}
	if w.bias != nil {
		b.bias = split(w.bias)
	}
	return b
}

// lstmProject is the input projection of every step at once, per gate:
// xt [T, B, F] -> xt·kernel_k + bias_k, [T, B, U].
func lstmProject(xt *graph.Node, w lstmBlocks) gates {
	var out gates
	copy(out[:], project(xt, w.kernel[:], w.bias[:]))
	return out
}

// lstmCell is one step from the projected inputs x of each gate [B, U]:
// z_k = x_k + hr·recurrent_k, hr being the hidden state h with recurrent
// dropout. It returns the activated gates (i, f, c̃, o), the new cell state
// and the new hidden state.
func lstmCell(x gates, hr, c *graph.Node, recurrent gates, fn lstmActs) (act gates, c2, h2 *graph.Node) {
	for k := range act {
		z := graph.Add(x[k], graph.MatMul(hr, recurrent[k]))
		if k == 2 {
			act[k] = fn.act.apply(z)
		} else {
			act[k] = fn.rec.apply(z)
		}
	}
	c2 = graph.Add(graph.Mul(act[1], c), graph.Mul(act[0], act[2]))
	h2 = graph.Mul(act[3], fn.act.apply(c2))
	return act, c2, h2
}

// bpttConsts are the constants of the backward step, made once per graph.
type bpttConsts struct {
	one, flush *graph.Node
}

func newBPTTConsts(g *graph.Graph, dt dtypes.DType) bpttConsts {
	return bpttConsts{one: graph.ConstAsDType(g, dt, 1), flush: graph.ConstAsDType(g, dt, flushBelow)}
}

// flushBelow: gradients smaller than about flushBelow·2⁻²⁴ (1e-27) are
// set to 0 in backpropagation through time. Over hundreds of steps the
// gradient that flows back through the cell decays geometrically into
// float32's subnormal range (below 1.2e-38), where every multiplication
// takes a slow microcode path: at T=500 this made a training step 20 times
// slower. (x + flushBelow) - flushBelow is x up to an absolute error below
// 1e-27, and 0 for anything smaller, so no subnormal survives.
const flushBelow = 1e-20

func (k bpttConsts) flushed(x *graph.Node) *graph.Node {
	return graph.Sub(graph.Add(x, k.flush), k.flush)
}

// lstmCellBackward is one step of backpropagation through time. From the
// gradients dh, dc arriving at the step's outputs h and c, its activated
// gates, its cell state c and the previous one, it returns dz, the gradient
// of the step's pre-activations [B, 4U] (Keras' gate order), and the
// gradients for the previous step's hr (h with recurrent dropout) and c.
// recurrentT is the transposed recurrent kernel [4U, U].
func lstmCellBackward(dh, dc *graph.Node, act gates, c, cPrev, recurrentT *graph.Node, k bpttConsts, fn lstmActs) (dz, dhPrev, dcPrev *graph.Node) {
	i, f, cc, o := act[0], act[1], act[2], act[3]
	tc := fn.act.apply(c)
	// h = o·tanh(c); c = f·c_prev + i·c̃
	do := graph.Mul(dh, tc)
	dc = graph.Add(dc, fn.act.grad(graph.Mul(dh, o), tc, k))
	dz = k.flushed(graph.Concatenate([]*graph.Node{
		fn.rec.grad(graph.Mul(dc, cc), i, k),
		fn.rec.grad(graph.Mul(dc, cPrev), f, k),
		fn.act.grad(graph.Mul(dc, i), cc, k),
		fn.rec.grad(do, o, k),
	}, 1))
	// dh for the previous step comes from the flushed dz; dc is carried
	// over, so it is flushed too.
	return dz, graph.MatMul(dz, recurrentT), k.flushed(graph.Mul(dc, f))
}

// row reads step t of a time-major tensor seq [T, ...] -> [...], with a
// Gather, which copies whole blocks (the Go backend's Slice copies element
// by element, and it has no DynamicSlice). t is an int32 [1] (stepIndex).
func row(seq, t *graph.Node) *graph.Node {
	return graph.Gather(seq, t)
}

// stepIndex is the constant index of step t for row.
func stepIndex(g *graph.Graph, t int) *graph.Node { return graph.Const(g, []int32{int32(t)}) }

// lstmInfer runs the recurrence keeping no more than the output needs; it
// has no gradient. Each step projects its own input ([x_t, h]·[kernel_k;
// recurrent_k] + bias_k), so that no [T, B, 4U] tensor is made: evaluation
// runs on batches of 500.
func lstmInfer(xt *graph.Node, w lstmWeights, fn lstmActs, sm *stepMask, returnSequences bool) *graph.Node {
	g := xt.Graph()
	d := xt.Shape().Dimensions
	steps, batch := d[0], d[1]
	units := w.recurrent.Shape().Dimensions[0]
	blocks := w.blocks()
	var stacked gates // [F+U, U]
	for k := range stacked {
		stacked[k] = graph.Concatenate([]*graph.Node{blocks.kernel[k], blocks.recurrent[k]}, 0)
	}
	cell := func(xt, h, c *graph.Node) (*graph.Node, *graph.Node) {
		xh := graph.Concatenate([]*graph.Node{xt, h}, 1)
		var x gates
		for k := range x {
			x[k] = graph.MatMul(xh, stacked[k])
			if blocks.bias[k] != nil {
				x[k] = graph.Add(x[k], graph.InsertAxes(blocks.bias[k], 0))
			}
		}
		c = graph.Add(graph.Mul(fn.rec.apply(x[1]), c), graph.Mul(fn.rec.apply(x[0]), fn.act.apply(x[2])))
		return c, graph.Mul(fn.rec.apply(x[3]), fn.act.apply(c))
	}
	zero := graph.Zeros(g, shapes.Make(xt.DType(), batch, units))
	c, h := zero, zero
	hs := make([]*graph.Node, steps)
	for t := range steps {
		c2, h2 := cell(row(xt, stepIndex(g, t)), h, c)
		c, h = sm.blend(t, c2, c), sm.blend(t, h2, h)
		hs[t] = h
	}
	if returnSequences {
		return graph.Stack(hs, 0)
	}
	return h
}

// lstmTape is what the forward pass keeps for backpropagation through
// time, and how to run it.
type lstmTape struct {
	y *graph.Node // the output: [T, B, U] or [B, U]
	// The steps come in consecutive chunks, [chunks[i], chunks[i+1]), and
	// the gradients of the weights are summed chunk by chunk, so that no
	// [T, B, 4U] gradient and its transposed copy are ever whole in memory.
	chunks []int
	// hiddens returns the hidden states entering chunk i's steps [n, B, U],
	// with recurrent dropout.
	hiddens func(i int) *graph.Node
	// backward returns, per chunk, dz [n, B, 4U] from the gradient of y.
	backward func(dy *graph.Node) []*graph.Node
}

// gradChunk is the number of steps whose weight gradients are computed in
// one matrix product (a variable for tests).
var gradChunk = 50

func chunkBounds(steps, size int) []int {
	b := []int{0}
	for t := size; t < steps; t += size {
		b = append(b, t)
	}
	return append(b, steps)
}

// lstmForwardUnrolled runs the T steps as T copies of the cell in the graph;
// recMask is the recurrent dropout mask [B, U] (nil without), sm the step
// mask (nil without).
func lstmForwardUnrolled(xw gates, w lstmWeights, fn lstmActs, recMask *graph.Node, sm *stepMask, returnSequences bool) lstmTape {
	g := xw[0].Graph()
	dt := xw[0].DType()
	d := xw[0].Shape().Dimensions
	steps, batch, units := d[0], d[1], d[2]
	rec := w.blocks().recurrent
	zero := graph.Zeros(g, shapes.Make(dt, batch, units))
	act := make([]gates, steps)
	cells := make([]*graph.Node, steps+1) // cells[t+1] after step t
	hiddens := make([]*graph.Node, steps+1)
	cells[0], hiddens[0] = zero, zero
	hrs := hiddens // the hidden states as the recurrent kernel sees them
	if recMask != nil {
		hrs = make([]*graph.Node, steps)
	}
	for t := range steps {
		idx := stepIndex(g, t)
		var x gates
		for k := range x {
			x[k] = row(xw[k], idx)
		}
		if recMask != nil {
			hrs[t] = graph.Mul(hiddens[t], recMask)
		}
		var c2, h2 *graph.Node
		act[t], c2, h2 = lstmCell(x, hrs[t], cells[t], rec, fn)
		cells[t+1], hiddens[t+1] = sm.blend(t, c2, cells[t]), sm.blend(t, h2, hiddens[t])
	}
	tape := lstmTape{y: hiddens[steps], chunks: chunkBounds(steps, gradChunk)}
	if returnSequences {
		tape.y = graph.Stack(hiddens[1:], 0)
	}
	tape.hiddens = func(i int) *graph.Node {
		return graph.Stack(hrs[tape.chunks[i]:tape.chunks[i+1]], 0)
	}
	tape.backward = func(dy *graph.Node) []*graph.Node {
		recT := graph.Transpose(w.recurrent, 0, 1)
		k := newBPTTConsts(g, dt)
		dh, dc := zero, zero
		if !returnSequences {
			dh = dy
		}
		dz := make([]*graph.Node, steps)
		for t := steps - 1; t >= 0; t-- {
			if returnSequences {
				dh = graph.Add(dh, row(dy, stepIndex(g, t)))
			}
			// A masked step's cell gets no gradient (so cells[t+1], not its
			// output then, is not read); the states' pass straight through.
			dhCell, dhCarried := sm.split(t, dh)
			dcCell, dcCarried := sm.split(t, dc)
			dz[t], dh, dc = lstmCellBackward(dhCell, dcCell, act[t], cells[t+1], cells[t], recT, k, fn)
			if recMask != nil {
				dh = graph.Mul(dh, recMask)
			}
			dh, dc = sum(dhCarried, dh), sum(dcCarried, dc)
		}
		out := make([]*graph.Node, len(tape.chunks)-1)
		for i := range out {
			out[i] = graph.Stack(dz[tape.chunks[i]:tape.chunks[i+1]], 0)
		}
		return out
	}
	return tape
}

// rows returns steps [t0, t1) of a time-major tensor seq [T, ...], with a
// Gather (see row); the whole of seq when that is all.
func rows(seq *graph.Node, t0, t1 int) *graph.Node {
	if t0 == 0 && t1 == seq.Shape().Dimensions[0] {
		return seq
	}
	idx := make([][]int32, t1-t0)
	for i := range idx {
		idx[i] = []int32{int32(t0 + i)}
	}
	return graph.Gather(seq, graph.Const(seq.Graph(), idx))
}

// sum adds b to a, a nil a being 0.
func sum(a, b *graph.Node) *graph.Node {
	if a == nil {
		return b
	}
	return graph.Add(a, b)
}

// lstmTrain runs the recurrence keeping what backpropagation through time
// needs, and attaches the hand-written gradient. xt is [T, B, F]; the
// result is [T, B, U] with returnSequences, else [B, U].
func lstmTrain(xt *graph.Node, w lstmWeights, fn lstmActs, recMask *graph.Node, sm *stepMask, returnSequences bool) *graph.Node {
	xd := xt.Shape().Dimensions
	batch, features := xd[1], xd[2]
	units := w.recurrent.Shape().Dimensions[0]
	// No gradient flows through the forward pass: it is all attached below.
	ws := w.stopGradient()
	xs := graph.StopGradient(xt)
	xw := lstmProject(xs, ws.blocks())
	tape := lstmForwardUnrolled(xw, ws, fn, recMask, sm, returnSequences)
	inputs := []*graph.Node{xt, w.kernel, w.recurrent}
	if w.bias != nil {
		inputs = append(inputs, w.bias)
	}
	return withGradient(graph.StopGradient(tape.y), inputs, func(dy *graph.Node) []*graph.Node {
		dzs := tape.backward(dy)
		kernelT := graph.Transpose(ws.kernel, 0, 1)
		var dWU, db *graph.Node
		dx := make([]*graph.Node, len(dzs))
		for i, dz := range dzs {
			t0, t1 := tape.chunks[i], tape.chunks[i+1]
			n := (t1 - t0) * batch
			dz = graph.Reshape(dz, n, 4*units)
			// The kernels' gradients in one product: [x, h_prev]ᵀ · dz.
			xh := graph.Concatenate([]*graph.Node{
				graph.Reshape(rows(xs, t0, t1), n, features),
				graph.Reshape(tape.hiddens(i), n, units),
			}, 1)
			dWU = sum(dWU, graph.DotGeneral(xh, []int{0}, nil, dz, []int{0}, nil)) // [F+U, 4U]
			db = sum(db, graph.ReduceSum(dz, 0))
			dx[i] = graph.MatMul(dz, kernelT) // [n, F]
		}
		grads := []*graph.Node{
			graph.Concatenate(dx, 0),                       // dx [T·B, F]
			graph.Slice(dWU, graph.AxisRange(0, features)), // dkernel [F, 4U]
			graph.Slice(dWU, graph.AxisRange(features, features+units)),
		}
		if w.bias != nil {
			grads = append(grads, db)
		}
		return grads
	})
}

// recurrentKernel is the variable recurrent_kernel [units, cols] of a
// recurrent layer, drawn by init (orthogonal when left out, Keras'
// default, which draws what Builder.Orthogonal draws) with the penalty of
// reg.
func (b *Builder) recurrentKernel(init, reg spec.Component, units, cols int) *graph.Node {
	dims := []int{units, cols}
	return b.Weight("recurrent_kernel", init, reg, &Orthogonal{Gain: 1}, FansOf(dims), dims...)
}

// Orthogonal creates (on first use) a rows x cols variable with orthonormal
// rows or columns (whichever are fewer), Keras' Orthogonal initialiser with
// gain 1 (see orthogonal).
func (b *Builder) Orthogonal(name string, rows, cols int) *graph.Node {
	return b.variable(name, orthogonal(b.rng(name), rows, cols), []int{rows, cols})
}
