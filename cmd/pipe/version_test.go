package main

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: `pipe version` and `pipe --version` print one line with
// pipe's version, the Go release and whether GOEXPERIMENT=simd is on.
func TestVersion(t *testing.T) {
	simd := "GOEXPERIMENT simd off"
	if strings.Contains(os.Getenv("GOEXPERIMENT"), "simd") {
		simd = "GOEXPERIMENT simd on"
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, stderr := pipeCmd(t, args...)
		if code != 0 || stderr != "" {
			t.Errorf("pipe %s: exit %d, stderr %q", args[0], code, stderr)
		}
		if !strings.HasPrefix(out, "pipe ") || strings.Count(out, "\n") != 1 || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, simd) || !strings.Contains(out, "backends: go") {
			t.Errorf("pipe %s: %q; want one line with %s and %q", args[0], out, runtime.Version(), simd)
		}
	}
}
