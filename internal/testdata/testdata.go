// Package testdata finds the real datasets for tests: $PIPE_DATA, which
// .ci/run sets to ../shared/data. A test that needs data and cannot find it
// fails with a message saying so; it never skips silently.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the data directory, failing t when it is not configured or
// lacks the dataset folder named by dataset.
func Dir(t testing.TB, dataset string) string {
	t.Helper()
	dir := os.Getenv("PIPE_DATA")
	if dir == "" {
		t.Fatalf("PIPE_DATA is not set: point it at the datasets (e.g. PIPE_DATA=../shared/data) to run this test")
	}
	if st, err := os.Stat(filepath.Join(dir, dataset)); err != nil || !st.IsDir() {
		t.Fatalf("PIPE_DATA=%s has no %s/ folder: this test needs the real %s data", dir, dataset, dataset)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
