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

// TestInterruptAndResume stops a run with SIGINT after its first epoch,
// resumes it, and checks that it ends with the same metrics as a run that
// was never interrupted.
func TestInterruptAndResume(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	runs := t.TempDir()
	args := []string{"run", "--no-cache", "--data-dir", data, "--runs-dir", runs, "testdata/good.yaml",
		"--set", "data.train_limit=3000", "--set", "data.test_limit=200", "--set", "train.epochs=3"}
	cmd, stderr := startPipe(t, "epoch 1/3", args...)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitStopped {
		t.Fatalf("interrupted run: %v, stderr %s", err, stderr.String())
	}
	msg := stderr.String()
	i := strings.Index(msg, "pipe run --resume ")
	if i < 0 {
		t.Fatalf("no resume hint: %s", msg)
	}
	sameEnd(t, data, runs, strings.TrimSpace(msg[i+len("pipe run --resume "):]), args)
}

// TestCheckpointEveryResumesAfterKill kills (SIGKILL) a run that saves a
// checkpoint every epoch, resumes from what it saved, and ends with the
// metrics of an uninterrupted run.
func TestCheckpointEveryResumesAfterKill(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	runs := t.TempDir()
	args := []string{"run", "--no-cache", "--data-dir", data, "--runs-dir", runs, "testdata/good.yaml",
		"--set", "data.train_limit=3000", "--set", "data.test_limit=200", "--set", "train.epochs=3", "--set", "train.checkpoint_every=1"}
	cmd, _ := startPipe(t, "epoch 2/3", args...)
	time.Sleep(200 * time.Millisecond) // let the epoch-2 checkpoint land, or not: either is resumable
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	dirs := entryDirs(filepath.Join(runs, "bad"))
	if len(dirs) != 1 {
		t.Fatalf("want the one checkpointed run directory, got %v", dirs)
	}
	sameEnd(t, data, runs, filepath.Join(runs, "bad", dirs[0]), args)
}

// startPipe starts this test binary as pipe with args and returns the
// process once its stdout has shown want; stderr collects its stderr.
func startPipe(t *testing.T, want string, args ...string) (cmd *exec.Cmd, stderr *strings.Builder) {
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PIPE_TEST_AS_CLI=1")
	stdout, _ := cmd.StdoutPipe()
	stderr = &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var seen string
	for !strings.Contains(seen, want) {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("pipe ended before printing %q: %s %s", want, seen, stderr.String())
		}
		seen += string(buf[:n])
	}
	go io.Copy(io.Discard, stdout)
	return cmd, stderr
}

// sameEnd resumes runDir and checks that it ends with the metrics of the
// uninterrupted run args.
func sameEnd(t *testing.T, data, runs, runDir string, args []string) {
	code, resumed, errOut := pipeCmd(t, "run", "--quiet", "--no-cache", "--data-dir", data, "--runs-dir", runs, "--resume", runDir)
	if code != 0 {
		t.Fatalf("resume: %s", errOut)
	}
	code, straight, errOut := pipeCmd(t, append(args, "--quiet")...)
	if code != 0 {
		t.Fatal(errOut)
	}
	metrics := func(out string) string { return strings.SplitN(out, " (", 2)[0] }
	if metrics(resumed) != metrics(straight) {
		t.Errorf("resumed run: %q; uninterrupted: %q", metrics(resumed), metrics(straight))
	}
}
