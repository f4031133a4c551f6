package main

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestUnknownCommand: a misspelt command is a bad command line (exit 2)
// whose one-line message names the closest command.
func TestUnknownCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"runn", "specs/mnist_cnn.yaml"}, `pipe: unknown command "runn" for "pipe" (did you mean "run" or "runs"?); ` + "`pipe --help` lists the commands\n"},
		{[]string{"vaildate"}, `(did you mean "validate"?)`},
		{[]string{"frobnicate"}, `pipe: unknown command "frobnicate" for "pipe"; ` + "`pipe --help`"},
		{[]string{"cache", "lsit"}, `pipe: unknown command "lsit" for "pipe cache" (did you mean "list"?)`},
	} {
		code, out, stderr := pipeCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || out != "" {
			t.Errorf("pipe %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, out, stderr, exitUsage, c.want)
		}
		if strings.Count(stderr, "\n") != 1 {
			t.Errorf("pipe %s: want a one-line message, got %q", strings.Join(c.args, " "), stderr)
		}
	}
	// A group without a subcommand still shows its help.
	if code, out, _ := pipeCmd(t, "cache"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("pipe cache: exit %d, %q", code, out)
	}
}

// TestArgumentCounts: a missing or extra argument is a bad command line
// (exit 2) that shows the command's usage line.
func TestArgumentCounts(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", "runs/x"}, "pipe: predict: requires at least 2 arg(s), only received 1; usage: pipe predict RUN_DIR INPUT... [flags]"},
		{[]string{"evaluate"}, "pipe: evaluate: accepts 1 arg(s), received 0; usage: pipe evaluate RUN_DIR [flags]"},
		{[]string{"schema", "x"}, `pipe: schema: takes no arguments, got "x"; usage: pipe schema [flags]`},
		{[]string{"cache", "list", "x"}, `pipe: cache list: takes no arguments, got "x"`},
		{[]string{"version", "x"}, `pipe: version: takes no arguments, got "x"`},
		{[]string{"validate"}, "validate needs at least one spec file"},
	} {
		code, _, stderr := pipeCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("pipe %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, stderr, exitUsage, c.want)
		}
	}
}

// TestBackendNames: an unknown backend name is a bad command line (2); a
// known one that cannot start is a failure at run time (1).
func TestBackendNames(t *testing.T) {
	code, _, stderr := pipeCmd(t, "run", "--backend", "gpu", "testdata/good.yaml")
	if code != exitUsage || !strings.Contains(stderr, `pipe: --backend: unknown backend "gpu" (available: go`) {
		t.Errorf("--backend gpu: exit %d, %s", code, stderr)
	}
	code, _, stderr = pipeCmd(t, "summary", "--backend", "tpu:fast", "testdata/good.yaml")
	if code != exitUsage || !strings.Contains(stderr, `unknown backend "tpu"`) {
		t.Errorf("--backend tpu:fast: exit %d, %s", code, stderr)
	}
	// Options are GoMLX's to judge, at run time.
	code, _, stderr = pipeCmd(t, "run", "--backend", "go:devices=x", "testdata/good.yaml")
	if code != exitRuntime || !strings.Contains(stderr, "devices=x") {
		t.Errorf("--backend go:devices=x: exit %d, %s", code, stderr)
	}
}

// TestSetWithoutEquals: `--set train.epochs 3` would make 3 a spec file;
// it is a bad command line that names what was given and what to write.
func TestSetWithoutEquals(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--set", "train.epochs", "3", "testdata/good.yaml"}, `pipe: --set wants PATH=VALUE, got "train.epochs" (write --set train.epochs=3)`},
		{[]string{"run", "--set=train.epochs", "3", "testdata/good.yaml"}, `got "train.epochs" (write --set train.epochs=3)`},
		{[]string{"summary", "--set", "train.epochs=2", "--set", "seed", "testdata/good.yaml"}, `got "seed" (write --set seed=testdata/good.yaml)`},
		{[]string{"validate", "testdata/good.yaml", "--set", "seed"}, `got "seed" (write --set seed=VALUE)`},
		{[]string{"validate", "testdata/good.yaml", "--set", ""}, `got "" (write --set PATH=VALUE, e.g. --set train.epochs=3)`},
	} {
		code, _, stderr := pipeCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "no such spec file") {
			t.Errorf("pipe %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, stderr, exitUsage, c.want)
		}
	}
	// A value may hold "=" and may be empty YAML.
	if code, _, stderr := pipeCmd(t, "validate", "--set", "train.epochs=3", "testdata/good.yaml"); code != 0 {
		t.Errorf("--set train.epochs=3: exit %d, %s", code, stderr)
	}
}

// TestHeldOutLogged: with validation: 0.1 the run's first line says how
// many training examples were held out, so the counts add up.
func TestHeldOutLogged(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	code, out, stderr := pipeCmd(t, "run", "--no-cache", "--data-dir", data, "--runs-dir", t.TempDir(), "testdata/good.yaml",
		"--set", "data.train_limit=512", "--set", "data.test_limit=200", "--set", "train.epochs=1", "--set", "train.validation=0.1")
	if code != 0 {
		t.Fatal(stderr)
	}
	first, _, _ := strings.Cut(out, "\n")
	if want := "bad: 461 training (51 held out for validation) and 200 test examples, "; !strings.HasPrefix(first, want) {
		t.Errorf("first line %q, want it to start %q", first, want)
	}
}
