// Package testruns trains the small runs that tests of finished runs
// (predict, serve) start from, through the library as a user would.
package testruns

import (
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
)

// Train runs the spec at specPath, with --set style overrides, on the real
// dataset folder named dataset (see testdata.Dir), without the data cache,
// into runsDir, and returns the run directory.
func Train(t testing.TB, runsDir, dataset, specPath string, sets ...string) string {
	t.Helper()
	dataDir := testdata.Dir(t, dataset)
	p, err := pipeline.Load(specPath, sets...)
	if err != nil {
		t.Fatalf("%s: %v", specPath, err)
	}
	res, err := pipeline.Run(p, pipeline.Options{DataDir: dataDir, RunsDir: runsDir})
	if err != nil {
		t.Fatalf("training %s: %v", specPath, err)
	}
	return res.Dir
}
