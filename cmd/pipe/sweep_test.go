package main

import (
	"bytes"
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

const mfSpec = "../../specs/cf/movielense_mf.yaml"

// sweepCLI runs pipe in this process; its trials run as child processes
// of this test binary, which TestMain turns into pipe.
func sweepCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("PIPE_TEST_AS_CLI", "1")
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func sweepDirs(t *testing.T, runs, name string) []string {
	t.Helper()
	dirs, err := rundir.Find(filepath.Join(runs, name))
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// tableRows are the rows of a sweep table below its header, split into
// fields, up to the blank line before the best trial.
func tableRows(out string) [][]string {
	var rows [][]string
	for i, line := range strings.Split(out, "\n") {
		if i == 0 {
			continue
		}
		if strings.TrimSpace(line) == "" {
			break
		}
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func lastOf(t *testing.T, dir, series string) float64 {
	t.Helper()
	h, err := (&rundir.Run{Dir: dir}).History()
	if err != nil {
		t.Fatal(err)
	}
	v := h[series]
	if len(v) == 0 {
		t.Fatalf("%s has no %s series", dir, series)
	}
	return v[len(v)-1]
}

func TestSweepGridRanksByValidationAndResumes(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	args := []string{"sweep", "--data-dir", data, "--runs-dir", runs, "--no-cache", mfSpec,
		"--set", "data.sample_users=100", "--set", "model.epochs=3",
		"--grid", "model.learning_rate=[0.003,0.007,0.02]", "--metric", "val_rmse", "--jobs", "2"}
	code, out, errOut := sweepCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if got := len(sweepDirs(t, runs, "movielense_mf")); got != 3 {
		t.Fatalf("%d run dirs after a 3-trial sweep, want 3\n%s", got, out)
	}
	rows := tableRows(out)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3:\n%s", len(rows), out)
	}
	// Columns: trial, model.learning_rate, val_rmse, test mae, test rmse, run.
	prev := math.Inf(-1)
	for _, r := range rows {
		val, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("row %v: %v", r, err)
		}
		if val < prev {
			t.Errorf("rows not sorted by val_rmse, lowest first:\n%s", out)
		}
		prev = val
		dir := r[len(r)-1]
		if want := lastOf(t, dir, "val_rmse"); math.Abs(want-val) > 5e-5 {
			t.Errorf("row %v: val_rmse %v, its run's last val_rmse %v", r, val, want)
		}
		spec, err := os.ReadFile(filepath.Join(dir, rundir.SpecFile))
		if err != nil || !strings.Contains(string(spec), "learning_rate: "+r[1]) {
			t.Errorf("run %s was not made with learning_rate %s (%v)", dir, r[1], err)
		}
	}
	best := rows[0]
	if want := fmt.Sprintf("best by val_rmse (lower is better): trial %s (model.learning_rate=%s)", best[0], best[1]); !strings.Contains(out, want) {
		t.Errorf("want %q in\n%s", want, out)
	}

	// Again: every trial is reused, nothing runs.
	code, out2, errOut := sweepCLI(t, args...)
	if code != 0 {
		t.Fatalf("second sweep: exit %d\n%s%s", code, out2, errOut)
	}
	if got := len(sweepDirs(t, runs, "movielense_mf")); got != 3 {
		t.Errorf("%d run dirs after the same sweep again, want still 3", got)
	}
	if strings.Count(out2, "(reused)") != 3 || strings.Contains(errOut, "running") {
		t.Errorf("second sweep ran trials again:\n%s%s", out2, errOut)
	}
}

func TestSweepRandomIsSeeded(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	args := []string{"sweep", "--data-dir", data, "--runs-dir", runs, "--no-cache", mfSpec,
		"--set", "data.sample_users=100", "--set", "model.epochs=2",
		"--random", "model.learning_rate=loguniform(0.001,0.03)", "--trials", "2", "--seed", "7", "--metric", "val_rmse"}
	code, out, errOut := sweepCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	code, out2, errOut := sweepCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out2, errOut)
	}
	// The same seed draws the same trials: the second sweep's are the
	// first's runs, reused.
	if got := len(sweepDirs(t, runs, "movielense_mf")); got != 2 {
		t.Errorf("%d run dirs after the same seeded sweep twice, want 2\n%s\n%s", got, out, out2)
	}
	if strings.Count(out2, "(reused)") != 2 {
		t.Errorf("second seeded sweep did not reuse both trials:\n%s", out2)
	}
}

