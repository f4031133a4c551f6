// Package testdata finds the real datasets for tests: $PIPE_DATA, which
// .ci/run sets to ../shared/data. A test that needs data and cannot find it
// fails with a message saying so; it never skips silently.
package testdata

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
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
	if !filepath.IsAbs(dir) {
		// go test runs each package in its own folder; a relative
		// PIPE_DATA is meant from the module root, as the README says.
		dir = filepath.Join(moduleRoot(t), dir)
	}
	if st, err := os.Stat(filepath.Join(dir, dataset)); err != nil || !st.IsDir() {
		t.Fatalf("PIPE_DATA=%s has no %s/ folder: this test needs the real %s data", dir, dataset, dataset)
	}
	return dir
}

// moduleRoot is the nearest folder above the working directory with a go.mod.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = up
	}
}

// NodeScript returns node and the absolute path of a check script under
// .ci (dir, relative to the test's package, e.g. "../.ci/arrow-check"),
// whose npm package pkg must be installed. Without them the test is
// skipped, except in CI (CI set), where .ci/run installs them and their
// absence is a failure.
func NodeScript(t testing.TB, dir, script, pkg, install string) (node, path string) {
	t.Helper()
	missing := t.Skipf
	if os.Getenv("CI") != "" {
		missing = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not installed")
	}
	path, _ = filepath.Abs(filepath.Join(dir, script))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
		missing("%s not installed: %s", pkg, install)
	}
	return node, path
}

// MappedRSS is the resident size, in bytes, of this process's mappings of
// files whose path ends with suffix (from /proc/self/smaps, Linux): what a
// memory-mapped reader keeps in memory of them. Elsewhere it fails t.
func MappedRSS(t testing.TB, suffix string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatalf("MappedRSS needs /proc/self/smaps (Linux): %v", err)
	}
	var total int64
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") { // a mapping's header: range perms offset dev inode [path]
			in = len(fields) >= 6 && strings.HasSuffix(fields[len(fields)-1], suffix)
			continue
		}
		if in && fields[0] == "Rss:" && len(fields) >= 2 {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q", line)
			}
			total += kb << 10
		}
	}
	return total
}

// LiveHeap collects garbage and returns the bytes of the heap's objects
// left, the live ones: a bound on it neither hides memory that is held
// nor trips on garbage not yet collected.
func LiveHeap() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
