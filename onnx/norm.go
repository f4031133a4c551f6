package onnx

func init() {
	// BatchNormalization (with the moving statistics, as inference uses
	// them) and LayerNormalization (opset 17) exist in ONNX; the mappings
	// and their runtime tests are still to write.
	notExportable["batch_normalization"] = "no ONNX mapping yet (ONNX BatchNormalization with the moving statistics would do)"
	notExportable["layer_normalization"] = "no ONNX mapping yet (ONNX LayerNormalization, opset 17, would do)"
}
