package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
)

// knnSpec is the course's first CF row; on a 100-user sample of MovieLense
// a run takes well under a second.
const knnSpec = "../../specs/cf/movielense_knn.yaml"

// knnRun runs knnSpec on 100 users with the extra --set overrides into
// runs and returns its run directory.
func knnRun(t *testing.T, data, runs string, sets ...string) string {
	t.Helper()
	args := []string{"run", "--quiet", "--no-cache", "--data-dir", data, "--runs-dir", runs, "--set", "data.sample_users=100"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	code, out, stderr := pipeCmd(t, append(args, knnSpec)...)
	if code != 0 {
		t.Fatalf("pipe run: exit %d: %s", code, stderr)
	}
	return strings.TrimSpace(out[strings.LastIndex(out, "-> ")+3:])
}

// testMetrics reads a run's metrics.json.
func testMetrics(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	m, err := (&rundir.Run{Dir: dir}).TestMetrics()
	if err != nil || m == nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return m
}

func countRuns(t *testing.T, runs string) int {
	t.Helper()
	dirs, err := rundir.Find(runs)
	if err != nil {
		t.Fatal(err)
	}
	return len(dirs)
}

// TestCompareStaleKey is the stale case of issue 17: after a run with
// k=30, `pipe compare --set model.k=5` runs the spec with k=5 and never
// prints k=30's number. The k=30 run is reused only for k=30 itself (a
// report: change does not matter), marked, with a footnote naming it and
// when it was made; --rerun runs it again.
func TestCompareStaleKey(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	compare := func(sets ...string) string {
		t.Helper()
		args := []string{"compare", "--quiet", "--no-cache", "--data-dir", data, "--runs-dir", runs, "--set", "data.sample_users=100"}
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		code, out, stderr := pipeCmd(t, append(args, knnSpec)...)
		if code != 0 {
			t.Fatalf("pipe compare %v: exit %d: %s", sets, code, stderr)
		}
		return out
	}
	cell := regexp.MustCompile(`\| user-based neighbourhood \| ([0-9.]+)( \[1\])? \|`)
	value := func(out string) (v string, reused bool) {
		t.Helper()
		m := cell.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no cell in:\n%s", out)
		}
		return m[1], m[2] != ""
	}

	first := compare()
	k30, reused := value(first)
	if reused || countRuns(t, runs) != 1 {
		t.Fatalf("first compare: reused %v, %d runs:\n%s", reused, countRuns(t, runs), first)
	}
	k30Dir, _ := rundir.Find(runs)

	out := compare("model.k=5")
	k5, reused := value(out)
	if strings.Contains(out, k30) || reused || strings.Contains(out, "[1]") {
		t.Errorf("compare with k=5 printed k=30's %s (or marked a reused cell):\n%s", k30, out)
	}
	if k5 == k30 || countRuns(t, runs) != 2 {
		t.Errorf("k=5 gave %s, k=30 %s; %d runs, want 2 (the spec ran)", k5, k30, countRuns(t, runs))
	}
	if got := fmt.Sprintf("%.4f", testMetrics(t, newestRun(t, runs))["rmse"]); got != k5 {
		t.Errorf("the table says %s, the new run's metrics.json %s", k5, got)
	}

	out = compare("report.row=7") // k=30 again, only the table's labels changed
	v, reused := value(out)
	key, _ := (&rundir.Run{Dir: k30Dir[0]}).Key()
	note := fmt.Sprintf("\n[1] user-based neighbourhood (MovieLense): %s, made %s\n", k30Dir[0], key.Created.Format(rundir.DateLayout))
	if v != k30 || !reused || !strings.Contains(out, note) || countRuns(t, runs) != 2 {
		t.Errorf("k=30 again: want %s [1] from the first run (%d runs, want 2), got:\n%s\nwant the note %q", k30, countRuns(t, runs), out, note)
	}

	code, out, stderr := pipeCmd(t, "compare", "--rerun", "--quiet", "--no-cache", "--data-dir", data, "--runs-dir", runs, "--set", "data.sample_users=100", knnSpec)
	if v, reused := value(out); code != 0 || reused || v != k30 || countRuns(t, runs) != 3 {
		t.Errorf("--rerun: exit %d, %s reused %v, %d runs, want a new run with the same %s: %s", code, v, reused, countRuns(t, runs), k30, stderr)
	}
}

