package pipeline_test

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/pipeline"
)

// TestMeasurePredictions checks rmse and mae worked out by hand, with a
// missing (NaN) label that must not count.
func TestMeasurePredictions(t *testing.T) {
	backend, err := pipeline.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	metrics := []pipeline.NamedMetric{{Name: "rmse", Metric: evaluators.RMSE{}}, {Name: "mae", Metric: evaluators.MAE{}}}
	nan := float32(math.NaN())
	pred := []float32{1, 2, 3, 4}
	truth := []float32{1, 2, 5, nan}
	got, err := pipeline.MeasurePredictions(backend, metrics, pred, truth)
	if err != nil {
		t.Fatal(err)
	}
	// Errors on the three observed ratings: 0, 0, -2.
	if want := math.Sqrt(4.0 / 3); math.Abs(got["rmse"]-want) > 1e-6 {
		t.Errorf("rmse %v, want sqrt(4/3) = %v", got["rmse"], want)
	}
	if want := 2.0 / 3; math.Abs(got["mae"]-want) > 1e-6 {
		t.Errorf("mae %v, want 2/3", got["mae"])
	}
}
