package ops

// Counted is implemented by a layer whose cost is mostly multiply-adds:
// products with weights (dense, convolutions, recurrent kernels) and the
// per-element scaling of normalisations. Bias additions and activations
// are not counted, as in the usual FLOP counts of papers and of tools
// such as fvcore and ptflops; neither are layers without the method
// (pooling, dropout, reshapes, merges), whose element-wise work is small
// next to the products.
type Counted interface {
	// MultiplyAdds is the forward pass's multiply-adds for one example of
	// input shape in and output shape out.
	MultiplyAdds(in, out []int) int64
}

// MergeCounted is Counted for a layer of several inputs, such as
// attention's query and value.
type MergeCounted interface {
	MergeMultiplyAdds(ins [][]int, out []int) int64
}

// MultiplyAdds is the forward multiply-adds of stage st for one example,
// and whether its layer counts them (false: counted as 0).
func MultiplyAdds(st Stage) (int64, bool) {
	if m, ok := st.Layer.(MergeCounted); ok {
		ins := st.Ins
		if len(ins) == 0 {
			ins = [][]int{st.In}
		}
		return m.MergeMultiplyAdds(ins, st.Out), true
	}
	c, ok := st.Layer.(Counted)
	if !ok {
		return 0, false
	}
	return c.MultiplyAdds(st.In, st.Out), true
}

// elements is the product of dims, as an int64.
func elements(dims ...int) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= int64(d)
	}
	return n
}

// MultiplyAdds: one product of the input with the kernel (on a sequence,
// one per step: dense acts on the last axis).
func (l *Dense) MultiplyAdds(in, _ []int) int64 { return elements(in...) * int64(l.Units) }

// MultiplyAdds: each output value is a window of kh*kw*channels products.
func (l *Conv2D) MultiplyAdds(in, out []int) int64 {
	return elements(out...) * elements(l.Kernel[0], l.Kernel[1], in[2])
}

func (l *Conv1D) MultiplyAdds(in, out []int) int64 {
	return elements(out...) * elements(l.Kernel, in[1])
}

// MultiplyAdds: each output channel sees one input channel's window.
func (l *DepthwiseConv2D) MultiplyAdds(_, out []int) int64 {
	return elements(out...) * elements(l.Kernel[0], l.Kernel[1])
}

// MultiplyAdds: the depthwise step on every output position, then the
// pointwise product.
func (l *SeparableConv2D) MultiplyAdds(in, out []int) int64 {
	mid := elements(in[2], l.DepthMultiplier)
	return elements(out[0], out[1]) * mid * (elements(l.Kernel[0], l.Kernel[1]) + int64(l.Filters))
}

// MultiplyAdds: every input value spreads over the kernel's taps into
// every filter (the zeros the lowering inserts are not counted).
func (l *Conv2DTranspose) MultiplyAdds(in, _ []int) int64 {
	return elements(in...) * elements(l.Kernel[0], l.Kernel[1], l.Filters)
}

// MultiplyAdds: a lookup, no arithmetic.
func (*Embedding) MultiplyAdds(_, _ []int) int64 { return 0 }

// MultiplyAdds: normalising and scaling each element.
func (*BatchNorm) MultiplyAdds(in, _ []int) int64 { return 2 * elements(in...) }

func (*LayerNorm) MultiplyAdds(in, _ []int) int64 { return 2 * elements(in...) }

// MultiplyAdds: every step, the input and the previous state times the
// four gates' kernels.
func (l *LSTM) MultiplyAdds(in, _ []int) int64 {
	return elements(in[0], 4, l.Units, in[1]+l.Units)
}

// MultiplyAdds: every step, three gates' kernels.
func (l *GRU) MultiplyAdds(in, _ []int) int64 {
	return elements(in[0], 3, l.Units, in[1]+l.Units)
}

func (l *SimpleRNN) MultiplyAdds(in, _ []int) int64 {
	return elements(in[0], l.Units, in[1]+l.Units)
}

// MultiplyAdds: the wrapped layer's, twice.
func (l *Bidirectional) MultiplyAdds(in, _ []int) int64 {
	r, err := l.inner()
	if err != nil {
		return 0
	}
	c, ok := r.(Counted)
	if !ok {
		return 0
	}
	out, err := r.OutputShape(in)
	if err != nil {
		return 0
	}
	return 2 * c.MultiplyAdds(in, out)
}

// MergeMultiplyAdds: the query, key and value projections, the scores
// (query times key) and their weighted sum of the values per head, and
// the output projection.
func (l *MultiHeadAttention) MergeMultiplyAdds(ins [][]int, out []int) int64 {
	q, v := ins[0], ins[0]
	if len(ins) > 1 {
		v = ins[1]
	}
	k := v
	if len(ins) > 2 {
		k = ins[2]
	}
	h, kd, vd := int64(l.NumHeads), int64(l.KeyDim), int64(l.valueDim())
	tq, tv := int64(q[0]), int64(v[0])
	proj := tq*int64(q[1])*h*kd + tv*int64(k[1])*h*kd + tv*int64(v[1])*h*vd
	attend := tq*tv*h*kd + tq*tv*h*vd
	return proj + attend + tq*h*vd*int64(out[1])
}
