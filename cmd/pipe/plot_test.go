package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/rundir"
)

// TestPlotCommand: pipe plot draws two runs' val_loss on one PNG, valid
// and where -o says; a run without the series, a folder that is no run
// and no run at all are bad command lines (exit 2) that write nothing; a
// file that cannot be written is a runtime failure.
func TestPlotCommand(t *testing.T) {
	runs := t.TempDir()
	var dirs []string
	for i, lr := range []string{"0.1", "0.01"} {
		h := &data.History{Names: []string{"loss", "val_loss"}, Values: [][]float64{{2, 1, 0.5}, {2.1, 1.2 + float64(i), 0.7}}}
		dir, err := rundir.Write(runs, "cnn", rundir.Contents{Spec: []byte("name: cnn\ntrain:\n  optimizer: {name: adam, learning_rate: " + lr + "}\n"),
			Metrics: map[string]any{"spec": "cnn"}, History: h}, "")
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(t.TempDir(), "curves.png")
	code, stdout, stderr := pipeCmd(t, append([]string{"plot", "--metric", "val_loss", "-o", out}, dirs...)...)
	if code != 0 || stdout != out+": val_loss of 2 runs\n" {
		t.Fatalf("plot: exit %d, %q %s", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 768 {
		t.Errorf("curves.png: %v, %v", err, img.Bounds())
	}

	none := filepath.Join(t.TempDir(), "none.png")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"default metric", dirs, exitUsage, dirs[0] + ": history.json has no val_accuracy series; it has loss, val_loss"},
		{"misspelled", append([]string{"--metric", "val_los"}, dirs...), exitUsage, `no val_los series (did you mean "val_loss"?); it has loss, val_loss`},
		{"no run", []string{"--metric", "loss", dirs[0], runs}, exitUsage, "is not a run directory"},
		{"no args", nil, exitUsage, "requires at least 1 arg"},
		{"unwritable", []string{"--metric", "loss", "-o", filepath.Join(none, "sub", "x.png"), dirs[0]}, exitRuntime, "no such file or directory"},
	} {
		args := append([]string{"plot", "-o", none}, c.args...)
		code, stdout, stderr := pipeCmd(t, args...)
		if code != c.code || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, %q %q; want exit %d and %q", c.name, code, stdout, stderr, c.code, c.want)
		}
		if _, err := os.Stat(none); err == nil {
			t.Errorf("%s: wrote %s", c.name, none)
		}
	}
}
