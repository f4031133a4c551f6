package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

// maskSpec embeds ids with mask_zero (or not), runs the layers given and
// ends in a dense softmax; %[1]d is the padded length.
const maskSpec = `name: masked
seed: 3
data:
  loader: imdb
  num_words: 100
  transforms:
    - pad_sequences: {maxlen: %[1]d}
model:
  input: {shape: [%[1]d]}
  layers:
    - embedding: {input_dim: 100, output_dim: 8, mask_zero: %[2]v}
%[3]s    - dense: {units: 2, activation: softmax}
train: {loss: sparse_categorical_crossentropy, optimizer: adam, batch_size: 4}
`

// paddedOutputs builds the spec with its layers for sequences of length
// steps and returns its outputs (without dropout) for reviews, each
// padded with 0 at the front as pad_sequences does, or with post at the
// back.
func paddedOutputs(t *testing.T, layers string, maskZero bool, steps int, reviews [][]int32, post bool) []float32 {
	t.Helper()
	plan := loadSpec(t, "masked.yaml", fmt.Sprintf(maskSpec, steps, maskZero, layers))
	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(plan, backend)
	if err != nil {
		t.Fatal(err)
	}
	split := &data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{steps}}},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}}, Int: make([]int32, len(reviews))},
	}
	for _, r := range reviews {
		pad := make([]int32, steps-len(r))
		if post {
			split.X.Int = append(append(split.X.Int, r...), pad...)
		} else {
			split.X.Int = append(append(split.X.Int, pad...), r...)
		}
	}
	out, err := m.Outputs(split)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPaddingInvariance: with mask_zero, a review's output does not depend
// on how much padding it carries: the same tokens padded to 50 and to 200
// steps give the same output, through every layer that reads masks and
// the layers that pass them on. Without the mask they differ (for the
// recurrent layers and the pooling), which shows the test can fail.
func TestPaddingInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	reviews := make([][]int32, 6)
	for i := range reviews {
		n := 3 + r.IntN(45)
		if i < 2 {
			n = 50 - i // no padding, or one step, at length 50
		}
		reviews[i] = make([]int32, n)
		for j := range reviews[i] {
			reviews[i][j] = int32(1 + r.IntN(99))
		}
	}
	for _, c := range []struct {
		name, layers    string
		unmaskedDiffers bool
	}{
		{"lstm", "    - lstm: {units: 6}\n", true},
		{"gru", "    - gru: {units: 6}\n", true},
		{"simple_rnn backwards", "    - simple_rnn: {units: 6, go_backwards: true}\n", false},
		{"bidirectional", "    - bidirectional: {layer: {lstm: {units: 4}}}\n", true},
		{"bidirectional sequences, gru", "    - bidirectional: {layer: {gru: {units: 4, return_sequences: true}}}\n    - global_average_pool1d\n", true},
		{"average pooling", "    - global_average_pool1d\n", true},
		{"max pooling", "    - dense: {units: 5}\n    - global_max_pool1d\n", false},
		{"attention", "    - multi_head_attention: {num_heads: 2, key_dim: 4}\n    - global_average_pool1d\n", true},
		{"transformer block", `    - multi_head_attention: {num_heads: 2, key_dim: 8}
      name: att
    - dropout: {rate: 0.1}
    - add:
      inputs: [embedding, dropout]
    - layer_normalization: {epsilon: 1.0e-6}
      name: norm
    - time_distributed: {layer: {dense: {units: 8, activation: relu}}}
    - dense: {units: 8}
    - add:
      inputs: [norm, dense]
    - layer_normalization: {epsilon: 1.0e-6}
    - global_average_pool1d
`, true},
		{"stacked lstm", "    - spatial_dropout1d: {rate: 0.2}\n    - lstm: {units: 5, return_sequences: true}\n    - activation: {activation: tanh}\n    - gru: {units: 3}\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, post := range []bool{false, true} {
				short := paddedOutputs(t, c.layers, true, 50, reviews, post)
				long := paddedOutputs(t, c.layers, true, 200, reviews, post)
				for i := range short {
					if d := math.Abs(float64(short[i] - long[i])); d > 1e-5 {
						t.Fatalf("output %d: %v padded to 50, %v padded to 200 (padding at the back: %v)", i, short[i], long[i], post)
					}
				}
			}
			if !c.unmaskedDiffers {
				return
			}
			// Padding at the back reaches the output: a recurrent layer's
			// state forgets what came before it.
			short := paddedOutputs(t, c.layers, false, 50, reviews, true)
			long := paddedOutputs(t, c.layers, false, 200, reviews, true)
			diff := 0.0
			for i := range short {
				diff = max(diff, math.Abs(float64(short[i]-long[i])))
			}
			if diff <= 1e-5 {
				t.Error("without mask_zero the outputs do not depend on the padding either: the test shows nothing")
			}
		})
	}
}
