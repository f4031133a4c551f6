package loaders_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
)

// TestTableIrisSpecTrains runs examples/table/iris_mlp.yaml end to end on
// an iris-layout table written into a temporary data directory: the spec
// compiles (its shapes known without data), the table is cached like any
// sourced dataset, and the MLP learns it far above chance (1/3).
func TestTableIrisSpecTrains(t *testing.T) {
	dir := t.TempDir()
	irisTable(11).writeCSV(t, filepath.Join(dir, "iris", "iris.csv"), ',')
	p, err := pipeline.Load("../examples/table/iris_mlp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Loader.(loaders.Sourced); !ok {
		t.Error("the table loader is not Sourced: pipe would never cache it")
	}
	cache := t.TempDir()
	res, err := pipeline.Train(p, pipeline.Options{DataDir: dir, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if acc := res.Test["accuracy"]; acc <= 0.9 {
		t.Errorf("test accuracy %.4f after %d epochs; want > 0.9", acc, p.Train.Epochs)
	}
	if res.TestExamples != 30 {
		t.Errorf("%d test examples, want 30", res.TestExamples)
	}
	if entries, _ := os.ReadDir(cache); len(entries) == 0 {
		t.Error("nothing was cached")
	}
	t.Logf("test accuracy %.4f", res.Test["accuracy"])
}