// newestRun is the newest run directory under runs.
func newestRun(t *testing.T, runs string) string {
	t.Helper()
	l := rundir.List(must(rundir.Find(runs)))
	return l.Runs[0].Dir
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCompareTable reads, for each spec, the newest finished run made
// with its key (not a newer run made otherwise, nor one without
// run.json), and lays out methods down, datasets across, in report.row
// order, each reused cell marked and noted.
func TestCompareTable(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	testdata.Dir(t, "jester5k")
	runs := t.TempDir()
	write := func(specPath, dir, metrics string, key *rundir.Key) {
		t.Helper()
		plan, err := pipeline.Load(specPath)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(runs, plan.Name, dir)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "metrics.json"), []byte(metrics), 0o644)
		os.WriteFile(filepath.Join(d, "spec.yaml"), []byte("name: "+plan.Name+"\n"), 0o644)
		if key == nil {
			return
		}
		k, err := plan.RunKey(pipeline.Options{DataDir: data})
		if err != nil {
			t.Fatal(err)
		}
		if key.Key != "" {
			k.Key = key.Key
		}
		k.Created = key.Created
		b, _ := json.Marshal(k)
		os.WriteFile(filepath.Join(d, rundir.KeyFile), b, 0o644)
	}
	at := func(day int) *rundir.Key {
		return &rundir.Key{Created: time.Date(2026, 1, day, 10, 0, 0, 0, time.UTC)}
	}
	mf, knn, jester := "../../specs/cf/movielense_mf.yaml", "../../specs/cf/movielense_knn.yaml", "../../specs/cf/jester5k_knn.yaml"
	write(mf, "20260101-100000", `{"test": {"rmse": 0.95}}`, at(1))
	write(mf, "20260102-100000", `{"test": {"rmse": 0.92}}`, at(2)) // the newest of its key
	other := at(3)
	other.Key = "0000"
	write(mf, "20260103-100000", `{"test": {"rmse": 0.5}}`, other)                      // made otherwise
	write(mf, "20260104-100000", `{"test": {"rmse": 0.4}}`, nil)                        // no run.json
	write(mf, "20260105-100000", `{"test": null, "interrupted": "interrupted"}`, at(5)) // unfinished
	write(mf, ".partial-1", `{"test": {"rmse": 0.1}}`, at(6))                           // being written
	write(knn, "20260101-100000", `{"test": {"rmse": 1.02}}`, at(1))
	write(jester, "20260101-100000", `{"test": {"rmse": 4.47}}`, at(1))
	code, out, stderr := pipeCmd(t, "compare", "--no-cache", "--data-dir", data, "--runs-dir", runs, mf, knn, jester)
	if code != 0 {
		t.Fatal(stderr)
	}
	want := `Test rmse

| method | MovieLense | Jester5k |
|---|---|---|
| user-based neighbourhood | 1.0200 [1] | 4.4700 [2] |
| matrix factorisation | **0.9200** [3] | n/a |

[1] user-based neighbourhood (MovieLense): RUNS/movielense_knn/20260101-100000, made 2026-01-01 10:00:00
[2] user-based neighbourhood (Jester5k): RUNS/jester5k_knn/20260101-100000, made 2026-01-01 10:00:00
[3] matrix factorisation (MovieLense): RUNS/movielense_mf/20260102-100000, made 2026-01-02 10:00:00

Values marked [n] come from earlier runs of the same spec, data and pipe version (--rerun runs them again).
`
	if got := strings.ReplaceAll(out, runs, "RUNS"); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(stderr, "movielense_mf: reusing "+runs+"/movielense_mf/20260102-100000") {
		t.Errorf("stderr does not say which run was reused: %s", stderr)
	}
	code, out, _ = pipeCmd(t, "compare", "--no-cache", "--data-dir", data, "--runs-dir", runs, "--format", "csv", mf, knn)
	if want := "method,MovieLense,MovieLense best,MovieLense from\nuser-based neighbourhood,1.0200,,\"RUNS/movielense_knn/20260101-100000, made 2026-01-01 10:00:00\"\nmatrix factorisation,0.9200,*,\"RUNS/movielense_mf/20260102-100000, made 2026-01-02 10:00:00\"\n"; code != 0 || strings.ReplaceAll(out, runs, "RUNS") != want {
		t.Errorf("csv: %q, want %q", out, want)
	}
	if code, _, stderr := pipeCmd(t, "compare", "--runs-dir", runs, "--format", "xml", mf); code != exitUsage || !strings.Contains(stderr, `unknown format "xml"`) {
		t.Errorf("--format xml: exit %d, %s", code, stderr)
	}
}

