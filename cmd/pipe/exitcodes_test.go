package main

import (
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// readmeExitCodes parses the README's "## Exit codes" table: code -> meaning.
func readmeExitCodes(t *testing.T) map[int]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Exit codes\n")
	if !ok {
		t.Fatal(`README.md has no "## Exit codes" section`)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	row := regexp.MustCompile(`(?m)^\| (\d+) \| (.+) \|$`)
	codes := map[int]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		code, _ := strconv.Atoi(m[1])
		codes[code] = m[2]
	}
	if len(codes) == 0 {
		t.Fatal("no rows in the README's exit-code table")
	}
	return codes
}

// pipeProcess runs this test binary as pipe (see TestMain) in a process
// of its own and returns its exit code and stderr: what a shell sees.
func pipeProcess(t *testing.T, args ...string) (code int, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PIPE_TEST_AS_CLI=1")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("pipe %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), errOut.String()
}

// TestExitCodeTable provokes every exit code of the README's table with a
// real command in a process of its own, so the table and the binary
// cannot drift apart: a code in the table that nothing provokes, a code
// the CLI has that the table lacks, or a command that exits otherwise
// fails the test.
func TestExitCodeTable(t *testing.T) {
	table := readmeExitCodes(t)
	consts := []int{exitOK, exitRuntime, exitUsage, exitSpec, exitData, exitGolden, exitStopped}
	if readme := slices.Sorted(maps.Keys(table)); !slices.Equal(readme, consts) {
		t.Errorf("the README's exit codes %v are not the CLI's %v", readme, consts)
	}
	data := testdata.Dir(t, "mnist")
	tmp := t.TempDir()
	small := []string{"--no-cache", "--data-dir", data, "--set", "data.train_limit=64", "--set", "data.test_limit=32", "--set", "train.epochs=1"}

	// A runs "directory" that is a file: the run trains, then cannot be written.
	notDir := filepath.Join(tmp, "runs-file")
	os.WriteFile(notDir, nil, 0o644)
	// A spec with a short golden run, and a golden file it does not match.
	spec, _ := os.ReadFile("testdata/good.yaml")
	goldenSpec := filepath.Join(tmp, "good.yaml")
	os.WriteFile(goldenSpec, append(spec, "golden: {train: 64, test: 32, epochs: 1}\n"...), 0o644)
	goldenDir := filepath.Join(tmp, "golden")
	os.Mkdir(goldenDir, 0o755)
	os.WriteFile(filepath.Join(goldenDir, "bad.golden.yaml"), []byte("spec: bad\nparams: 1\n"), 0o644)

	cases := map[int]struct {
		args []string
		want string // in stderr
	}{
		exitOK:      {[]string{"validate", "testdata/good.yaml"}, ""},
		exitRuntime: {append([]string{"run", "--runs-dir", notDir, "testdata/good.yaml"}, small...), "not a directory"},
		exitUsage:   {[]string{"runn", "testdata/good.yaml"}, `unknown command "runn" for "pipe" (did you mean "run" or "runs"?)`},
		exitSpec:    {[]string{"validate", "testdata/bad/unknown_layer.yaml"}, `unknown layer "conv3d"`},
		exitData:    {[]string{"run", "--no-cache", "--data-dir", tmp, "--runs-dir", tmp, "testdata/good.yaml"}, filepath.Join(tmp, "mnist") + ": mnist data directory not found"},
		exitGolden:  {[]string{"test", "--no-cache", "--data-dir", data, "--golden-dir", goldenDir, goldenSpec}, "1 spec(s) moved from their golden files"},
	}
	for code := range table {
		if code == exitStopped {
			continue // below: it needs a signal
		}
		c, ok := cases[code]
		if !ok {
			t.Errorf("the README's exit code %d (%s) has no command here that provokes it", code, table[code])
			continue
		}
		got, stderr := pipeProcess(t, c.args...)
		if got != code || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine ") {
			t.Errorf("exit %d (%s): pipe %s exited %d, stderr %q; want %q", code, table[code], strings.Join(c.args, " "), got, stderr, c.want)
		}
	}

	if _, ok := table[exitStopped]; ok {
		cmd, stderr := startPipe(t, "epoch 1/", "run", "--no-cache", "--data-dir", data, "--runs-dir", tmp, "testdata/good.yaml",
			"--set", "data.train_limit=2000", "--set", "data.test_limit=32", "--set", "train.epochs=50")
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if got := cmd.ProcessState.ExitCode(); got != exitStopped || !strings.Contains(stderr.String(), "pipe run --resume ") {
			t.Errorf("exit %d (%s): an interrupted run exited %d, stderr %q", exitStopped, table[exitStopped], got, stderr.String())
		}
	}
}
