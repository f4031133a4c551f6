package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/rundir"
)

// TestResumeEndsAsUninterrupted stops a real pipe process after its second
// of four epochs, with SIGINT and with SIGKILL under checkpoint_every: 1,
// resumes it, and checks that every history series of every epoch, and the
// final test metrics, equal the uninterrupted run's bit for bit, and that
// the resumed run finished in the directory it resumed, the only one under
// runs/<name>/. testdata/dropout.yaml draws everything a step can draw:
// shuffled batches, dropout, and dropout per part with shards: 2.
func TestResumeEndsAsUninterrupted(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	cache := t.TempDir() // shared, so that the data is parsed once
	base := []string{"run", "--data-dir", data, "--cache-dir", cache, "testdata/dropout.yaml"}
	const epochs = 4

	straight := t.TempDir()
	if code, _, errOut := pipeCmd(t, append(base, "--quiet", "--runs-dir", straight)...); code != 0 {
		t.Fatalf("uninterrupted run: %s", errOut)
	}
	want := readRunResults(t, onlyRunDir(t, straight, "dropout"))
	if n := len(want.history["loss"]); n != epochs {
		t.Fatalf("the uninterrupted run has %d epochs, want %d", n, epochs)
	}

	t.Run("SIGINT", func(t *testing.T) {
		runs := t.TempDir()
		cmd, stderr := startPipe(t, "epoch 2/4", append(base, "--runs-dir", runs)...)
		// Most likely lands within epoch 3: the model goes back to the end
		// of epoch 2, random state included.
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitStopped {
			t.Fatalf("interrupted run: %v, stderr %s", err, stderr.String())
		}
		msg := stderr.String()
		i := strings.Index(msg, "pipe run --resume ")
		if i < 0 {
			t.Fatalf("no resume hint: %s", msg)
		}
		dir := strings.TrimSpace(msg[i+len("pipe run --resume "):])
		resumeAndCompare(t, data, cache, runs, dir, want)
	})

	t.Run("SIGKILL", func(t *testing.T) {
		runs := t.TempDir()
		cmd, stderr := startPipe(t, "epoch 2/4", append(base, "--runs-dir", runs, "--set", "train.checkpoint_every=1")...)
		// The checkpoint is written after the epoch's line: wait (bounded)
		// until the run directory holds two epochs, then kill.
		var dir string
		deadline := time.Now().Add(60 * time.Second)
		for dir == "" && time.Now().Before(deadline) {
			if found, _ := rundir.Find(filepath.Join(runs, "dropout")); len(found) == 1 {
				if h, err := (&rundir.Run{Dir: found[0]}).History(); err == nil && len(h["loss"]) >= 2 {
					dir = found[0]
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if dir == "" {
			t.Fatalf("no checkpoint of epoch 2 within 60s; stderr %s", stderr.String())
		}
		// Given as a shell's completion gives it, with a trailing slash,
		// the directory is still the one continued.
		resumeAndCompare(t, data, cache, runs, dir+string(filepath.Separator), want)
	})
}

// runResults are what the comparison reads from a run directory.
type runResults struct {
	history map[string][]float64
	test    map[string]float64
	metrics map[string]any
}

func readRunResults(t *testing.T, dir string) runResults {
	t.Helper()
	r := &rundir.Run{Dir: dir}
	h, err := r.History()
	if err != nil {
		t.Fatal(err)
	}
	test, err := r.TestMetrics()
	if err != nil {
		t.Fatal(err)
	}
	var metrics map[string]any
	b, err := os.ReadFile(filepath.Join(dir, rundir.MetricsFile))
	if err == nil {
		err = json.Unmarshal(b, &metrics)
	}
	if err != nil {
		t.Fatal(err)
	}
	return runResults{h, test, metrics}
}

// onlyRunDir returns the one run directory under runs/name, failing t
// when there is none or more than one.
func onlyRunDir(t *testing.T, runs, name string) string {
	t.Helper()
	dirs := runDirs(t, runs, name)
	if len(dirs) != 1 {
		t.Fatalf("want one run directory under %s, got %v", filepath.Join(runs, name), dirs)
	}
	return dirs[0]
}

// runDirs lists the directories under runs/name, hidden unfinished writes
// aside.
func runDirs(t *testing.T, runs, name string) []string {
	t.Helper()
	var dirs []string
	entries, err := os.ReadDir(filepath.Join(runs, name))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, filepath.Join(runs, name, e.Name()))
		}
	}
	return dirs
}

