package onnx

// GLocal-K's layers: a kernelised dense layer would export as MatMul with
// the kernel-modulated weights folded in (they are fixed once trained); the
// global kernel convolution would be a ReduceMean, a MatMul and a Conv.
func init() {
	notExportable["kernel_dense"] = "no ONNX mapping yet (its weights times the fitted kernel, folded, would export as a dense layer)"
	notExportable["global_kernel_conv"] = "no ONNX mapping yet (the items' mean reconstruction times its matrix, as a Conv kernel over the rating matrix, would do)"
}
