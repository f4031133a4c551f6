package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotARunDirectory: evaluate, predict and run --resume given a spec,
// a folder of runs or a path that does not exist say what a run directory
// is, list the runs that could be meant, newest first, and exit 2.
func TestNotARunDirectory(t *testing.T) {
	runs := t.TempDir()
	spec := filepath.Join(runs, "mnist_cnn.yaml")
	os.WriteFile(spec, []byte("name: mnist_cnn\n"), 0o644)
	var made []string
	for _, ts := range []string{"20260102-090000", "20260301-120000", "20260215-080000"} {
		dir := filepath.Join(runs, "mnist_cnn", ts)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte("name: mnist_cnn\n"), 0o644)
		made = append(made, dir)
	}
	os.MkdirAll(filepath.Join(runs, "mnist_cnn", ".partial-123"), 0o755) // an unfinished write: never listed
	newestFirst := "\n  " + made[1] + "\n  " + made[2] + "\n  " + made[0] + "\n"
	const what = "(a run directory is what pipe run writes: runs/<spec name>/<timestamp>)"
	cases := []struct {
		path string
		want []string
	}{
		{spec, []string{spec + " is a file, not a run directory " + what, "to train the spec and write one: pipe run " + spec}},
		{runs, []string{runs + " is not a run directory: it has no spec.yaml " + what, "; runs under it, newest first:" + newestFirst}},
		{filepath.Join(runs, "mnist_cnn"), []string{"runs under it, newest first:" + newestFirst}},
		{filepath.Join(runs, "mnist_cnn", "20260301-1200"), []string{"20260301-1200: no such run directory " + what,
			"; runs under " + filepath.Join(runs, "mnist_cnn") + ", newest first:" + newestFirst}},
		{filepath.Join(t.TempDir(), "nowhere"), []string{"nowhere: no such run directory " + what + "\n"}},
	}
	png := writeFile(t, "digit.png", "not read: the run is checked first")
	for _, c := range cases {
		for _, args := range [][]string{{"evaluate", c.path}, {"predict", c.path, png}, {"run", "--resume", c.path}} {
			code, _, stderr := pipeCmd(t, args...)
			if code != exitUsage {
				t.Errorf("pipe %s: exit %d, want %d; %s", strings.Join(args, " "), code, exitUsage, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("pipe %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, stderr)
				}
			}
		}
	}
}
