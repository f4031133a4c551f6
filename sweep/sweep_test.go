package sweep

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/pipeline"
)

func TestSweepParseGrid(t *testing.T) {
	g, err := ParseGrid("train.optimizer.learning_rate=[0.01, 0.1,1]")
	if err != nil {
		t.Fatal(err)
	}
	if g.Path != "train.optimizer.learning_rate" || !reflect.DeepEqual(g.Values, []string{"0.01", "0.1", "1"}) {
		t.Errorf("got %+v", g)
	}
	for _, bad := range []string{"x", "=[1]", "a=1,2", "a=[]", "a=[1,2"} {
		if _, err := ParseGrid(bad); err == nil {
			t.Errorf("ParseGrid(%q): no error", bad)
		}
	}
}

func TestSweepTrialsGridProduct(t *testing.T) {
	ts := Trials([]Grid{{"a", []string{"1", "2"}}, {"b", []string{"x", "y", "z"}}}, nil, 0, 1)
	var got []string
	for _, tr := range ts {
		got = append(got, strings.Join(tr.Sets(), " "))
	}
	want := []string{"a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSweepRandomTrialsSeededAndInRange(t *testing.T) {
	lr, err := ParseRandom("lr=loguniform(0.001, 0.1)")
	if err != nil {
		t.Fatal(err)
	}
	act, err := ParseRandom("act=choice(relu,tanh)")
	if err != nil {
		t.Fatal(err)
	}
	a := Trials(nil, []Random{lr, act}, 20, 7)
	b := Trials(nil, []Random{lr, act}, 20, 7)
	c := Trials(nil, []Random{lr, act}, 20, 8)
	if len(a) != 20 || !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different trials:\n%v\n%v", a, b)
	}
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 7 and 8 drew the same trials")
	}
	acts := map[string]bool{}
	for _, tr := range a {
		v, err := strconv.ParseFloat(tr.Params[0].Value, 64)
		if err != nil || v < 0.001 || v > 0.1 {
			t.Errorf("lr %q outside [0.001, 0.1]", tr.Params[0].Value)
		}
		acts[tr.Params[1].Value] = true
	}
	if !acts["relu"] || !acts["tanh"] {
		t.Errorf("20 draws of choice(relu,tanh) gave only %v", acts)
	}
	for _, bad := range []string{"lr=uniform(1)", "lr=uniform(2,1)", "lr=loguniform(0,1)", "lr=normal(0,1)", "lr=choice()", "lr=uniform(a,b)"} {
		if _, err := ParseRandom(bad); err == nil {
			t.Errorf("ParseRandom(%q): no error", bad)
		}
	}
}

