package pipeline_test

import (
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// smallMNIST is the course CNN on a subset small enough for CI.
func smallMNIST(t *testing.T, train, test, epochs int) *pipeline.Plan {
	t.Helper()
	p, err := pipeline.Load("../specs/mnist_cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p.TrainLimit, p.TestLimit, p.Train.Epochs = train, test, epochs
	return p
}

func TestTrainMNISTSubset(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	runs := t.TempDir()
	res, err := pipeline.Run(smallMNIST(t, 2048, 512, 2), pipeline.Options{DataDir: data, RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	loss := res.History.Values[0]
	if res.History.Names[0] != "loss" || len(loss) != 2 || !(loss[1] < loss[0]) {
		t.Errorf("training loss should fall over two epochs: %v %v", res.History.Names, res.History.Values)
	}
	// Ten classes: chance is 10%; two epochs on 2,048 digits reach well above.
	if acc := res.Test["accuracy"]; acc < 0.5 {
		t.Errorf("test accuracy %.3f after 2 epochs on 2,048 examples; want > 0.5", acc)
	}
	// Keras' four series, in Keras' order.
	want := []string{"loss", "accuracy", "val_loss", "val_accuracy"}
	for i, n := range want {
		if i >= len(res.History.Names) || res.History.Names[i] != n {
			t.Fatalf("history series %v, want %v", res.History.Names, want)
		}
	}
	// Validation on the test split is the final test evaluation.
	if got := res.History.Values[3][1]; got != res.Test["accuracy"] {
		t.Errorf("val_accuracy of the last epoch %v differs from the test accuracy %v", got, res.Test["accuracy"])
	}

	// The run directory holds the resolved spec, summary, history and metrics.
	for _, f := range []string{"spec.yaml", "summary.txt", "history.json", "metrics.json"} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("run directory lacks %s: %v", f, err)
		}
	}
	var hist map[string][]float64
	b, _ := os.ReadFile(filepath.Join(res.Dir, "history.json"))
	if err := json.Unmarshal(b, &hist); err != nil || len(hist["val_loss"]) != 2 {
		t.Errorf("history.json: %v %s", err, b)
	}
	if _, err := spec.Load(filepath.Join(res.Dir, "spec.yaml")); err != nil {
		t.Errorf("the resolved spec does not load: %v", err)
	}
	// The plot: a PNG of 6 x 7 inches at vgimg's 96 dpi.
	f, err := os.Open(filepath.Join(res.Dir, "history.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil || format != "png" || cfg.Width != 576 || cfg.Height != 672 {
		t.Errorf("history.png: %v %s %dx%d, want a 576x672 png", err, format, cfg.Width, cfg.Height)
	}
}

// TestDeterministic checks that the same spec and seed give the same
// metrics, bit for bit, on the Go backend; and that another seed does not.
func TestDeterministic(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	runOnce := func(seed int) []float64 {
		p := smallMNIST(t, 512, 256, 1)
		p.Seed = seed
		res, err := pipeline.Run(p, pipeline.Options{DataDir: data, RunsDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var all []float64
		for _, v := range res.History.Values {
			all = append(all, v...)
		}
		return all
	}
	a, b, c := runOnce(1), runOnce(1), runOnce(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("two runs with seed 1 differ: %v vs %v", a, b)
		}
	}
	if a[0] == c[0] {
		t.Errorf("seeds 1 and 2 gave the same training loss %v", a[0])
	}
}

// TestValidationFraction holds out the last tenth of the training data.
func TestValidationFraction(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	p := smallMNIST(t, 500, 100, 1)
	p.Train.Validation = spec.Validation{Split: "fraction", Fraction: 0.2}
	var lines []string
	res, err := pipeline.Run(p, pipeline.Options{DataDir: data, RunsDir: t.TempDir(), Log: writerFunc(func(b []byte) { lines = append(lines, string(b)) })})
	if err != nil {
		t.Fatal(err)
	}
	if lines[0] != "mnist_cnn: 400 training (100 held out for validation) and 100 test examples, 40,124 parameters, backend go\n" {
		t.Errorf("first log line %q", lines[0])
	}
	if res.History.Values[2][0] == res.Test["loss"] {
		t.Errorf("validation on the held-out fraction should differ from the test loss")
	}
}

// TestRunsNeverOverwrite runs twice within a second: two directories.
func TestRunsNeverOverwrite(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	runs := t.TempDir()
	var dirs []string
	for range 2 {
		res, err := pipeline.Run(smallMNIST(t, 128, 128, 1), pipeline.Options{DataDir: data, RunsDir: runs})
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, res.Dir)
	}
	if dirs[0] == dirs[1] {
		t.Errorf("second run reused %s", dirs[0])
	}
	entries, _ := os.ReadDir(filepath.Join(runs, "mnist_cnn"))
	if len(entries) != 2 {
		t.Errorf("want exactly two run directories (no leftovers), got %d", len(entries))
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }

// TestRatingRunsFromCache runs a rating model twice with a data cache: the
// second run reads memory-mapped data, and what the run directory keeps
// must not point into the mapping once it is closed.
func TestRatingRunsFromCache(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	cache, runs := t.TempDir(), t.TempDir()
	var results []float64
	for range 2 {
		p, err := pipeline.Load("../specs/cf/movielense_knn.yaml", "data.train_limit=5000", "data.test_limit=1000")
		if err != nil {
			t.Fatal(err)
		}
		res, err := pipeline.Run(p, pipeline.Options{DataDir: data, CacheDir: cache, RunsDir: runs})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res.Test["rmse"])
	}
	if results[0] != results[1] {
		t.Errorf("the cached run gave rmse %v, the first %v", results[1], results[0])
	}
}

// TestUnknownBackendInSpec: a spec's backend with no such name is a spec
// error at validation, positioned on the field, not a failure at run time.
func TestUnknownBackendInSpec(t *testing.T) {
	_, err := pipeline.Load("../specs/mnist_cnn.yaml", "backend=gpu")
	if err == nil || !strings.Contains(err.Error(), `backend: unknown backend "gpu"`) || !strings.Contains(err.Error(), "--set backend=gpu") && !strings.Contains(err.Error(), "mnist_cnn.yaml") {
		t.Errorf("got %v, want a positioned unknown-backend error", err)
	}
	if _, err := pipeline.Load("../specs/mnist_cnn.yaml", "backend=xla:cuda"); err != nil {
		t.Errorf("xla is a known name even in a build without it: %v", err)
	}
}
