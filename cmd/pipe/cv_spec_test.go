package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/sweep"
)

// foldTest reads each fold run's test metric, by the fold number its
// resolved spec holds (k folds); the spec has no cv: any more.
func foldTest(t *testing.T, dirs []string, k int, metric string) []float64 {
	t.Helper()
	vals := make([]float64, k)
	seen := make([]bool, k)
	for _, d := range dirs {
		spec, err := os.ReadFile(filepath.Join(d, rundir.SpecFile))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(spec), "cv:") {
			t.Errorf("fold run %s kept cv: in its spec", d)
		}
		test, err := (&rundir.Run{Dir: d}).TestMetrics()
		if err != nil {
			t.Fatal(err)
		}
		for i := range k {
			if strings.Contains(string(spec), fmt.Sprintf("fold: %d", i)) && strings.Contains(string(spec), fmt.Sprintf("k: %d", k)) {
				vals[i], seen[i] = test[metric], true
			}
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("no run of fold %d of %d in %v", i, k, dirs)
		}
	}
	return vals
}

// TestRunCVSpecFoldsMeanStd: pipe run on a spec with cv: runs every test
// fold and prints their test metrics with the mean and std computed from
// the fold runs; pipe cv on the same spec without cv: makes the same runs
// (it reuses them all): one mechanism.
func TestRunCVSpecFoldsMeanStd(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	base := []string{"--data-dir", data, "--runs-dir", runs, "--no-cache", knnSpec, "--set", "data.sample_users=100"}
	code, out, errOut := sweepCLI(t, append(append([]string{"run"}, base...), "--set", "cv={folds: 3}")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	dirs := sweepDirs(t, runs, "movielense_knn")
	if len(dirs) != 3 {
		t.Fatalf("%d run dirs, want 3 folds\n%s", len(dirs), out)
	}
	rmse := foldTest(t, dirs, 3, "rmse")
	if rmse[0] == rmse[1] || rmse[1] == rmse[2] {
		t.Errorf("folds gave equal rmse %v: not different test folds", rmse)
	}
	mean, std := sweep.MeanStd(rmse)
	want := []string{"rmse"}
	for _, v := range rmse {
		want = append(want, fmt.Sprintf("%.4f", v))
	}
	want = append(want, fmt.Sprintf("%.4f", mean), fmt.Sprintf("%.4f", std))
	if !strings.Contains(out, strings.Join(want, "  ")) && !containsFields(out, want) {
		t.Errorf("want the row %q in\n%s", want, out)
	}
	if line := fmt.Sprintf("rmse %.4f ± %.4f", mean, std); !strings.Contains(out, line) {
		t.Errorf("want %q in\n%s", line, out)
	}

	// pipe cv of the spec without cv:, 3 folds: the same runs.
	code, out, errOut = sweepCLI(t, append(append([]string{"cv"}, base...), "--folds", "3")...)
	if code != 0 || strings.Count(out, "(reused)") != 3 || len(sweepDirs(t, runs, "movielense_knn")) != 3 {
		t.Errorf("pipe cv after pipe run with cv:: exit %d, want every fold reused:\n%s%s", code, out, errOut)
	}
}

func containsFields(out string, want []string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

// TestRunCVSpecErrors: cv: on a loader without split: is a spec error
// pointing at cv:; with validation: test, early stopping on a validation
// series would watch the test fold and is refused.
func TestRunCVSpecErrors(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"../../specs/mnist_cnn.yaml", "--set", "cv={folds: 3}"}, "cv: loader mnist takes no split:"},
		{[]string{knnSpec, "--set", "cv={folds: 1}"}, "cv.folds"},
		{[]string{mfSpec, "--set", "cv={folds: 3}", "--set", "train={early_stopping: {monitor: val_rmse}}"},
			"train.validation: with cv:, train.validation: test would be each test fold"},
	} {
		args := append([]string{"run", "--data-dir", data, "--runs-dir", runs, "--no-cache"}, c.args...)
		code, out, errOut := sweepCLI(t, args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("pipe %s: exit %d, stderr %q; want an error with %q (stdout %q)", strings.Join(c.args, " "), code, errOut, c.want, out)
		}
	}
	if dirs, _ := rundir.Find(runs); len(dirs) != 0 {
		t.Errorf("a refused cv ran %d runs", len(dirs))
	}
}