func TestCVFoldsMeanStd(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	code, out, errOut := sweepCLI(t, "cv", "--data-dir", data, "--runs-dir", runs, "--no-cache", knnSpec,
		"--set", "data.sample_users=100", "--folds", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	dirs := sweepDirs(t, runs, "movielense_knn")
	if len(dirs) != 3 {
		t.Fatalf("%d run dirs, want 3 folds", len(dirs))
	}
	// Each fold's run, found by its fold number in its spec, gives the
	// numbers the mean and std are computed from.
	rmse := make([]float64, 3)
	for _, d := range dirs {
		spec, err := os.ReadFile(filepath.Join(d, rundir.SpecFile))
		if err != nil {
			t.Fatal(err)
		}
		test, err := (&rundir.Run{Dir: d}).TestMetrics()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for i := range 3 {
			if strings.Contains(string(spec), fmt.Sprintf("fold: %d", i)) && strings.Contains(string(spec), "k: 3") {
				rmse[i], found = test["rmse"], true
			}
		}
		if !found {
			t.Fatalf("%s is not a fold of a 3-fold split:\n%s", d, spec)
		}
	}
	if rmse[0] == rmse[1] || rmse[1] == rmse[2] {
		t.Errorf("folds gave equal rmse %v: not different test folds", rmse)
	}
	mean, std := sweep.MeanStd(rmse)
	var row string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "rmse ") && !strings.Contains(line, "±") {
			row = line
		}
	}
	want := []string{"rmse"}
	for _, v := range rmse {
		want = append(want, fmt.Sprintf("%.4f", v))
	}
	want = append(want, fmt.Sprintf("%.4f", mean), fmt.Sprintf("%.4f", std))
	if got := strings.Fields(row); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rmse row %q, want %q\n%s", row, want, out)
	}
	if line := fmt.Sprintf("rmse %.4f ± %.4f", mean, std); !strings.Contains(out, line) {
		t.Errorf("want %q in\n%s", line, out)
	}

	// Again: the folds are reused.
	code, out, errOut = sweepCLI(t, "cv", "--data-dir", data, "--runs-dir", runs, "--no-cache", knnSpec,
		"--set", "data.sample_users=100", "--folds", "3")
	if code != 0 || strings.Count(out, "(reused)") != 3 || len(sweepDirs(t, runs, "movielense_knn")) != 3 {
		t.Errorf("second cv: exit %d, want every fold reused:\n%s%s", code, out, errOut)
	}
}

func TestSweepCVUsageErrors(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	base := []string{"--data-dir", data, "--runs-dir", runs, "--no-cache"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", mfSpec, "--grid", "model.learning_rate=0.1,0.2"}, "bracketed list"},
		{[]string{"sweep", mfSpec, "--grid", "[0.1]"}, "want PATH=[v1,v2,...]"},
		{[]string{"sweep", mfSpec, "--grid", "model.learning_rate=[0.1]", "--metric", "rmse"}, "never by a test metric"},
		{[]string{"sweep", mfSpec, "--grid", "model.learning_rate=[0.1]", "--metric", "test_rmse"}, "never by a test metric"},
		{[]string{"sweep", mfSpec, "--random", "model.learning_rate=normal(0,1)", "--trials", "2"}, "unknown distribution"},
		{[]string{"sweep", mfSpec, "--random", "model.learning_rate=uniform(0,1)"}, "--random needs --trials"},
		{[]string{"sweep", mfSpec}, "nothing to sweep"},
		{[]string{"cv", "../../specs/mnist_cnn.yaml"}, "takes no split:"},
		{[]string{"cv", mfSpec, "--folds", "1"}, "at least 2 folds"},
	} {
		args := append(append([]string{c.args[0]}, base...), c.args[1:]...)
		code, out, errOut := sweepCLI(t, args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("pipe %s: exit %d, stderr %q; want exit 2 and %q (stdout %q)", strings.Join(c.args, " "), code, errOut, c.want, out)
		}
	}
	if dirs, _ := rundir.Find(filepath.Join(runs, "movielense_mf")); len(dirs) != 0 {
		t.Errorf("a refused command ran %d trials", len(dirs))
	}
}
