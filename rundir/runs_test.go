package rundir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mnistSpec is a resolved spec as a run writes it, with the two fields
// the tests vary.
func mnistSpec(filters, epochs int) string {
	return fmt.Sprintf(`name: mnist_cnn
seed: 1337
backend: go
data:
  loader: mnist
  transforms:
    - scale: {divide: 255}
  train_limit: 0
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: %d, kernel: 5, activation: relu}
    - flatten
    - dense: {units: 10, activation: softmax}
train:
  optimizer:
    adadelta: {learning_rate: 1}
  epochs: %d
evaluate: [loss, accuracy]
`, filters, epochs)
}

// fakeRun writes what a run leaves that pipe runs, diff and gc read:
// spec.yaml, metrics.json and, unless key is "", run.json.
func fakeRun(t *testing.T, root, rel, spec, metrics, key, created string) string {
	t.Helper()
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{SpecFile: spec, MetricsFile: metrics}
	if key != "" {
		files[KeyFile] = fmt.Sprintf(`{"key": %q, "spec_sha256": "%x", "data": [{"name": "train.gz", "sha256": "abcdef0123456789"}], "pipe_version": "devel", "created": %q}`,
			key, key, created)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeRuns writes three mnist_cnn runs (one interrupted) and an imdb_lstm
// run from before run.json.
func fakeRuns(t *testing.T) string {
	root := t.TempDir()
	fakeRun(t, root, "mnist_cnn/20260101-090000", mnistSpec(3, 20),
		`{"spec": "mnist_cnn", "epochs": 20, "train_seconds": 128.4, "test": {"loss": 0.0412, "accuracy": 0.9867}, "final_epoch": {"val_accuracy": 0.9867}}`,
		"k1", "2026-01-01T09:00:00Z")
	fakeRun(t, root, "mnist_cnn/20260102-090000", mnistSpec(8, 3),
		`{"spec": "mnist_cnn", "epochs": 3, "train_seconds": 20.5, "test": {"loss": 0.0833, "accuracy": 0.9741}, "final_epoch": {"val_accuracy": 0.9741}}`,
		"k2", "2026-01-02T09:00:00Z")
	fakeRun(t, root, "mnist_cnn/20260103-090000", mnistSpec(8, 20),
		`{"spec": "mnist_cnn", "epochs": 20, "epochs_done": 3, "interrupted": "interrupted", "train_seconds": 19.2, "test": null, "final_epoch": {"val_accuracy": 0.95}}`,
		"k3", "2026-01-03T09:00:00Z")
	fakeRun(t, root, "imdb_lstm/20260101-120000", "name: imdb_lstm\nseed: 1\n",
		`{"spec": "imdb_lstm", "epochs": 3, "train_seconds": 329, "test": {"loss": 0.35, "accuracy": 0.8552}}`, "", "")
	return root
}

func listed(t *testing.T, root string) *Listing {
	t.Helper()
	dirs, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	l := List(dirs)
	if len(l.Unreadable) > 0 {
		t.Fatal(l.Unreadable)
	}
	return l
}

// TestRunsTable lists runs newest first with the spec fields that differ
// among the runs of the same spec (path=value, as --set takes them), the
// test metrics, the time and the status; the run without run.json takes
// its date from its directory name.
func TestRunsTable(t *testing.T) {
	root := fakeRuns(t)
	l := listed(t, root)
	var out bytes.Buffer
	if err := l.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	want := `name       date                 params                                     accuracy  loss    time   status                     run
mnist_cnn  2026-01-03 09:00:00  model.layers[0].filters=8 train.epochs=20  -         -       19.2s  interrupted (3/20 epochs)  ROOT/mnist_cnn/20260103-090000
mnist_cnn  2026-01-02 09:00:00  model.layers[0].filters=8 train.epochs=3   0.9741    0.0833  20.5s  finished                   ROOT/mnist_cnn/20260102-090000
imdb_lstm  2026-01-01 12:00:00  -                                          0.8552    0.3500  5m29s  finished                   ROOT/imdb_lstm/20260101-120000
mnist_cnn  2026-01-01 09:00:00  model.layers[0].filters=3 train.epochs=20  0.9867    0.0412  2m08s  finished                   ROOT/mnist_cnn/20260101-090000
`
	if got := strings.ReplaceAll(out.String(), root, "ROOT"); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}

	// Sorted by a series of the last epoch, best first: it becomes a
	// column; the run without it goes last.
	if err := l.Sort("-val_accuracy"); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range l.Runs {
		order = append(order, strings.TrimPrefix(r.Dir, root+"/"))
	}
	if want := []string{"mnist_cnn/20260101-090000", "mnist_cnn/20260102-090000", "mnist_cnn/20260103-090000", "imdb_lstm/20260101-120000"}; !slices.Equal(order, want) {
		t.Errorf("--sort -val_accuracy: %v, want %v", order, want)
	}
	if !slices.Equal(l.Metrics, []string{"accuracy", "loss", "val_accuracy"}) {
		t.Errorf("columns %v, want val_accuracy added", l.Metrics)
	}
	if err := l.Sort("loss"); err != nil {
		t.Fatal(err)
	}
	order = order[:0]
	for _, r := range l.Runs {
		order = append(order, filepath.Base(r.Dir))
	}
	if want := []string{"20260101-090000", "20260102-090000", "20260101-120000", "20260103-090000"}; !slices.Equal(order, want) {
		t.Errorf("--sort loss: %v, want %v (ascending, the interrupted run without loss last)", order, want)
	}
	if err := l.Sort("-rmse"); err == nil || !strings.Contains(err.Error(), `no listed run has a metric "rmse"`) {
		t.Errorf("--sort by a metric no run has: %v", err)
	}
}

// TestRunsCSVAndJSON checks the machine-readable forms: a column per
// differing field, full-precision metrics, and JSON that reads back.
func TestRunsCSVAndJSON(t *testing.T) {
	root := fakeRuns(t)
	l := listed(t, root)
	var out bytes.Buffer
	if err := l.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	loc := time.Date(2026, 1, 1, 12, 0, 0, 0, time.Local).Format(time.RFC3339) // the imdb run's directory name, local time
	want := `name,date,run,model.layers[0].filters,train.epochs,accuracy,loss,train_seconds,status
mnist_cnn,2026-01-03T09:00:00Z,ROOT/mnist_cnn/20260103-090000,8,20,,,19.2,interrupted (3/20 epochs)
mnist_cnn,2026-01-02T09:00:00Z,ROOT/mnist_cnn/20260102-090000,8,3,0.9741,0.0833,20.5,finished
imdb_lstm,` + loc + `,ROOT/imdb_lstm/20260101-120000,,,0.8552,0.35,329,finished
mnist_cnn,2026-01-01T09:00:00Z,ROOT/mnist_cnn/20260101-090000,3,20,0.9867,0.0412,128.4,finished
`
	if got := strings.ReplaceAll(out.String(), root, "ROOT"); got != want {
		t.Errorf("csv:\n%s\nwant:\n%s", got, want)
	}

	out.Reset()
	if err := l.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var runs []struct {
		Run         string
		Key         string
		Params      map[string]string
		Test        map[string]float64
		Interrupted bool
		Stopped     string
	}
	if err := json.Unmarshal(out.Bytes(), &runs); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if len(runs) != 4 || !runs[0].Interrupted || runs[0].Stopped != "interrupted" || runs[1].Interrupted ||
		runs[1].Key != "k2" || runs[1].Params["model.layers[0].filters"] != "8" || runs[1].Params["train.epochs"] != "3" ||
		runs[3].Test["accuracy"] != 0.9867 || runs[2].Key != "" || len(runs[2].Params) != 0 {
		t.Errorf("json: %+v", runs)
	}
}

// TestDiffRuns prints the fields that differ with both values, what else
// made the runs differently, and each test metric's change.
func TestDiffRuns(t *testing.T) {
	root := fakeRuns(t)
	a, b := filepath.Join(root, "mnist_cnn/20260101-090000"), filepath.Join(root, "mnist_cnn/20260102-090000")
	c, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c.Write(&out)
	want := `a: ROOT/mnist_cnn/20260101-090000 (2026-01-01 09:00:00, finished)
b: ROOT/mnist_cnn/20260102-090000 (2026-01-02 09:00:00, finished)

field                    a   b
model.layers[0].filters  3   8
train.epochs             20  3

metric    a       b       b-a
accuracy  0.9867  0.9741  -0.0126
loss      0.0412  0.0833  +0.0421
`
	if got := strings.ReplaceAll(out.String(), root, "ROOT"); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}

	// Against an interrupted run: its metrics are missing, not zero.
	c, err = Diff(a, filepath.Join(root, "mnist_cnn/20260103-090000"))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	c.Write(&out)
	if !strings.Contains(out.String(), "(2026-01-03 09:00:00, interrupted (3/20 epochs))") || !strings.Contains(out.String(), "accuracy  0.9867  -  -") ||
		!strings.Contains(out.String(), "model.layers[0].filters  3  8\n") || strings.Contains(out.String(), "train.epochs") {
		t.Errorf("diff against an interrupted run:\n%s", out.String())
	}

	// The same spec made by another pipe and other data: those rows only.
	fakeRun(t, root, "mnist_cnn/20260104-090000", mnistSpec(3, 20), `{"test": {"loss": 0.0412, "accuracy": 0.9867}}`, "k4", "2026-01-04T09:00:00Z")
	key := filepath.Join(root, "mnist_cnn/20260104-090000", KeyFile)
	os.WriteFile(key, []byte(`{"key": "k4", "spec_sha256": "6b31", "data": [{"name": "train.gz", "sha256": "ffffffffffffffff"}], "pipe_version": "v1.2.0", "created": "2026-01-04T09:00:00Z"}`), 0o644)
	c, err = Diff(a, filepath.Dir(key))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	c.Write(&out)
	if want := "field            a             b\n(pipe version)   devel         v1.2.0\n(data train.gz)  abcdef012345  ffffffffffff\n\nmetric    a       b       b-a\naccuracy  0.9867  0.9867  +0.0000\nloss      0.0412  0.0412  +0.0000\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("diff of the same spec made otherwise:\n%s\nwant the tail:\n%s", out.String(), want)
	}

	if _, err := Diff(a, root); err == nil {
		t.Error("diff against a folder that is no run: no error")
	}
}

