package pipeline

import (
	"math"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

// TestTransformerSpecParams: specs/imdb_transformer.yaml has the parameter
// count of Keras' layer formulas written in its comment, layer by layer.
func TestTransformerSpecParams(t *testing.T) {
	p, err := Load("../specs/imdb_transformer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Params() != 657758 || p.NonTrainableParams() != 0 {
		t.Errorf("params %d (non-trainable %d), want 657,758", p.Params(), p.NonTrainableParams())
	}
	want := map[string]int{
		"token_and_position_embedding":     (20000 + 200) * 32,
		"transformer/multi_head_attention": 3*(32*2*32+2*32) + 2*32*32 + 32,
		"transformer/out1":                 64,
		"transformer/layer_normalization":  64,
		"transformer/dense":                32*32 + 32,
		"transformer/dense_1":              32*32 + 32,
		"dense":                            32*20 + 20,
		"dense_1":                          20*2 + 2,
	}
	for _, st := range p.Stages {
		if st.NParams != want[st.Name] {
			t.Errorf("%s: %d params, want %d", st.Name, st.NParams, want[st.Name])
		}
	}
}

// TestAttentionInputs: multi_head_attention reads [query, value] or
// [query, value, key] through the graph's inputs, with Keras' count for
// inputs of other sizes; a merge on one input is still refused.
func TestAttentionInputs(t *testing.T) {
	const src = `name: cross
seed: 1
data:
  loader: imdb
  transforms:
    - pad_sequences: {maxlen: 12}
model:
  input: {shape: [12]}
  layers:
    - embedding: {input_dim: 50, output_dim: 6, mask_zero: true}
    - lstm: {units: 5, return_sequences: true}
      name: value
    - dense: {units: 3}
      name: key
      inputs: [value]
    - multi_head_attention: {num_heads: 2, key_dim: 4, value_dim: 7, use_causal_mask: true}
      inputs: [embedding, value, key]
    - global_average_pool1d
    - dense: {units: 2, activation: softmax}
train: {loss: sparse_categorical_crossentropy, optimizer: adam, batch_size: 4}
`
	p := loadSpec(t, "s.yaml", src)
	att := p.Stages[3]
	// query 6, value 5, key 3 features; 2 heads of key_dim 4, value_dim 7; output 6.
	if want := (6*8 + 8) + (3*8 + 8) + (5*14 + 14) + (14*6 + 6); att.NParams != want || att.Out[0] != 12 || att.Out[1] != 6 {
		t.Errorf("attention: %d params, output %v; want %d, [12 6]", att.NParams, att.Out, want)
	}
	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	split := &data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{12}}, Int: make([]int32, 24)},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}}, Int: make([]int32, 2)},
	}
	for i := range split.X.Int {
		split.X.Int[i] = int32(i % 7) // some padding (0) in both
	}
	out, err := m.Outputs(split)
	if err != nil || len(out) != 4 {
		t.Fatalf("outputs %v, %v", out, err)
	}
	for _, v := range out {
		if math.IsNaN(float64(v)) {
			t.Fatalf("outputs %v", out)
		}
	}

	_, err = loadSpecErr(t, "s.yaml", strings.Replace(src, "    - global_average_pool1d\n", "    - add: {}\n    - global_average_pool1d\n", 1))
	if err == nil || !strings.Contains(err.Error(), "add merges several inputs") {
		t.Errorf("add on one input: %v", err)
	}
}
