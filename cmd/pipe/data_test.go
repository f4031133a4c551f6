package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

var mnistGz = []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}

// mnistMirror serves ../shared/data/mnist as <url>/mnist/<file> on
// 127.0.0.1, counting requests.
func mnistMirror(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	shared := testdata.Dir(t, "mnist")
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.StripPrefix("/mnist/", http.FileServer(http.Dir(filepath.Join(shared, "mnist")))).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestDataFetchMNIST fetches MNIST through the CLI from a local mirror
// (--mirror, then PIPE_DATA_MIRROR): the files are the shared ones byte for
// byte, a second fetch downloads nothing, --force downloads again.
func TestDataFetchMNIST(t *testing.T) {
	srv, requests := mnistMirror(t)
	dataDir := filepath.Join(t.TempDir(), "data") // created by the fetch
	code, stdout, stderr := pipeCmd(t, "--data-dir", dataDir, "data", "fetch", "--mirror", srv.URL, "mnist")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	shared := filepath.Join(testdata.Dir(t, "mnist"), "mnist")
	for _, f := range mnistGz {
		want, _ := os.ReadFile(filepath.Join(shared, f))
		got, err := os.ReadFile(filepath.Join(dataDir, "mnist", f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: not the shared file (%v)", f, err)
		}
	}
	if !strings.Contains(stdout, "downloading "+srv.URL+"/mnist/train-images-idx3-ubyte.gz (9.9 MB)") || !strings.Contains(stdout, "mnist: verified and installed in") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 1 {
		t.Errorf("the data directory holds %d entries, want mnist/ only", len(entries))
	}

	t.Setenv("PIPE_DATA_MIRROR", srv.URL)
	before := requests.Load()
	code, stdout, _ = pipeCmd(t, "--data-dir", dataDir, "data", "fetch", "mnist")
	if code != exitOK || !strings.Contains(stdout, "already in") || requests.Load() != before {
		t.Errorf("second fetch: exit %d, %d requests, stdout %q", code, requests.Load()-before, stdout)
	}
	code, _, stderr = pipeCmd(t, "--data-dir", dataDir, "data", "fetch", "--force", "mnist")
	if code != exitOK || requests.Load() < before+4 {
		t.Errorf("--force: exit %d, %d requests; %s", code, requests.Load()-before, stderr)
	}
	code, stdout, _ = pipeCmd(t, "--data-dir", dataDir, "data", "list")
	if code != exitOK || !strings.Contains(stdout, "data directory: "+dataDir) || !strings.Contains(stdout, "mnist       mnist/       present") ||
		!strings.Contains(stdout, "cifar10     cifar10/     missing") {
		t.Errorf("data list: exit %d\n%s", code, stdout)
	}
}

// TestDataFetchOffline: an unreachable source is exit 4 and one line that
// names the URL and where to copy the files by hand.
func TestDataFetchOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	dataDir := t.TempDir()
	code, _, stderr := pipeCmd(t, "--data-dir", dataDir, "data", "fetch", "--mirror", srv.URL, "mnist")
	if code != exitData {
		t.Errorf("exit %d, want %d", code, exitData)
	}
	want := "pipe: " + srv.URL + "/mnist/train-images-idx3-ubyte.gz: cannot connect ("
	if !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "copy by hand into "+filepath.Join(dataDir, "mnist")+string(filepath.Separator)) ||
		strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q\nwant one line starting %q and saying where to copy the files", stderr, want)
	}
}

// TestDataFetchNoDownload: recommenderlab's samples say where they come
// from and where their files go (exit 2); unknown names are usage errors.
func TestDataFetchNoDownload(t *testing.T) {
	dataDir := t.TempDir()
	code, _, stderr := pipeCmd(t, "--data-dir", dataDir, "data", "fetch", "jester5k")
	if code != exitUsage || !strings.Contains(stderr, "recommenderlab") || !strings.Contains(stderr, filepath.Join(dataDir, "jester5k")) {
		t.Errorf("jester5k: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := pipeCmd(t, "data", "fetch", "mnits"); code != exitUsage || !strings.Contains(stderr, `unknown dataset "mnits"`) {
		t.Errorf("unknown dataset: exit %d %s", code, stderr)
	}
	if code, _, _ := pipeCmd(t, "data", "fetch"); code != exitUsage {
		t.Errorf("no name: exit %d", code)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}

// TestDataMissingSaysFetch: `pipe run` on a missing dataset names the
// command that gets it.
func TestDataMissingSaysFetch(t *testing.T) {
	for spec, want := range map[string]string{"testdata/good.yaml": "`pipe data fetch mnist`", "testdata/ml100k.yaml": "`pipe data fetch ml100k`"} {
		code, _, stderr := pipeCmd(t, "run", "--data-dir", filepath.Join(t.TempDir(), "nowhere"), "--runs-dir", t.TempDir(), spec)
		if code != exitData || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr lacks %s:\n%s", spec, code, want, stderr)
		}
	}
}
