package pipeline_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
)

// TestRatingRunRecordsParams: a rating model's run directory records the
// parameters it learned, in metrics.json and summary.txt: matrix
// factorisation with 5 factors on MovieLense's 943 users and 1,664 items
// has (943 + 1664) x 5 + 943 + 1664 = 15,642.
func TestRatingRunRecordsParams(t *testing.T) {
	dir := testdata.Dir(t, "movielense")
	p, err := pipeline.Load("../specs/cf/movielense_mf.yaml", "model.factors=5", "model.epochs=1", "data.train_limit=2000", "data.test_limit=200")
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Run(p, pipeline.Options{DataDir: dir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Params int }
	if err := json.Unmarshal(b, &m); err != nil || m.Params != 15642 {
		t.Errorf("metrics.json params %d (%v), want 15642", m.Params, err)
	}
	if s, _ := os.ReadFile(filepath.Join(res.Dir, "summary.txt")); !strings.Contains(string(s), "Total params: 15,642\n") {
		t.Errorf("summary.txt:\n%s", s)
	}
}
