package ops

// LayerPenalty is layerPenalty, for the spec tests of package ops_test.
var LayerPenalty = layerPenalty
