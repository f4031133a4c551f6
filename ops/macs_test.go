package ops

import (
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// The counts are the textbook formulas, written out by hand for the
// shapes of the bench models.
func TestMultiplyAdds(t *testing.T) {
	for _, c := range []struct {
		name string
		l    Layer
		in   []int
		want int64
	}{
		{"dense", &Dense{Units: 128}, []int{432}, 432 * 128},
		{"dense on a sequence", &Dense{Units: 20}, []int{200, 32}, 200 * 32 * 20},
		// The transformer spec's attention: 200 steps of 32 features,
		// two heads of 32: three projections, scores, weighted values,
		// output projection.
		{"multi_head_attention", &MultiHeadAttention{NumHeads: 2, KeyDim: 32}, []int{200, 32}, 3*200*32*64 + 2*200*200*64 + 200*64*32},
		{"conv2d valid", &Conv2D{Filters: 3, Kernel: Size2{5, 5}, Strides: Size2{1, 1}, Padding: "valid"}, []int{28, 28, 1}, 24 * 24 * 3 * 25},
		{"conv2d strided 1x1", &Conv2D{Filters: 32, Kernel: Size2{1, 1}, Strides: Size2{2, 2}, Padding: "same"}, []int{32, 32, 16}, 16 * 16 * 32 * 16},
		{"conv1d", &Conv1D{Filters: 8, Kernel: 3, Strides: 1, Padding: "valid"}, []int{10, 4}, 8 * 8 * 3 * 4},
		{"depthwise", &DepthwiseConv2D{Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DepthMultiplier: 2, Padding: "same"}, []int{8, 8, 3}, 8 * 8 * 6 * 9},
		{"separable", &SeparableConv2D{Filters: 5, Kernel: Size2{3, 3}, Strides: Size2{1, 1}, DepthMultiplier: 1, Padding: "same"}, []int{8, 8, 3}, 8*8*3*9 + 8*8*3*5},
		{"conv2d_transpose", &Conv2DTranspose{Filters: 4, Kernel: Size2{3, 3}, Strides: Size2{2, 2}, Padding: "same"}, []int{4, 4, 2}, 4 * 4 * 2 * 9 * 4},
		{"embedding", &Embedding{InputDim: 5000, OutputDim: 32}, []int{500}, 0},
		{"batch_normalization", &BatchNorm{Axis: -1}, []int{32, 32, 16}, 2 * 32 * 32 * 16},
		{"lstm", &LSTM{Units: 100}, []int{500, 32}, 500 * 4 * 100 * 132},
		{"gru", &GRU{Units: 100}, []int{500, 32}, 500 * 3 * 100 * 132},
		{"simple_rnn", &SimpleRNN{Units: 10}, []int{7, 3}, 7 * 10 * 13},
		{"bidirectional lstm", &Bidirectional{Layer: spec.Component{Kind: "lstm", Config: &LSTM{Units: 64}}}, []int{500, 32}, 2 * 500 * 4 * 64 * 96},
	} {
		out, err := c.l.OutputShape(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, ok := MultiplyAdds(Stage{Layer: c.l, In: c.in, Out: out})
		if !ok || got != c.want {
			t.Errorf("%s: %d multiply-adds (counted %v), want %d", c.name, got, ok, c.want)
		}
	}
	if _, ok := MultiplyAdds(Stage{Layer: &Flatten{}, In: []int{2, 2}, Out: []int{4}}); ok {
		t.Error("flatten counted")
	}
}
