package examples_test

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// TestPredictExample predicts, from PNG files, the first test digits of
// the run that examples/train made, and checks the answers against the
// run's own predictions.arrow for the same examples: the saved model,
// restored in another process and fed images through the spec's
// transforms, must give what it gave at the end of training.
func TestPredictExample(t *testing.T) {
	_, runDir, _ := trainedRun(t)
	const n = 8
	inputs := writeTestDigits(t, testdata.Dir(t, "mnist"), n)

	out := run(t, "predict", append([]string{"-all", runDir}, inputs...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n+1 || lines[0] != "model mnist_cnn, output shape [10]" {
		t.Fatalf("want a model line and %d prediction lines, got:\n%s", n, out)
	}
	want := runPredictions(t, runDir)
	for i, line := range lines[1:] {
		var class int
		var p float64
		rest, ok := strings.CutPrefix(line, inputs[i]+": ")
		if !ok {
			t.Fatalf("line %d %q does not start with its input %s", i, line, inputs[i])
		}
		if _, err := fmt.Sscanf(rest, "class %d (p=%g)", &class, &p); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		_, probsText, _ := strings.Cut(rest, ") ")
		probs := parseFloats(t, probsText)
		if len(probs) != 10 {
			t.Fatalf("line %q: %d probabilities; want 10", line, len(probs))
		}
		sum, best := 0.0, 0
		for k, v := range probs {
			sum += v
			if v > probs[best] {
				best = k
			}
		}
		if math.Abs(sum-1) > 1e-3 || best != class || probs[class] != p {
			t.Errorf("line %q: probabilities sum to %v, argmax %d; want 1 and class %d with p", line, sum, best, class)
		}
		if class != want.class[i] {
			t.Errorf("%s: predicted class %d; the run predicted %d for test example %d", inputs[i], class, want.class[i], i)
		}
		for k, v := range probs {
			// Printed with 4 decimals; one example at a time against
			// the evaluation's batches, sums may round differently.
			if w := want.probs[i][k]; math.Abs(v-float64(w)) > 2e-4 {
				t.Errorf("%s: p(class %d) %v; the run had %v", inputs[i], k, v, w)
			}
		}
	}
}

// writeTestDigits writes the first n MNIST test images as 28x28 greyscale
// PNGs: the format the mnist loader decodes for predict.
func writeTestDigits(t *testing.T, dataDir string, n int) []string {
	t.Helper()
	l, _ := loaders.Loaders.New("mnist")
	ds, err := l.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for i := range n {
		x := ds.Test.X.Slice(i, i+1)
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(img.Pix, x.Bytes) // the loader keeps MNIST's raw bytes 0..255
		path := filepath.Join(dir, fmt.Sprintf("digit%d.png", i))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// runPredictions reads the predicted class and class probabilities per
// test example from the run's predictions.arrow.
func runPredictions(t *testing.T, runDir string) (p struct {
	class []int
	probs [][]float32
}) {
	t.Helper()
	f, err := os.Open(filepath.Join(runDir, "predictions.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.RecordBatchAt(0)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	cols := map[string]int{}
	for i, field := range rec.Schema().Fields() {
		cols[field.Name] = i
	}
	index := rec.Column(cols["index"]).(*array.Int64).Int64Values()
	pred := rec.Column(cols["prediction"]).(*array.Float32).Float32Values()
	probs := rec.Column(cols["probabilities"]).(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
	for i := range index {
		if index[i] != int64(i) {
			t.Fatalf("predictions.arrow row %d is test example %d; want the examples in order", i, index[i])
		}
		p.class = append(p.class, int(pred[i]))
		p.probs = append(p.probs, probs[10*i:10*i+10])
	}
	return p
}

func parseFloats(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}

// A directory that is not a run gets rundir's explanation, not a crash.
func TestPredictExampleNotARun(t *testing.T) {
	stdout, stderr, err := runErr("predict", t.TempDir(), "digit.png")
	if exitCode(err) != 1 || !strings.Contains(stderr, "is not a run directory") {
		t.Errorf("exit %v; want 1 and rundir's message\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
}