func TestSweepParseMetricRefusesTest(t *testing.T) {
	for s, want := range map[string]Metric{
		"val_loss":      {"val_loss", false},
		"val_accuracy":  {"val_accuracy", true},
		"-val_loss":     {"val_loss", false},
		"+val_loss":     {"val_loss", true},
		"-val_accuracy": {"val_accuracy", false},
		"train:loss":    {"loss", false},
		"+train:rmse":   {"rmse", true},
		"val_rmse":      {"val_rmse", false},
	} {
		got, err := ParseMetric(s)
		if err != nil || got != want {
			t.Errorf("ParseMetric(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"rmse", "accuracy", "test_rmse", "val_", "train:", "-loss", "--val_loss"} {
		if _, err := ParseMetric(bad); err == nil || !strings.Contains(err.Error(), "never by a test metric") && !strings.Contains(err.Error(), "one sign") {
			t.Errorf("ParseMetric(%q): %v, want a refusal", bad, err)
		}
	}
}

func TestSweepRankedBestFirstFailuresLast(t *testing.T) {
	h := func(v ...float64) map[string][]float64 { return map[string][]float64{"val_rmse": v} }
	outs := []Outcome{
		{History: h(1.2, 1.0)},
		{Err: errTest},
		{History: h(0.8, 0.95)}, // its last epoch counts, not its best
		{History: map[string][]float64{"rmse": {0.1}}},
		{History: h(0.9)},
	}
	order, err := Ranked(outs, Metric{Series: "val_rmse"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{4, 2, 0, 1, 3}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if _, err := Ranked(outs, Metric{Series: "val_loss"}); err == nil || !strings.Contains(err.Error(), "rmse, val_rmse") {
		t.Errorf("a series no trial has: %v, want an error listing the series", err)
	}
}

func TestSweepMeanStdIsSampleStd(t *testing.T) {
	// The textbook example: population std 2, sample std sqrt(32/7).
	mean, std := MeanStd([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if mean != 5 || math.Abs(std-math.Sqrt(32.0/7)) > 1e-12 {
		t.Errorf("mean %v std %v, want 5 and sqrt(32/7) (n-1)", mean, std)
	}
	if _, std := MeanStd([]float64{3}); std != 0 {
		t.Errorf("one value: std %v, want 0", std)
	}
}

var errTest = errorString("failed")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestSweepJobsShareCores checks that --jobs J gives each child process
// GOMAXPROCS = cores/J, that a trial whose child fails (here: one that
// writes no run) is reported in its outcome without stopping the others.
func TestSweepJobsShareCores(t *testing.T) {
	data := os.Getenv("PIPE_DATA")
	if data == "" {
		t.Fatal("PIPE_DATA is not set: this test needs the movielense data")
	}
	if !filepath.IsAbs(data) {
		data = filepath.Join("..", data)
	}
	dir := t.TempDir()
	opt := Options{
		Spec: "../specs/cf/movielense_knn.yaml", Sets: []string{"data.sample_users=50"}, Jobs: 2,
		Pipeline: pipeline.Options{DataDir: data, RunsDir: filepath.Join(dir, "runs")},
		Command: func(ctx context.Context, sets []string) *exec.Cmd {
			k := strings.TrimPrefix(sets[len(sets)-1], "model.k=")
			return exec.CommandContext(ctx, "sh", "-c", `echo "$GOMAXPROCS" > "$0"; exit 3`, filepath.Join(dir, k))
		},
	}
	outs, err := Run(context.Background(), Trials([]Grid{{"model.k", []string{"5", "7", "9"}}}, nil, 0, 1), opt)
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(max(1, runtime.NumCPU()/2))
	for i, k := range []string{"5", "7", "9"} {
		b, err := os.ReadFile(filepath.Join(dir, k))
		if err != nil {
			t.Fatalf("trial k=%s never ran: %v", k, err)
		}
		if got := strings.TrimSpace(string(b)); got != want {
			t.Errorf("trial k=%s ran with GOMAXPROCS=%s, want %s (cores/jobs)", k, got, want)
		}
		if outs[i].Err == nil || !strings.Contains(outs[i].Err.Error(), "exit status 3") {
			t.Errorf("trial k=%s: error %v, want its child's exit status", k, outs[i].Err)
		}
	}
}

// TestSweepInProcessReuses runs trials in this process (no Command, as a
// Go program using the package would) and checks that a second Run
// reuses every run it made and reads back the same numbers.
func TestSweepInProcessReuses(t *testing.T) {
	data := os.Getenv("PIPE_DATA")
	if data == "" {
		t.Fatal("PIPE_DATA is not set: this test needs the movielense data")
	}
	if !filepath.IsAbs(data) {
		data = filepath.Join("..", data)
	}
	opt := Options{
		Spec: "../specs/cf/movielense_knn.yaml", Sets: []string{"data.sample_users=50"},
		Pipeline: pipeline.Options{DataDir: data, RunsDir: filepath.Join(t.TempDir(), "runs")},
	}
	trials := Trials([]Grid{{"model.k", []string{"5", "20"}}}, nil, 0, 1)
	first, err := Run(context.Background(), trials, opt)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(context.Background(), trials, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range trials {
		a, b := first[i], second[i]
		if a.Err != nil || a.Reused || a.Dir == "" || a.Test["rmse"] == 0 {
			t.Fatalf("first run of trial %d: %+v", i, a)
		}
		if !b.Reused || b.Dir != a.Dir || !reflect.DeepEqual(a.Test, b.Test) {
			t.Errorf("second run of trial %d: %+v, want the first's run %s reused", i, b, a.Dir)
		}
	}
	if first[0].Test["rmse"] == first[1].Test["rmse"] {
		t.Errorf("k=5 and k=20 gave the same rmse: the overrides did not reach the runs")
	}
}