// TestSweepNestedInFolds: pipe sweep on a spec with cv: runs the grid in
// each test fold, chooses each fold's trial by the validation series held
// out of the fold's training part, and reports the chosen trials' test
// metrics with their mean and std. A test metric, or a validation series
// measured on the test fold (validation: test), is refused.
func TestSweepNestedInFolds(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	base := []string{"sweep", "--data-dir", data, "--runs-dir", runs, "--no-cache", mfSpec,
		"--set", "data.sample_users=100", "--set", "model.epochs=2", "--set", "cv={folds: 2}",
		"--grid", "model.learning_rate=[0.003,0.02]"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--metric", "rmse"}, "never by a test metric"},
		{[]string{"--metric", "test_rmse"}, "never by a test metric"},
		{[]string{"--metric", "val_rmse"}, "train.validation: test is each test fold"},
	} {
		code, out, errOut := sweepCLI(t, append(append([]string(nil), base...), c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("nested sweep %v: exit %d, stderr %q; want exit 2 and %q (stdout %q)", c.args, code, errOut, c.want, out)
		}
	}
	if dirs, _ := rundir.Find(runs); len(dirs) != 0 {
		t.Fatalf("a refused sweep ran %d runs", len(dirs))
	}

	code, out, errOut := sweepCLI(t, append(append([]string(nil), base...), "--set", "train={validation: 0.1}", "--metric", "val_rmse")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	dirs := sweepDirs(t, runs, "movielense_mf")
	if len(dirs) != 4 {
		t.Fatalf("%d run dirs, want 2 trials x 2 folds\n%s", len(dirs), out)
	}
	// Each fold's choice is its trial with the lowest val_rmse; the
	// summary is over the chosen runs' test rmse.
	var chosen []float64
	for f := range 2 {
		var best string
		bestVal := math.Inf(1)
		for _, d := range dirs {
			spec, err := os.ReadFile(filepath.Join(d, rundir.SpecFile))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(spec), fmt.Sprintf("fold: %d", f)) {
				continue
			}
			if v := lastOf(t, d, "val_rmse"); v < bestVal {
				best, bestVal = d, v
			}
		}
		prefix := fmt.Sprintf("fold %d: chose trial ", f)
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, prefix) {
				line = l
			}
		}
		if !strings.HasSuffix(line, "val_rmse "+strconv.FormatFloat(bestVal, 'f', 4, 64)) {
			t.Errorf("fold %d: line %q, want the lowest val_rmse %.4f (%s)", f, line, bestVal, best)
		}
		test, err := (&rundir.Run{Dir: best}).TestMetrics()
		if err != nil {
			t.Fatal(err)
		}
		chosen = append(chosen, test["rmse"])
		if !strings.Contains(out, fmt.Sprintf("fold %d: %s", f, best)) {
			t.Errorf("fold %d: the chosen run %s is not listed:\n%s", f, best, out)
		}
	}
	mean, std := sweep.MeanStd(chosen)
	if line := fmt.Sprintf("rmse %.4f ± %.4f", mean, std); !strings.Contains(out, line) {
		t.Errorf("want %q in\n%s", line, out)
	}
}

// TestRunCVGivenFolds: cv.given runs one fold per pair of files, each
// fold's test ratings those of its test file.
func TestRunCVGivenFolds(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "syn")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]*strings.Builder{}
	for _, f := range []string{"all.csv", "a.base", "a.test", "b.base", "b.test"} {
		files[f] = &strings.Builder{}
		files[f].WriteString("user,item,rating\n")
	}
	for u := range 12 {
		for i := range 10 {
			line := fmt.Sprintf("u%d,i%d,%d\n", u, i, 1+(u*7+i*3)%5)
			files["all.csv"].WriteString(line)
			// Fold a tests a third of the ratings, fold b another third.
			switch (u + 2*i) % 3 {
			case 0:
				files["a.test"].WriteString(line)
				files["b.base"].WriteString(line)
			case 1:
				files["a.base"].WriteString(line)
				files["b.test"].WriteString(line)
			default:
				files["a.base"].WriteString(line)
				files["b.base"].WriteString(line)
			}
		}
	}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	specPath := filepath.Join(t.TempDir(), "syn_knn.yaml")
	src := `name: syn_knn
data:
  loader: ratings
  path: syn/all.csv
model:
  name: user_knn
  k: 5
evaluate: [rmse]
cv:
  given:
    - {train: a.base, test: a.test}
    - {train: b.base, test: b.test}
`
	if err := os.WriteFile(specPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	code, out, errOut := sweepCLI(t, "run", "--data-dir", data, "--runs-dir", runs, "--no-cache", specPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	dirs := sweepDirs(t, runs, "syn_knn")
	if len(dirs) != 2 {
		t.Fatalf("%d run dirs, want 2 given folds\n%s", len(dirs), out)
	}
	rmse := make([]float64, 2)
	for _, d := range dirs {
		spec, err := os.ReadFile(filepath.Join(d, rundir.SpecFile))
		if err != nil {
			t.Fatal(err)
		}
		test, err := (&rundir.Run{Dir: d}).TestMetrics()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(string(spec), "a.test"):
			rmse[0] = test["rmse"]
		case strings.Contains(string(spec), "b.test"):
			rmse[1] = test["rmse"]
		default:
			t.Fatalf("%s is no given fold:\n%s", d, spec)
		}
	}
	mean, std := sweep.MeanStd(rmse)
	if line := fmt.Sprintf("rmse %.4f ± %.4f", mean, std); !strings.Contains(out, line) {
		t.Errorf("want %q in\n%s", line, out)
	}

	// --folds cannot change the given folds; folds and given together
	// are a spec error.
	code, _, errOut = sweepCLI(t, "cv", "--data-dir", data, "--runs-dir", runs, "--no-cache", specPath, "--folds", "3")
	if code != exitUsage || !strings.Contains(errOut, "cv.given names its 2 folds") {
		t.Errorf("pipe cv --folds 3 on given folds: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = sweepCLI(t, "run", "--data-dir", data, "--runs-dir", runs, "--no-cache", specPath, "--set", "cv.folds=3")
	if code == 0 || !strings.Contains(errOut, "cv: cv takes one of folds (k-fold), blocks (consecutive blocks), seeds (repeated splits) or given (files)") {
		t.Errorf("cv with folds and given: exit %d, stderr %q", code, errOut)
	}
}