// TestRunsCommand lists real runs: the params that differ, sorting,
// JSON and CSV, and the command-line mistakes.
func TestRunsCommand(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	dirs := []string{
		knnRun(t, data, runs),
		knnRun(t, data, runs, "model.k=5"),
		knnRun(t, data, runs, "model.normalize=zscore"),
	}
	code, out, stderr := pipeCmd(t, "runs", "--runs-dir", runs, knnSpec)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	header := regexp.MustCompile(`^name +date +params +mae +rmse +time +status +run$`)
	if len(lines) != 4 || !header.MatchString(lines[0]) {
		t.Fatalf("want a header and 3 runs:\n%s", out)
	}
	// Newest first; the fields that differ among the three, with values.
	for i, want := range []string{"model.k=30 model.normalize=none", "model.k=5 model.normalize=none", "model.k=30 model.normalize=zscore"} {
		row := lines[3-i]
		m := testMetrics(t, dirs[i])
		if !strings.Contains(row, "  "+want+"  ") || !strings.HasSuffix(row, "  finished  "+dirs[i]) ||
			!strings.Contains(row, fmt.Sprintf("  %.4f  %.4f  ", m["mae"], m["rmse"])) || !strings.HasPrefix(row, "movielense_knn  ") {
			t.Errorf("row of %s: %q; want params %q and its metrics", dirs[i], row, want)
		}
	}
	// The same table by spec name; --all lists the same runs.
	if code, byName, _ := pipeCmd(t, "runs", "--runs-dir", runs, "movielense_knn"); code != 0 || byName != out {
		t.Errorf("runs by name: exit %d\n%s", code, byName)
	}

	code, out, _ = pipeCmd(t, "runs", "--runs-dir", runs, "--all", "--sort", "-rmse", "--json")
	var listed []struct {
		Run    string
		Params map[string]string
		Test   map[string]float64
	}
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed) != 3 {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
	}
	for i := 1; i < len(listed); i++ {
		if listed[i].Test["rmse"] > listed[i-1].Test["rmse"] {
			t.Errorf("--sort -rmse: %v before %v", listed[i-1].Test["rmse"], listed[i].Test["rmse"])
		}
	}
	for _, r := range listed {
		if r.Run == dirs[1] && (r.Params["model.k"] != "5" || r.Params["model.normalize"] != "none" || len(r.Params) != 2) {
			t.Errorf("--json params of the k=5 run: %v", r.Params)
		}
	}

	code, out, _ = pipeCmd(t, "runs", "--runs-dir", runs, "--all", "--csv", "--sort", "rmse")
	if rows := strings.Split(out, "\n"); code != 0 || rows[0] != "name,date,run,model.k,model.normalize,mae,rmse,train_seconds,status" || len(rows) != 5 {
		t.Errorf("--csv: exit %d:\n%s", code, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"runs"}, "needs spec files (or names), or --all for every run under " + runs},
		{[]string{"runs", "--all", knnSpec}, "or --all, not both"},
		{[]string{"runs", "--all", "--json", "--csv"}, "exclude each other"},
		{[]string{"runs", "--all", "--sort", "rsme"}, `no listed run has a metric "rsme" (did you mean "rmse"?)`},
		{[]string{"runs", "no_such_spec"}, "no_such_spec: no such spec file, and no runs of a spec of that name"},
	} {
		code, _, stderr := pipeCmd(t, append(c.args, "--runs-dir", runs)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("pipe %v: exit %d, %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	if code, out, _ := pipeCmd(t, "runs", "--all", "--runs-dir", filepath.Join(runs, "none")); code != 0 || !strings.Contains(out, "no runs under") {
		t.Errorf("an empty runs dir: exit %d, %q", code, out)
	}
}

// TestRunsRmAndGCCommands removes runs by name and duplicates by key,
// never anything outside --runs-dir.
func TestRunsRmAndGCCommands(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	k30a := knnRun(t, data, runs)
	k5 := knnRun(t, data, runs, "model.k=5")
	k30b := knnRun(t, data, runs) // the same key as k30a, newer

	code, out, stderr := pipeCmd(t, "runs", "gc", "--runs-dir", runs, "--dry-run")
	if want := "would remove " + k30a + "\nwould remove 1 run ("; code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "MB), kept 2\n") || countRuns(t, runs) != 3 {
		t.Errorf("gc --dry-run: exit %d, %q %s; want %q...", code, out, stderr, want)
	}
	code, out, _ = pipeCmd(t, "runs", "gc", "--runs-dir", runs)
	if code != 0 || !strings.HasPrefix(out, "removed "+k30a+"\nremoved 1 run (") {
		t.Errorf("gc: exit %d, %q", code, out)
	}
	left, want := must(rundir.Find(runs)), []string{k5, k30b}
	slices.Sort(left)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("after gc: %v, want %v", left, want)
	}
	if code, _, stderr := pipeCmd(t, "runs", "gc", "--runs-dir", runs, "--keep", "0"); code != exitUsage || !strings.Contains(stderr, "keep at least 1") {
		t.Errorf("--keep 0: exit %d, %s", code, stderr)
	}
	if code, _, stderr := pipeCmd(t, "runs", "gc", "--runs-dir", runs, k5); code != exitUsage || !strings.Contains(stderr, "takes no arguments") || countRuns(t, runs) != 2 {
		t.Errorf("gc with an argument: exit %d, %s", code, stderr)
	}

	// rm refuses a run outside --runs-dir, removing neither it nor the
	// run given with it.
	elsewhere := t.TempDir()
	outside := knnRun(t, data, elsewhere)
	code, _, stderr = pipeCmd(t, "runs", "rm", "--runs-dir", runs, k5, outside)
	if code != exitUsage || !strings.Contains(stderr, outside+": not under the runs directory "+runs) || countRuns(t, runs) != 2 || countRuns(t, elsewhere) != 1 {
		t.Errorf("rm outside: exit %d, %s", code, stderr)
	}
	code, _, stderr = pipeCmd(t, "runs", "rm", "--runs-dir", runs, filepath.Dir(k5))
	if code != exitUsage || !strings.Contains(stderr, "not a run directory") || countRuns(t, runs) != 2 {
		t.Errorf("rm of a spec's folder: exit %d, %s", code, stderr)
	}
	code, out, _ = pipeCmd(t, "runs", "rm", "--runs-dir", runs, k5)
	if code != 0 || out != "removed "+k5+"\n" || countRuns(t, runs) != 1 {
		t.Errorf("rm: exit %d, %q", code, out)
	}
	if code, _, _ := pipeCmd(t, "runs", "rm", "--runs-dir", runs); code != exitUsage {
		t.Errorf("rm without runs: exit %d", code)
	}
}

