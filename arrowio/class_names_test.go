package arrowio

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestReadClassNames reads back the names WritePredictions recorded, none
// for a regression, and an error (not a panic) for a file that is not one.
func TestReadClassNames(t *testing.T) {
	dir := t.TempDir()
	classes := filepath.Join(dir, "classes.arrow")
	rows := PredictionRows{Index: []int64{0}, Label: []float32{1}, Prediction: []float32{1},
		Probabilities: [][]float32{{0.25, 0.75}}, ClassNames: []string{"neg", "pos"}}
	if err := WritePredictions(classes, rows); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadClassNames(classes); err != nil || !slices.Equal(got, []string{"neg", "pos"}) {
		t.Errorf("got %q, %v; want [neg pos]", got, err)
	}
	regression := filepath.Join(dir, "regression.arrow")
	if err := WritePredictions(regression, PredictionRows{Index: []int64{0}, Label: []float32{3}, Prediction: []float32{3.5}}); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadClassNames(regression); err != nil || got != nil {
		t.Errorf("regression: got %q, %v; want no names", got, err)
	}
	junk := filepath.Join(dir, "junk.arrow")
	b, _ := os.ReadFile(classes)
	for i := len(b) - 40; i < len(b)-10; i++ {
		b[i] ^= 0xff // the footer
	}
	if err := os.WriteFile(junk, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadClassNames(junk); err == nil {
		t.Errorf("a corrupt footer read without an error")
	}
}
