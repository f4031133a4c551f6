package main

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/pipeline"
)

// TestPredictClassesPrinted: a classifier's answer is its most probable
// class, then the next ones up to --top, each with its probability, by
// name where the run recorded names; a single sigmoid is the second
// class's probability.
func TestPredictClassesPrinted(t *testing.T) {
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	ten := []float32{0.0001, 0.0101, 0.0043, 0.0001, 0, 0, 0, 0.9812, 0.0040, 0.0002}
	for _, c := range []struct {
		name    string
		outputs []float32
		classes []string
		top     int
		want    string
	}{
		{"names, top 3", ten, digits, 3, "digit.png: 7 (0.9812); then 1 (0.0101), 2 (0.0043)\n"},
		{"top 1", ten, digits, 1, "digit.png: 7 (0.9812)\n"},
		{"no names", ten, nil, 2, "digit.png: class 7 (0.9812); then class 1 (0.0101)\n"},
		{"names of another size", ten, []string{"a", "b"}, 2, "digit.png: class 7 (0.9812); then class 1 (0.0101)\n"},
		{"all, ties in class order", []float32{0.25, 0.5, 0.25}, []string{"cat", "dog", "bird"}, 0, "digit.png: dog (0.5000); then cat (0.2500), bird (0.2500)\n"},
		{"top past the classes", []float32{0.4, 0.6}, []string{"a", "b"}, 5, "digit.png: b (0.6000); then a (0.4000)\n"},
		{"sigmoid with names", []float32{0.8}, []string{"neg", "pos"}, 3, "digit.png: pos (0.8000); then neg (0.2000)\n"},
		{"sigmoid, negative", []float32{0.25}, []string{"neg", "pos"}, 1, "digit.png: neg (0.7500)\n"},
		{"sigmoid without names", []float32{0.8}, nil, 3, "digit.png: 0.8000\n"},
	} {
		var out strings.Builder
		printClassPrediction(&out, pipeline.Prediction{Input: "digit.png", Outputs: c.outputs}, c.classes, c.top)
		if out.String() != c.want {
			t.Errorf("%s: %q, want %q", c.name, out.String(), c.want)
		}
	}
}
