package onnx

// Merge layers read several inputs, and export maps plain stacks only
// (Stack refuses a graph first); ONNX's Add, Sub, Mul, Max, Min, Mean and
// Concat would carry them once it maps graphs.
func init() {
	for _, name := range []string{"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"} {
		notExportable[name] = "a merge layer: pipe exports plain layer stacks, not graphs, to ONNX so far"
	}
}
