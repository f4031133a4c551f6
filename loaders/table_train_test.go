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
// sourced dataset, the MLP learns it far above chance (1/3), and the run
// directory's resolved spec loads again for predict, which encodes a new
// row with the training split's statistics.
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
	opt := pipeline.Options{DataDir: dir, CacheDir: cache, RunsDir: t.TempDir()}
	res, err := pipeline.Run(p, opt)
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

	// Two flowers typical of their species, columns in another order than
	// the table's: predict finds them by name.
	rows := map[string]int{
		"sepal_length,sepal_width,petal_length,petal_width\n6.7,3.0,5.7,2.1\n": 2,
		"petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.0\n": 0,
	}
	var inputs []string
	var want []int
	for content, class := range rows {
		path := filepath.Join(t.TempDir(), "flower.csv")
		writeText(t, path, content)
		inputs, want = append(inputs, path), append(want, class)
	}
	_, preds, err := pipeline.PredictRun(res.Dir, inputs, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, pr := range preds {
		best := 0
		for k, v := range pr.Outputs {
			if v > pr.Outputs[best] {
				best = k
			}
		}
		if len(pr.Outputs) != 3 || best != want[i] {
			t.Errorf("%s: outputs %v, want class %d most likely", pr.Input, pr.Outputs, want[i])
		}
	}
}