// resumeAndCompare resumes the stopped run in resumeDir (after some but
// not all epochs) and checks that it ends, in that directory, as want did.
func resumeAndCompare(t *testing.T, data, cache, runs, resumeDir string, want runResults) {
	t.Helper()
	dir := filepath.Clean(resumeDir)
	stopped := readRunResults(t, dir)
	done, total := len(stopped.history["loss"]), len(want.history["loss"])
	if done < 2 || done >= total {
		t.Fatalf("the stopped run saved %d epochs; want at least 2 and fewer than %d", done, total)
	}
	t.Logf("resuming %s after epoch %d of %d", dir, done, total)
	code, out, errOut := pipeCmd(t, "run", "--quiet", "--data-dir", data, "--cache-dir", cache, "--runs-dir", runs, "--resume", resumeDir)
	if code != 0 {
		t.Fatalf("resume: %s", errOut)
	}
	_, finished, ok := strings.Cut(strings.TrimSpace(out), " -> ")
	if !ok {
		t.Fatalf("resume printed no run directory: %q", out)
	}
	if finished != dir {
		t.Errorf("the resumed run finished in %s, not in %s", finished, dir)
	}
	if dirs := runDirs(t, runs, "dropout"); len(dirs) != 1 {
		t.Errorf("want the one resumed run directory under %s, got %v", filepath.Join(runs, "dropout"), dirs)
	}
	got := readRunResults(t, finished)
	// The training time is the whole run's, the epochs before the resume
	// included.
	if before, after := stopped.metrics["train_seconds"].(float64), got.metrics["train_seconds"].(float64); !(after > before) {
		t.Errorf("train_seconds %v after the resume, %v before", after, before)
	}
	if _, ok := got.metrics["interrupted"]; ok {
		t.Errorf("the resumed run is still marked interrupted: %v", got.metrics["interrupted"])
	}
	if len(got.history) != len(want.history) {
		t.Errorf("resumed after epoch %d: series %v, uninterrupted %v", done, keys(got.history), keys(want.history))
	}
	for name, w := range want.history {
		g := got.history[name]
		if len(g) != len(w) {
			t.Errorf("resumed after epoch %d: %s has %d epochs, want %d", done, name, len(g), len(w))
			continue
		}
		for e := range w {
			if g[e] != w[e] {
				t.Errorf("resumed after epoch %d: epoch %d %s = %v, uninterrupted %v", done, e+1, name, g[e], w[e])
			}
		}
	}
	for name, w := range want.test {
		if g, ok := got.test[name]; !ok || g != w {
			t.Errorf("resumed after epoch %d: test %s = %v, uninterrupted %v", done, name, g, w)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestSourceKept: a run keeps its spec as given (source.yaml: the file
// with --set applied, its comments kept, without the defaults that
// spec.yaml fills in), and
// a resume with --set applies its values to it again, so that pipe runs
// and pipe diff still name the fields as the spec file does.
func TestSourceKept(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	runs := t.TempDir()
	base := []string{"--quiet", "--data-dir", data, "--runs-dir", runs}
	if code, _, errOut := pipeCmd(t, append([]string{"run", "--set", "train.epochs=1", "--set", "model.layers[2].rate=0.4", "testdata/dropout.yaml"}, base...)...); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	dir := onlyRunDir(t, runs, "dropout")
	source := func() string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, rundir.SourceFile))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	resolved, err := os.ReadFile(filepath.Join(dir, rundir.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	if s := source(); !strings.Contains(s, "epochs: 1") || !strings.Contains(s, "rate: 0.4") || !strings.Contains(s, "# Every source of randomness") ||
		strings.Contains(s, "backend:") || !strings.Contains(string(resolved), "backend: go") {
		t.Fatalf("source.yaml is not the spec as given with the sets:\n%s", s)
	}
	if code, _, errOut := pipeCmd(t, append([]string{"run", "--resume", dir, "--set", "train.epochs=2"}, base...)...); code != 0 {
		t.Fatalf("resume: %s", errOut)
	}
	if s := source(); !strings.Contains(s, "epochs: 2") || !strings.Contains(s, "rate: 0.4") || strings.Contains(s, "backend:") {
		t.Errorf("source.yaml after a resume with train.epochs=2:\n%s", s)
	}
}
