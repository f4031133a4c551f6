// Package examples_test builds the example programs and runs them as a
// user would, checking what they print.
package examples_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// bin holds the example binaries, built once for all tests by TestMain:
// a `go run` per test would link the same programs again each time.
var bin string

// moduleRoot is where the examples run, as `go run ./examples/X` does
// from a checkout: the train example's default spec path is relative to it.
const moduleRoot = ".."

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pipe-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// -o with a folder: one executable per example (package main) under it.
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./examples/...")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the examples: %v\n%s", err, out)
		return 1
	}
	bin = dir
	return m.Run()
}

// run runs example name with args from the module root and returns its
// stdout; a failing exit fails t, showing stderr.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	stdout, stderr, err := runErr(name, args...)
	if err != nil {
		t.Fatalf("%s %q: %v\nstdout:\n%s\nstderr:\n%s", name, args, err, stdout, stderr)
	}
	return stdout
}

// runErr runs example name and returns its stdout, stderr and exit error.
func runErr(name string, args ...string) (string, string, error) {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = moduleRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// exitCode is the status of a program that ran and failed, or -1.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

var metricLine = regexp.MustCompile(`(?m)^test (\w+): (\S+)$`)

// metrics parses the "test NAME: VALUE" lines the examples print.
func metrics(t *testing.T, out string) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	for _, match := range metricLine.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseFloat(match[2], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", match[0], err)
		}
		m[match[1]] = v
	}
	return m
}
