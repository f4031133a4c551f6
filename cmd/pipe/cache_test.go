package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestCacheListDescribes: two MNIST runs that differ in a batch step
// (scale's divide) share one entry, which holds MNIST's bytes and names
// no transform; a run whose transforms end in noise, no batch step, has an
// entry of its own named by its transforms, one line each; the listing
// says the limits apply after the cache (runs of 64 examples still cache
// all 70,000 images); and two entries built from different source files
// are told apart by their files.
func TestCacheListDescribes(t *testing.T) {
	data, cache := testdata.Dir(t, "mnist"), t.TempDir()
	run := func(spec string, sets ...string) {
		args := append([]string{"run", "--quiet", "--data-dir", data, "--cache-dir", cache, "--runs-dir", t.TempDir(), spec,
			"--set", "data.train_limit=64", "--set", "data.test_limit=32", "--set", "train.epochs=1"}, sets...)
		if code, _, stderr := pipeCmd(t, args...); code != 0 {
			t.Fatal(stderr)
		}
	}
	for _, divide := range []string{"255", "127.5"} {
		run("testdata/good.yaml", "--set", "data.transforms[0].scale.divide="+divide)
	}
	run("../../specs/mnist_denoising_autoencoder.yaml")
	code, out, stderr := pipeCmd(t, "cache", "list", "--cache-dir", cache)
	if code != 0 {
		t.Fatal(stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || lines[0] != cache+": 2 entries" || !strings.Contains(lines[1], "train_limit or test_limit share it (the limits are applied after the cache)") {
		t.Fatalf("want a header, a note on limits and two entries:\n%s", out)
	}
	var bytes, noisy bool
	for _, l := range lines[2:] {
		fields := strings.Fields(l)
		if len(fields) < 3 || fields[2] != "MB" {
			t.Fatalf("no size in %q", l)
		}
		switch {
		case strings.HasSuffix(l, "  mnist"): // about 55 MB: MNIST's bytes
			bytes = strings.HasPrefix(fields[1], "5")
		case strings.Contains(l, "  mnist | scale: {divide: 255,"): // floats, noisy inputs and clean targets
			noisy = true
		}
	}
	if !bytes || !noisy {
		t.Errorf("want one entry of MNIST's bytes (about 55 MB) naming no transform, and one after the autoencoder's transforms:\n%s", out)
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
