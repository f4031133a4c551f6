package onnx

import (
	"github.com/pipe-ml/pipe/internal/testdata"

	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pipe-ml/pipe/onnx/onnxpb"
)

// ONNX Runtime (onnxruntime-node, in .ci/onnx-check) is the independent
// implementation the exports are checked with. Without node or the
// package a test is skipped; in CI (CI set), where .ci/run installs them,
// their absence is a failure.

// ortFeed is one input of a run of the model.
type ortFeed struct {
	Type string `json:"type"` // float32, int32 or int64
	Dims []int  `json:"dims"`
	Data []any  `json:"data"`
}

// ortOutput is one output of a run.
type ortOutput struct {
	Type string    `json:"type"`
	Dims []int     `json:"dims"`
	Data []float64 `json:"data"` // every float32 exactly
}

// ortRunner runs models with ONNX Runtime through .ci/onnx-check/check.mjs.
type ortRunner struct {
	node, script string
}

func newORT(t *testing.T) *ortRunner {
	t.Helper()
	node, script := testdata.NodeScript(t, "../.ci/onnx-check", "check.mjs", "onnxruntime-node", "cd .ci/onnx-check && npm ci --ignore-scripts")
	return &ortRunner{node: node, script: script}
}

// run writes m and runs it once per element of runs; it returns each
// run's outputs by name.
func (r *ortRunner) run(t *testing.T, m *onnxpb.ModelProto, runs []map[string]ortFeed) []map[string]ortOutput {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := Write(path, m); err != nil {
		t.Fatal(err)
	}
	type request struct {
		Feeds map[string]ortFeed `json:"feeds"`
	}
	req := struct {
		Runs []request `json:"runs"`
	}{}
	for _, f := range runs {
		req.Runs = append(req.Runs, request{Feeds: f})
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	reqPath := filepath.Join(dir, "request.json")
	if err := os.WriteFile(reqPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(r.node, r.script, path, reqPath)
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	if err != nil {
		t.Fatalf("onnx-check: %v\n%s", err, stderr)
	}
	var res struct {
		Runs []map[string]ortOutput `json:"runs"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("onnx-check output: %v", err)
	}
	if len(res.Runs) != len(runs) {
		t.Fatalf("onnx-check: %d results for %d runs", len(res.Runs), len(runs))
	}
	return res.Runs
}

// floatFeed and intFeed make feeds of pipe's float32 and int32 data.
func floatFeed(v []float32, dims ...int) ortFeed {
	d := make([]any, len(v))
	for i, x := range v {
		d[i] = x
	}
	return ortFeed{Type: "float32", Dims: dims, Data: d}
}

func intFeed(v []int32, dims ...int) ortFeed {
	d := make([]any, len(v))
	for i, x := range v {
		d[i] = x
	}
	return ortFeed{Type: "int32", Dims: dims, Data: d}
}

// maxDiff is the largest absolute difference of got and want.
func maxDiff(t *testing.T, got []float64, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("ONNX Runtime gave %d values, pipe %d", len(got), len(want))
	}
	var m float64
	for i := range got {
		d := math.Abs(got[i] - float64(want[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}
