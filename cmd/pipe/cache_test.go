package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestCacheListDescribes: two MNIST entries made by runs with different
// transforms are told apart by their params in `pipe cache list`, one line
// each; the listing says the limits apply after the cache (runs of 64
// examples still cache all 60,000); and two entries built from different
// source files are told apart by their files.
func TestCacheListDescribes(t *testing.T) {
	data, cache := testdata.Dir(t, "mnist"), t.TempDir()
	for _, divide := range []string{"255", "127.5"} {
		code, _, stderr := pipeCmd(t, "run", "--quiet", "--data-dir", data, "--cache-dir", cache, "--runs-dir", t.TempDir(), "testdata/good.yaml",
			"--set", "data.train_limit=64", "--set", "data.test_limit=32", "--set", "train.epochs=1", "--set", "data.transforms[0].scale.divide="+divide)
		if code != 0 {
			t.Fatal(stderr)
		}
	}
	code, out, stderr := pipeCmd(t, "cache", "list", "--cache-dir", cache)
	if code != 0 {
		t.Fatal(stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || lines[0] != cache+": 2 entries" || !strings.Contains(lines[1], "train_limit or test_limit share it (the limits are applied after the cache)") {
		t.Fatalf("want a header, a note on limits and two entries:\n%s", out)
	}
	for i, want := range []string{"scale: {divide: 255,", "scale: {divide: 127.5,"} {
		found := false
		for _, l := range lines[2:] {
			found = found || strings.Contains(l, "  mnist") && strings.Contains(l, " | "+want) && strings.Contains(l, "one_hot: {classes: 10")
		}
		if !found {
			t.Errorf("entry %d: no line with the mnist loader and %q:\n%s", i, want, out)
		}
	}
	for _, l := range lines[2:] {
		if fields := strings.Fields(l); len(fields) < 3 || fields[2] != "MB" || !strings.HasPrefix(fields[1], "2") { // about 220 MB: all of MNIST
			t.Errorf("want the whole dataset's size (about 220 MB), got %q", l)
		}
	}

	// The same loader and transforms from other source files (the data
	// changed between runs): a copy of an entry whose key names other files.
	entries, _ := os.ReadDir(cache)
	var first string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			first = e.Name()
			break
		}
	}
	var meta map[string]any
	b, _ := os.ReadFile(filepath.Join(cache, first, "meta.json"))
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	sources := meta["key"].(map[string]any)["sources"].([]any)
	sources[0].(map[string]any)["sha256"] = strings.Repeat("0", 64)
	os.MkdirAll(filepath.Join(cache, "0copy"), 0o755)
	b, _ = json.Marshal(meta)
	os.WriteFile(filepath.Join(cache, "0copy", "meta.json"), b, 0o644)
	_, out, _ = pipeCmd(t, "cache", "list", "--cache-dir", cache)
	if n := strings.Count(out, "(source files "); n != 2 {
		t.Errorf("two entries that differ only in their source files: %d lines name their files, want 2:\n%s", n, out)
	}
}
