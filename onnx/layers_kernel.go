package onnx

// GLocal-K's layers: a kernelised dense layer would export as MatMul with
// the kernel-modulated weights folded in (they are fixed once trained); the
// global kernel convolution takes two inputs, and pipe exports plain layer
// stacks, not graphs, so far.
func init() {
	notExportable["kernel_dense"] = "no ONNX mapping yet (its weights times the fitted kernel, folded, would export as a dense layer)"
	notExportable["global_kernel_conv"] = "a merge layer: pipe exports plain layer stacks, not graphs, to ONNX so far"
}
