package onnx

import (
	"github.com/pipe-ml/pipe/ops"
)

// GLocal-K's layers. A kernelised dense layer is a dense layer whose
// kernel, times the local kernel of its fitted points, is fixed once
// trained: the product is folded here. The global kernel convolution
// makes a kernel per example from its reconstruction input, so it is
// written out as pipe computes it: the shifted copies of the padded
// matrix, each times its entry of the kernel, summed, then Relu.
func init() {
	mappings["kernel_dense"] = exportKernelDense
	merges["global_kernel_conv"] = exportGlobalKernelConv
}

// exportKernelDense is MatMul with kernel ⊙ max(0, 1 - |u_i - v_j|²),
// computed in float32 in pipe's order (|u|² + |v|² - 2 u·v), then the
// bias and the activation.
func exportKernelDense(b *stackBuilder, st ops.Stage, x tensor) (tensor, error) {
	l, err := layer[*ops.KernelDense](st)
	if err != nil {
		return x, err
	}
	in := st.In[len(st.In)-1]
	kernel, dims, err := b.weight(st, "kernel", in, l.Units)
	if err != nil {
		return x, err
	}
	u, _, err := b.weight(st, "u", in, l.Dim)
	if err != nil {
		return x, err
	}
	v, _, err := b.weight(st, "v", l.Units, l.Dim)
	if err != nil {
		return x, err
	}
	sq := func(p []float32) (s float32) {
		for _, c := range p {
			s += c * c
		}
		return s
	}
	eff := make([]float32, in*l.Units)
	for i := range in {
		ui := u[i*l.Dim : (i+1)*l.Dim]
		for j := range l.Units {
			vj := v[j*l.Dim : (j+1)*l.Dim]
			var dot float32
			for d := range l.Dim {
				dot += ui[d] * vj[d]
			}
			k := max(1-(sq(ui)+sq(vj)-2*dot), 0)
			eff[i*l.Units+j] = kernel[i*l.Units+j] * k
		}
	}
	x = b.channelsLast(x, st.Name)
	x.name = b.op("MatMul", st.Name, []string{x.name, b.floats(st.Name+"/kernel", dims, eff)})
	if l.UseBias {
		if x, err = b.byFeature(st, x, "Add", "bias", []int{l.Units}); err != nil {
			return x, err
		}
	}
	x.shape = st.Out
	return b.activation(x, st.Name, l.Activation)
}

// exportGlobalKernelConv: inputs [matrix, reconstruction], [N, rows,
// cols] each.
func exportGlobalKernelConv(b *stackBuilder, st ops.Stage, xs []tensor) (tensor, error) {
	l, err := layer[*ops.GlobalKernelConv](st)
	if err != nil {
		return tensor{}, err
	}
	x, recon := b.channelsLast(xs[0], st.Name), b.channelsLast(xs[1], st.Name)
	rows, cols, k := st.In[0], st.In[1], l.Size
	w, dims, err := b.weight(st, "kernel", rows, k*k)
	if err != nil {
		return tensor{}, err
	}
	pooled := b.op("ReduceMean", st.Name, []string{recon.name}, ints("axes", 2), int1("keepdims", 0)) // [N, rows]
	gk := b.op("MatMul", st.Name, []string{pooled, b.floats(st.Name+"/kernel", dims, w)})             // [N, k²]
	gk = b.op("Mul", st.Name, []string{gk, b.scalar(st.Name+"/dot_scale", float32(l.DotScale))})
	p := k / 2
	padded := b.op("Pad", st.Name, []string{x.name, b.int64s(st.Name+"/pads", []int{6}, []int64{0, int64(p), int64(p), 0, int64(p), int64(p)})})
	var sum string
	for i := range k {
		for j := range k {
			shifted := b.op("Slice", st.Name, []string{padded, b.axes(st.Name+"/starts", i, j), b.axes(st.Name+"/ends", i+rows, j+cols), b.axes(st.Name+"/axes", 1, 2)})
			c := b.op("Slice", st.Name, []string{gk, b.axes(st.Name+"/entry", i*k+j), b.axes(st.Name+"/entry_end", i*k+j+1), b.axes(st.Name+"/entry_axis", 1)}) // [N, 1]
			c = b.op("Unsqueeze", st.Name, []string{c, b.axes(st.Name+"/entry_unsqueeze", 2)})                                                                  // [N, 1, 1]
			term := b.op("Mul", st.Name, []string{shifted, c})
			if sum == "" {
				sum = term
			} else {
				sum = b.op("Add", st.Name, []string{sum, term})
			}
		}
	}
	x.name = b.op("Relu", st.Name, []string{sum})
	x.shape = st.Out
	return x, nil
}
