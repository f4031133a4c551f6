package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

// streamTable writes a regression table of rows rows and cols numeric
// features (y a noisy linear function of them), the first fifth marked
// test, and returns the data directory holding it as t/data.csv.
func streamTable(t *testing.T, rows, cols int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	for j := range cols {
		fmt.Fprintf(&b, "f%d,", j)
	}
	b.WriteString("y,split\n")
	for i := range rows {
		y := 0.0
		for j := range cols {
			v := rng.NormFloat64()*float64(j+1) + float64(j)
			y += v * float64(j%3-1)
			fmt.Fprintf(&b, "%.4f,", v)
		}
		split := "train"
		if i < rows/5 {
			split = "test"
		}
		fmt.Fprintf(&b, "%.4f,%s\n", y+rng.NormFloat64()*0.1, split)
	}
	if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t", "data.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// streamPlan is a small dense regression on streamTable's columns;
// stream is data.stream's YAML ("" for none).
func streamPlan(t *testing.T, cols int, stream string, overrides ...string) *Plan {
	t.Helper()
	var feats []string
	for j := range cols {
		feats = append(feats, fmt.Sprintf("{column: f%d}", j))
	}
	spec := fmt.Sprintf(`name: stream_test
seed: 5
data:
  loader: table
  path: t/data.csv
  features: [%s]
  target: y
  task: regression
  split_column: split
%s
model:
  input: {shape: [%d]}
  layers:
    - dense: {units: 16, activation: relu}
    - dropout: {rate: 0.1}
    - dense: {units: 1}
train: {loss: mse, optimizer: {name: adam}, batch_size: 50, epochs: 3}
evaluate: [loss, mae]
`, strings.Join(feats, ", "), stream, cols)
	path := filepath.Join(t.TempDir(), "stream_test.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path, overrides...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStreamMatchesMemory: a table trained streamed, with a window that
// covers the training split, gives the in-memory run's losses and test
// metrics exactly; the cache entry is written in record batches of
// batch_rows (here 13 of 50 examples), so that windows and batches of
// training straddle them.
func TestStreamMatchesMemory(t *testing.T) {
	dataDir := streamTable(t, 1000, 6)
	runs := t.TempDir()
	mem, err := Train(streamPlan(t, 6, ""), Options{DataDir: dataDir, CacheDir: t.TempDir(), RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	cache := t.TempDir()
	streamed, err := Train(streamPlan(t, 6, "  stream: {batch_rows: 13, shuffle_window: 100}"), Options{DataDir: dataDir, CacheDir: cache, RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	defer streamed.Close()
	if !reflect.DeepEqual(mem.History, streamed.History) {
		t.Errorf("history in memory %v\nstreamed %v", mem.History, streamed.History)
	}
	if !reflect.DeepEqual(mem.Test, streamed.Test) || mem.TestExamples != 200 || streamed.TestExamples != 200 {
		t.Errorf("test in memory %v (%d), streamed %v (%d)", mem.Test, mem.TestExamples, streamed.Test, streamed.TestExamples)
	}
	if !reflect.DeepEqual(mem.Predictions, streamed.Predictions) {
		t.Errorf("predictions differ")
	}

	// A window smaller than the split shuffles otherwise: it trains, on
	// the same examples, to other numbers.
	small, err := Train(streamPlan(t, 6, "  stream: {batch_rows: 13, shuffle_window: 4}"), Options{DataDir: dataDir, CacheDir: cache, RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if reflect.DeepEqual(small.History, mem.History) {
		t.Errorf("a window of 4 of 62 batches shuffled as the whole split")
	}
	if small.TestExamples != 200 || len(small.History.Series("loss")) != 3 {
		t.Errorf("%d test examples, history %v", small.TestExamples, small.History)
	}
}

// TestStreamReadsWindows: an epoch reads the training split's 40 MB file
// a window of two 512 KB batches at a time, and every example comes once.
// No page of the file is mapped while the model trains on a window (each
// batch was unmapped once copied), and the live heap grows by a few
// windows at most, never by the file: it is measured after a collection
// at every batch, so that garbage not yet collected neither hides the
// bound nor trips it.
func TestStreamReadsWindows(t *testing.T) {
	const batches, rows, width = 80, 1024, 127 // 512 KB a record batch
	x := data.Schema{DType: data.Float32, Shape: []int{width}}
	y := data.Schema{DType: data.Float32, Shape: []int{}}
	path := filepath.Join(t.TempDir(), "train.arrow")
	w, err := arrowio.NewSplitWriter(path, x, y, batches*rows)
	if err != nil {
		t.Fatal(err)
	}
	for b := range batches {
		s := data.Split{X: data.Array{Schema: x, Float: make([]float32, rows*width)}, Y: data.Array{Schema: y, Float: make([]float32, rows)}}
		for i := range rows {
			s.Y.Float[i] = float32(b*rows + i)
		}
		if err := w.Write(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := arrowio.OpenSplitStream(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ex := &streamExamples{s: st, seed: 1, window: 2}
	ex.limit(0)
	const window = 2 * rows * (width + 1) * 4
	base := testdata.LiveHeap()
	var most, mapped int64
	seen := make([]bool, batches*rows)
	err = ex.batches(100, rand.New(rand.NewPCG(1, 2)), 1, func(s *data.Split, idx []int) error {
		most = max(most, testdata.LiveHeap()-base)
		mapped = max(mapped, testdata.MappedRSS(t, "train.arrow"))
		for _, i := range idx {
			seen[int(s.Y.Float[i])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("example %d never came", i)
		}
	}
	if mapped != 0 {
		t.Errorf("%d KB of train.arrow mapped while training on a window; want none", mapped>>10)
	}
	if most > 4*window {
		t.Errorf("the heap grew by %d KB in an epoch of a 40 MB file; a window is %d KB", most>>10, window>>10)
	}
	t.Logf("heap grew by at most %d KB; a window is %d KB", most>>10, window>>10)
}

// TestStreamResume: a streamed run interrupted in epoch 2 and resumed
// from its epoch-1 history ends with the uninterrupted run's history: the
// resumed run replays the earlier epochs' shuffles without reading data.
func TestStreamResume(t *testing.T) {
	dataDir := streamTable(t, 1000, 6)
	p := streamPlan(t, 6, "  stream: {batch_rows: 30, shuffle_window: 5}")
	sd, err := p.streamData(dataDir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.fit(sd.train, sd.test, 3, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}

	m2, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	h, err := m2.fit(sd.train, sd.test, 3, FitOptions{Context: ctx, Step: func(r StepReport) {
		if steps++; r.Epoch == 2 && r.Done >= 300 {
			cancel()
		}
	}})
	if err == nil || len(h.Series("loss")) != 1 {
		t.Fatalf("interrupted run: err %v, history %v", err, h)
	}
	got, err := m2.fit(sd.train, sd.test, 3, FitOptions{Resume: h})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resumed history %v\nuninterrupted %v", got, want)
	}
}

// TestStreamRejectsAtLoad: a table configuration that cannot stream
// fails when the spec loads, at the line of the param that stops it.
func TestStreamRejectsAtLoad(t *testing.T) {
	spec := `name: stream_reject
data:
  loader: table
  path: t/data.csv
  features: [{column: f0}, {column: f1, missing: mode}]
  target: y
  task: regression
  stream: {}
model:
  input: {shape: [2]}
  layers: [{dense: {units: 1}}]
train: {loss: mse, optimizer: {name: adam}, batch_size: 50, epochs: 1}
`
	path := filepath.Join(t.TempDir(), "stream_reject.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "stream_reject.yaml:5") || !strings.Contains(err.Error(), "mode of a numeric column") {
		t.Errorf("err %v; want the numeric mode refused at line 5", err)
	}
}

// TestStreamEvaluateRun: pipe evaluate on a streamed run measures its
// model on the streamed test split and gets the run's test metrics.
func TestStreamEvaluateRun(t *testing.T) {
	dataDir := streamTable(t, 600, 4)
	opt := Options{DataDir: dataDir, CacheDir: t.TempDir(), RunsDir: t.TempDir()}
	res, err := Run(streamPlan(t, 4, "  stream: {batch_rows: 32, shuffle_window: 3}"), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	p, test, err := EvaluateRun(res.Dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stream == nil || !reflect.DeepEqual(test, res.Test) {
		t.Errorf("evaluate %v (stream %v); the run measured %v", test, p.Stream, res.Test)
	}
}

// TestStreamStoredBytes: MNIST's pixels are cached as bytes and scaled on
// each batch; streamed from the entry with a window over the whole subset,
// the CNN trains to the in-memory run's numbers (dropout and shuffling as
// the spec says).
func TestStreamStoredBytes(t *testing.T) {
	if p := mnistSubset(t); p.StoredX.DType != data.Uint8 || p.BatchFrom == len(p.Steps) {
		t.Fatalf("mnist_cnn stores %s with batch steps from %d of %d; the test needs bytes scaled per batch", p.StoredX, p.BatchFrom, len(p.Steps))
	}
	memAndStreamed(t)
}

// TestStreamFitsBatchStep: standardize, fitted on the whole training
// split, is fitted on a streamed split a record batch at a time, to the
// same numbers: the run trains as in memory, and stores the statistics.
func TestStreamFitsBatchStep(t *testing.T) {
	mem, streamed := memAndStreamed(t, "data.transforms=[{scale: {divide: 255}}, {reshape: {shape: [28, 28, 1]}}, {standardize: {per: pixel}}, {one_hot: {classes: 10}}]")
	fitted := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, "fitted.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if m, s := fitted(mem.Dir), fitted(streamed.Dir); m != s || !strings.Contains(s, `"data.transforms[2]"`) {
		t.Errorf("fitted.json in memory:\n%.300s\nstreamed:\n%.300s", m, s)
	}
}

// mnistSubset is mnist_cnn on 512 training and 128 test images, one
// epoch, with the overrides sets.
func mnistSubset(t *testing.T, sets ...string) *Plan {
	t.Helper()
	p, err := Load(filepath.Join("..", "specs", "mnist_cnn.yaml"),
		append([]string{"train.epochs=1", "data.train_limit=512", "data.test_limit=128", "train.batch_size=64"}, sets...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// memAndStreamed runs mnistSubset(sets) in memory and streamed from
// record batches of 100 images, checks that both end with the same
// history and test metrics, and returns the two runs.
func memAndStreamed(t *testing.T, sets ...string) (mem, streamed *Result) {
	t.Helper()
	dataDir, runs := testdata.Dir(t, "mnist"), t.TempDir()
	mem, err := Run(mnistSubset(t, sets...), Options{DataDir: dataDir, CacheDir: t.TempDir(), RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	streamed, err = Run(mnistSubset(t, append(sets, "data.stream={batch_rows: 100}")...), Options{DataDir: dataDir, CacheDir: t.TempDir(), RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { streamed.Close() })
	if !reflect.DeepEqual(mem.History, streamed.History) || !reflect.DeepEqual(mem.Test, streamed.Test) {
		t.Errorf("in memory %v %v\nstreamed %v %v", mem.History, mem.Test, streamed.History, streamed.Test)
	}
	return mem, streamed
}
