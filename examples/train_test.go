package examples_test

import (
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
)

var runLine = regexp.MustCompile(`(?m)^run: (.+)$`)

// trained is one run of examples/train with its defaults (2,048 training
// and 512 test digits, one epoch), shared by the tests that need a run.
var trained struct {
	once       sync.Once
	out, dir   string
	runsDir    string
	failReason string
}

func trainedRun(t *testing.T) (out, runDir, runsDir string) {
	t.Helper()
	data := testdata.Dir(t, "mnist")
	trained.once.Do(func() {
		// Not t.TempDir: the run outlives the test that made it. TestMain's
		// folder is removed at the end.
		trained.runsDir = filepath.Join(bin, "runs")
		stdout, stderr, err := runErr("train", "-data", data, "-runs", trained.runsDir)
		if err != nil {
			trained.failReason = err.Error() + "\n" + stdout + stderr
			return
		}
		trained.out = stdout
		if m := runLine.FindStringSubmatch(stdout); m != nil {
			trained.dir = m[1]
		}
	})
	if trained.failReason != "" {
		t.Fatalf("examples/train failed: %s", trained.failReason)
	}
	if trained.dir == "" {
		t.Fatalf("examples/train printed no run: line:\n%s", trained.out)
	}
	return trained.out, trained.dir, trained.runsDir
}

func TestTrainExample(t *testing.T) {
	out, dir, runsDir := trainedRun(t)
	if !strings.HasPrefix(dir, runsDir+string(filepath.Separator)) {
		t.Errorf("run %s is not under -runs %s", dir, runsDir)
	}
	got := metrics(t, out)
	// Ten classes: chance is 0.1, and a uniform guess has loss ln 10.
	// One epoch on 2,048 digits gets clearly past both (0.51 and 1.94 when
	// this was written).
	if acc, ok := got["accuracy"]; !ok || acc < 0.3 || acc > 1 {
		t.Errorf("test accuracy %v (printed: %v); want in [0.3, 1] after one epoch", acc, ok)
	}
	if loss, ok := got["loss"]; !ok || !(loss > 0 && loss < math.Log(10)) {
		t.Errorf("test loss %v (printed: %v); want in (0, ln 10)", loss, ok)
	}
	// What it printed is what the run directory records.
	saved, err := (&rundir.Run{Dir: dir}).TestMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range saved {
		if math.Abs(got[name]-v) > 5e-5 { // printed with 4 decimals
			t.Errorf("printed test %s %v; metrics.json has %v", name, got[name], v)
		}
	}
	if len(saved) != len(got) {
		t.Errorf("printed metrics %v; metrics.json has %v", got, saved)
	}
	// The flags reached the spec: the run's resolved spec.yaml has them.
	_, plan, err := pipeline.OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if plan.TrainLimit != 2048 || plan.TestLimit != 512 || plan.Train.Epochs != 1 {
		t.Errorf("the run's spec has train_limit %d, test_limit %d, epochs %d; want the flags' defaults 2048, 512, 1",
			plan.TrainLimit, plan.TestLimit, plan.Train.Epochs)
	}
}

// A bad -set value fails before any data is read, with the spec error.
func TestTrainExampleBadOverride(t *testing.T) {
	stdout, stderr, err := runErr("train", "-runs", t.TempDir(), "-set", "train.optimizer.name=adamw")
	if exitCode(err) != 1 {
		t.Fatalf("exit %v, want 1\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	// The decoder names the field and suggests the closest optimizer.
	if !strings.Contains(stderr, "train.optimizer") || !strings.Contains(stderr, `"adam"`) {
		t.Errorf("stderr does not name the field and suggest adam:\n%s", stderr)
	}
}
