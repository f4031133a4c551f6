package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestMain lets a test run this test binary as the pipe command, so that a
// test can kill a real pipe process.
func TestMain(m *testing.M) {
	if os.Getenv("PIPE_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKillDuringCacheWrite kills pipe (SIGKILL) while it writes its data
// cache, then checks that the next run ignores the partial entry, rebuilds
// it, and gets the same result as a run without cache.
func TestKillDuringCacheWrite(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	cache, runs := t.TempDir(), t.TempDir()
	args := []string{"run", "--quiet", "--data-dir", data, "--runs-dir", runs, "testdata/good.yaml",
		"--set", "data.train_limit=256", "--set", "data.test_limit=128"}
	cmd := exec.Command(os.Args[0], append(args, "--cache-dir", cache)...)
	cmd.Env = append(os.Environ(), "PIPE_TEST_AS_CLI=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !killed {
		partial, _ := filepath.Glob(filepath.Join(cache, ".partial-*"))
		if len(partial) > 0 {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Wait()
	if !killed {
		t.Fatal("never saw the cache being written")
	}
	if entries, _ := os.ReadDir(filepath.Join(runs, "bad")); len(entries) != 0 {
		t.Errorf("the killed run left a run directory: %v", entries)
	}
	complete := entryDirs(cache)
	if len(complete) != 0 {
		t.Errorf("the killed run left a cache entry that looks complete: %v", complete)
	}

	code, withCache, stderr := pipeCmd(t, append(args, "--cache-dir", cache)...)
	if code != 0 {
		t.Fatalf("the run after the kill failed: %s", stderr)
	}
	code, noCache, stderr := pipeCmd(t, append(args, "--no-cache")...)
	if code != 0 {
		t.Fatal(stderr)
	}
	metrics := func(out string) string { return strings.SplitN(strings.SplitN(out, " (", 2)[0], "test", 2)[1] }
	if metrics(withCache) != metrics(noCache) {
		t.Errorf("after the kill: %q; without cache: %q", withCache, noCache)
	}
	complete = entryDirs(cache)
	if len(complete) != 1 {
		t.Errorf("the entry was not rebuilt: %v", complete)
	}
}

// entryDirs lists the complete (not hidden) cache entries.
func entryDirs(cache string) []string {
	var dirs []string
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}

// startPipe starts this test binary as pipe with args and returns the
// process once its stdout has shown want; stderr collects its stderr.
// A process still running after pipeTimeout is killed, so that neither
// the wait for want nor the caller's cmd.Wait can hang the test.
func startPipe(t *testing.T, want string, args ...string) (cmd *exec.Cmd, stderr *strings.Builder) {
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PIPE_TEST_AS_CLI=1")
	stdout, _ := cmd.StdoutPipe()
	stderr = &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(pipeTimeout, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		watchdog.Stop()
		cmd.Process.Kill() // a no-op once it has ended
	})
	buf := make([]byte, 4096)
	var seen string
	for !strings.Contains(seen, want) {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("pipe ended (or ran past %v) before printing %q: %s %s", pipeTimeout, want, seen, stderr.String())
		}
		seen += string(buf[:n])
	}
	go io.Copy(io.Discard, stdout)
	return cmd, stderr
}

// pipeTimeout bounds a pipe process that a test starts: the runs of these
// tests take seconds.
const pipeTimeout = 2 * time.Minute