// blockRun writes a run of a spec whose first layer is a block use: its
// source.yaml (unless source is false) gives the block's dropout, its
// resolved spec.yaml the layer it became, at another index.
func blockRun(t *testing.T, root, rel string, dropout float64, source bool, created string) string {
	t.Helper()
	resolved := fmt.Sprintf(`name: vgg
model:
  layers:
    - conv2d: {filters: 32}
      name: stage/conv2d
    - dropout: {rate: %g}
      name: stage/dropout
    - dropout: {rate: 0.5}
    - dense: {units: 10}
`, dropout)
	dir := fakeRun(t, root, rel, resolved, `{"spec": "vgg", "test": {"accuracy": 0.5}}`, "k-"+rel, created)
	if source {
		given := fmt.Sprintf(`name: vgg
model:
  blocks:
    stage:
      params: {dropout: null}
      layers: [conv2d: {filters: 32}, dropout: $dropout]
  layers:
    - stage: {dropout: %g}
    - dropout: 0.5
    - dense: {units: 10}
`, dropout)
		if err := os.WriteFile(filepath.Join(dir, SourceFile), []byte(given), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRunsGivenSpec: pipe runs and pipe diff name a field as the spec gave
// it (the block use's dropout, which --set takes on the spec file), not
// by the layer it expanded to, whose index in the resolved spec points at
// another layer of the spec file; runs from before source.yaml compare
// their resolved specs.
func TestRunsGivenSpec(t *testing.T) {
	root := t.TempDir()
	a := blockRun(t, root, "vgg/20260101-090000", 0.1, true, "2026-01-01T09:00:00Z")
	b := blockRun(t, root, "vgg/20260102-090000", 0.3, true, "2026-01-02T09:00:00Z")
	l := listed(t, root)
	for _, r := range l.Runs {
		if len(r.Params) != 1 || r.Params[0].Path != "model.layers[0].dropout" {
			t.Errorf("%s: params %v, want model.layers[0].dropout", r.Dir, r.Params)
		}
	}
	c, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Difference{{"model.layers[0].dropout", "0.1", "0.3"}}; !slices.Equal(c.Spec, want) {
		t.Errorf("diff %v, want %v", c.Spec, want)
	}

	// A run without source.yaml: the group compares resolved specs.
	blockRun(t, root, "vgg/20260103-090000", 0.2, false, "2026-01-03T09:00:00Z")
	for _, r := range listed(t, root).Runs {
		if len(r.Params) != 1 || r.Params[0].Path != "model.layers[1].dropout.rate" {
			t.Errorf("%s: params %v, want the resolved model.layers[1].dropout.rate", r.Dir, r.Params)
		}
	}

	// The same spec as given, resolved differently: the resolved fields.
	d := blockRun(t, root, "vgg/20260104-090000", 0.1, true, "2026-01-04T09:00:00Z")
	resolved := filepath.Join(d, SpecFile)
	text, _ := os.ReadFile(resolved)
	os.WriteFile(resolved, []byte(strings.Replace(string(text), "units: 10", "units: 12", 1)), 0o644)
	if c, err = Diff(a, d); err != nil {
		t.Fatal(err)
	}
	if want := []Difference{{"model.layers[3].units", "10", "12"}}; !slices.Equal(c.Spec, want) {
		t.Errorf("diff of the same given spec resolved otherwise %v, want %v", c.Spec, want)
	}
}

// TestGivenDefaults: a field the spec as given leaves out compares by its
// resolved default, so that writing a default out is no difference and
// setting another value shows the default beside it, not "-".
func TestGivenDefaults(t *testing.T) {
	root := t.TempDir()
	run := func(rel, source string) string {
		dir := fakeRun(t, root, rel, "name: knn\nseed: 1\nmodel:\n  user_knn: {k: 30, normalize: none}\n", `{"spec": "knn"}`, "k-"+rel, "2026-01-01T09:00:00Z")
		if err := os.WriteFile(filepath.Join(dir, SourceFile), []byte(source), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a := run("knn/a", "name: knn\nmodel:\n  user_knn: {k: 30}\n")
	b := run("knn/b", "name: knn\nseed: 1\nmodel:\n  user_knn: {k: 30, normalize: none}\n")
	c, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Spec) != 0 {
		t.Errorf("defaults written out differ: %v", c.Spec)
	}
	z := run("knn/z", "name: knn\nmodel:\n  user_knn: {k: 30, normalize: zscore}\n")
	if c, err = Diff(a, z); err != nil {
		t.Fatal(err)
	}
	if want := []Difference{{"model.normalize", "none", "zscore"}}; !slices.Equal(c.Spec, want) {
		t.Errorf("diff %v, want %v", c.Spec, want)
	}
}

// TestKeyLatestWithKey finds the newest finished run made with a key:
// not a newer run with another key, not an interrupted one, and never a
// run without run.json.
func TestKeyLatestWithKey(t *testing.T) {
	root := t.TempDir()
	spec := "name: m\n"
	fakeRun(t, root, "m/20260101-000000", spec, `{"test": {"rmse": 1.5}}`, "same", "2026-01-01T00:00:00Z")
	fakeRun(t, root, "m/20260102-000000", spec, `{"test": {"rmse": 1.2}}`, "same", "2026-01-02T00:00:00Z")
	fakeRun(t, root, "m/20260103-000000", spec, `{"test": {"rmse": 9}}`, "other", "2026-01-03T00:00:00Z")
	fakeRun(t, root, "m/20260104-000000", spec, `{"test": null, "interrupted": "interrupted"}`, "same", "2026-01-04T00:00:00Z")
	fakeRun(t, root, "m/20260105-000000", spec, `{"test": {"rmse": 7}}`, "", "")
	run, test, key, err := LatestWithKey(root, "m", "same")
	if err != nil || run == nil {
		t.Fatalf("no run found: %v", err)
	}
	if filepath.Base(run.Dir) != "20260102-000000" || test["rmse"] != 1.2 || key.Created.Format(DateLayout) != "2026-01-02 00:00:00" {
		t.Errorf("found %s (rmse %v, made %v), want 20260102-000000 (1.2)", run.Dir, test["rmse"], key.Created)
	}
	if run, _, _, err := LatestWithKey(root, "m", "none"); run != nil || err != nil {
		t.Errorf("a key no run has: %v, %v", run, err)
	}
	if run, _, _, err := LatestWithKey(filepath.Join(root, "nowhere"), "m", "same"); run != nil || err != nil {
		t.Errorf("no runs dir: %v, %v", run, err)
	}
}

// TestKeyChanges checks that the key covers the spec, the data and the
// version, and nothing else (Commit and Created only describe the run).
func TestKeyChanges(t *testing.T) {
	data := []Source{{"ratings.csv", "aa"}}
	base := NewKey([]byte("spec"), data, "devel", "")
	if again := NewKey([]byte("spec"), []Source{{"ratings.csv", "aa"}}, "devel", "abc123"); again.Key != base.Key {
		t.Error("the same inputs gave another key")
	}
	for name, k := range map[string]Key{
		"spec":    NewKey([]byte("spec2"), data, "devel", ""),
		"data":    NewKey([]byte("spec"), []Source{{"ratings.csv", "ab"}}, "devel", ""),
		"file":    NewKey([]byte("spec"), []Source{{"ratings2.csv", "aa"}}, "devel", ""),
		"no data": NewKey([]byte("spec"), nil, "devel", ""),
		"version": NewKey([]byte("spec"), data, "v1.0.0", ""),
	} {
		if k.Key == base.Key {
			t.Errorf("another %s gave the same key", name)
		}
	}
	if a, b := NewKey([]byte("s"), nil, "devel", ""), NewKey([]byte("s"), []Source{}, "devel", ""); a.Key != b.Key {
		t.Error("no data and an empty list of files differ")
	}
}

// TestRunsRemoveRefuses checks that rm removes run directories under the
// runs dir and refuses, removing nothing, anything else: a folder
// outside it (even one that looks like a run), the runs dir itself, a
// spec's folder, a link, a write in progress.
func TestRunsRemoveRefuses(t *testing.T) {
	root := fakeRuns(t)
	outside := fakeRun(t, t.TempDir(), "x/20260101-000000", "name: x\n", "{}", "", "")
	link := filepath.Join(root, "mnist_cnn", "20260109-000000")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	partial := fakeRun(t, root, "mnist_cnn/.partial-123", "name: mnist_cnn\n", "{}", "", "")
	inLinkedDir := filepath.Join(t.TempDir(), "runs")
	os.Symlink(filepath.Dir(outside), inLinkedDir) // a runs dir reached through a link elsewhere
	good := filepath.Join(root, "mnist_cnn", "20260101-090000")
	for _, c := range []struct {
		dir, why string
	}{
		{outside, "not under the runs directory"},
		{root, "not a run directory"},
		{filepath.Join(root, "mnist_cnn"), "not a run directory (it has no spec.yaml)"},
		{filepath.Join(root, "mnist_cnn", "nope"), "no such run directory"},
		{filepath.Join(good, SpecFile), "a file, not a run directory"},
		{link, "a link, not a run directory"},
		{partial, "a run being written"},
		{root + "/mnist_cnn/../../" + filepath.Base(filepath.Dir(filepath.Dir(outside))) + "/x/20260101-000000", "not under the runs directory"},
	} {
		err := Remove(root, []string{good, c.dir})
		if _, ok := err.(*NotRunError); !ok || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "nothing was removed") {
			t.Errorf("rm %s: %v, want a refusal saying %q", c.dir, err, c.why)
		}
		if _, err := os.Stat(filepath.Join(good, SpecFile)); err != nil {
			t.Fatalf("rm %s removed the good run given with it", c.dir)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, SpecFile)); err != nil {
		t.Fatal("the run outside the runs dir was removed")
	}
	if err := Remove(inLinkedDir, []string{filepath.Join(inLinkedDir, "20260101-000000")}); err != nil {
		t.Errorf("a run under a runs dir given through a link: %v", err)
	}
	if err := Remove(root, []string{good}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(good); !os.IsNotExist(err) {
		t.Errorf("rm left %s", good)
	}
	if runs, _ := Find(root); len(runs) != 3 {
		t.Errorf("after rm, %d runs left, want 3: %v", len(runs), runs)
	}
}

// TestRunsGC keeps the newest N finished runs of each key, drops an
// interrupted run that a newer finished one of its key supersedes, keeps
// one that may still be resumed, and leaves runs without run.json alone.
func TestRunsGC(t *testing.T) {
	root := t.TempDir()
	spec := "name: m\n"
	finished, stopped := `{"test": {"rmse": 1}}`, `{"test": null, "interrupted": "interrupted"}`
	for _, r := range []struct{ dir, metrics, key string }{
		{"m/20260101-000000", stopped, "a"}, // superseded by a finished run of a
		{"m/20260102-000000", finished, "a"},
		{"m/20260103-000000", finished, "a"},
		{"m/20260104-000000", finished, "b"},
		{"m/20260105-000000", finished, "a"},
		{"m/20260106-000000", stopped, "a"}, // newer than every finished run of a: may be resumed
		{"n/20260101-000000", finished, ""}, // no key: left alone
		{"n/20260102-000000", finished, ""},
	} {
		made, _ := time.Parse(stampLayout, filepath.Base(r.dir))
		fakeRun(t, root, r.dir, spec, r.metrics, r.key, made.Format(time.RFC3339))
	}
	names := func(dirs []string) []string {
		var out []string
		for _, d := range dirs {
			rel, _ := filepath.Rel(root, d)
			out = append(out, rel)
		}
		return out
	}

	c, err := GC(root, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"m/20260103-000000", "m/20260102-000000", "m/20260101-000000"}
	if got := names(c.Removed); !slices.Equal(got, want) || c.Kept != 3 || c.NoKey != 2 || c.Bytes == 0 {
		t.Errorf("dry run: would remove %v (kept %d, no key %d, %d bytes), want %v, kept 3, no key 2", got, c.Kept, c.NoKey, c.Bytes, want)
	}
	if runs, _ := Find(root); len(runs) != 8 {
		t.Errorf("the dry run removed runs: %d left", len(runs))
	}

	c, err = GC(root, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(c.Removed); !slices.Equal(got, []string{"m/20260102-000000", "m/20260101-000000"}) {
		t.Errorf("--keep 2 removed %v", got)
	}
	c, err = GC(root, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(c.Removed); !slices.Equal(got, []string{"m/20260103-000000"}) {
		t.Errorf("--keep 1 removed %v", got)
	}
	runs, _ := Find(root)
	if got := names(runs); !slices.Equal(got, []string{"m/20260106-000000", "m/20260105-000000", "m/20260104-000000", "n/20260102-000000", "n/20260101-000000"}) {
		t.Errorf("left %v", got)
	}
	if _, err := GC(root, 0, false); err == nil {
		t.Error("--keep 0: no error")
	}
	if c, err := GC(filepath.Join(root, "nowhere"), 1, false); err != nil || len(c.Removed) != 0 {
		t.Errorf("no runs dir: %v %v", c, err)
	}
}