// TestDiffCommand compares two real runs: the field that differs with
// both values, each test metric and its change, from their metrics.json.
func TestDiffCommand(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	a := knnRun(t, data, runs)
	b := knnRun(t, data, runs, "model.k=5")
	code, out, stderr := pipeCmd(t, "diff", a, b)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ma, mb := testMetrics(t, a), testMetrics(t, b)
	for _, want := range []string{
		"a: " + a + " (", "b: " + b + " (",
		"\nfield    a   b\nmodel.k  30  5\n\n",
		fmt.Sprintf("metric  a       b       b-a\nmae     %.4f  %.4f  %+.4f\nrmse    %.4f  %.4f  %+.4f\n",
			ma["mae"], mb["mae"], mb["mae"]-ma["mae"], ma["rmse"], mb["rmse"], mb["rmse"]-ma["rmse"]),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := pipeCmd(t, "diff", a, a); code != 0 || !strings.Contains(out, "the specs are the same\n") || !strings.Contains(out, "+0.0000") {
		t.Errorf("a run against itself: exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{{"diff", a}, {"diff", a, filepath.Join(runs, "nowhere")}, {"diff", a, runs}} {
		code, _, stderr := pipeCmd(t, args...)
		if code != exitUsage || strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
			t.Errorf("pipe %v: exit %d, %s", args, code, stderr)
		}
	}
}
