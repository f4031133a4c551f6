package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// Every test talks to an httptest server on 127.0.0.1 only, with short
// limits so that a failure ends in seconds.
func TestMain(m *testing.M) {
	connectTimeout, headerTimeout, stallTimeout = 2*time.Second, 5*time.Second, 5*time.Second
	retryPause = 10 * time.Millisecond
	os.Exit(m.Run())
}

// server serves files from memory, with Range support (http.ServeContent),
// and records each request. hook, when set for a path, may answer a
// request itself (to cut it, stall, or ignore Range) and returns true then.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	hook     map[string]func(w http.ResponseWriter, r *http.Request, content []byte, n int) bool
	requests []string // "path range"
	count    map[string]int
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files, hook: map[string]func(http.ResponseWriter, *http.Request, []byte, int) bool{}, count: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.count[r.URL.Path]++
		n := s.count[r.URL.Path]
		s.requests = append(s.requests, r.URL.Path+" "+r.Header.Get("Range"))
		content, ok := s.files[r.URL.Path]
		hook := s.hook[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if hook != nil && hook(w, r, content, n) {
			return
		}
		http.ServeContent(w, r, filepath.Base(r.URL.Path), time.Time{}, bytes.NewReader(content))
	}))
	t.Cleanup(s.Close)
	return s
}

// set replaces what the server serves at path.
func (s *server) set(path string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = content
}

func (s *server) requestLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// cutHalfway sends the headers of the whole file and half its bytes, then
// drops the connection.
func cutHalfway(w http.ResponseWriter, content []byte) {
	w.Header().Set("Content-Length", fmt.Sprint(len(content)))
	w.WriteHeader(http.StatusOK)
	w.Write(content[:len(content)/2])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // net/http closes the connection, quietly
}

func readShared(t *testing.T, folder string, names ...string) map[string][]byte {
	t.Helper()
	dir := filepath.Join(testdata.Dir(t, folder), folder)
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

func lookup(t *testing.T, name string) *Dataset {
	t.Helper()
	d, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// listTree returns every path under dir, relative, sorted.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// sameFiles checks that dir holds exactly want's bytes under its names.
func sameFiles(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("fetched folder: %v", err)
		} else if !bytes.Equal(got, b) {
			t.Errorf("%s: %d bytes differ from the source's %d", name, len(got), len(b))
		}
	}
}

// TestFetchRecordedChecksums holds the checksums recorded in the catalogue
// to the files in ../shared/data that are byte-identical to the official
// ones, and requires a checksum for every download.
func TestFetchRecordedChecksums(t *testing.T) {
	for _, d := range Datasets() {
		if d.Downloadable() == (d.Manual != "") {
			t.Errorf("%s: a dataset has either files to download or a manual text", d.Name)
		}
		if len(d.Needs) == 0 || d.Folder == "" {
			t.Errorf("%s: no folder or needed files", d.Name)
		}
		for _, f := range d.Files {
			if f.SHA256 == "" || f.MD5 == "" || f.Size <= 0 || len(f.URLs) == 0 {
				t.Errorf("%s/%s: needs a sha256, an md5, a size and a URL", d.Name, f.Name)
			}
			for _, u := range f.URLs {
				if !strings.HasSuffix(u, "/"+f.Name) {
					t.Errorf("%s: URL %s does not end in the file name", f.Name, u)
				}
			}
		}
	}
	type rec struct{ folder, path, sha, md5 string }
	var recs []rec
	for _, f := range lookup(t, "mnist").Files {
		recs = append(recs, rec{"mnist", f.Name, f.SHA256, f.MD5})
	}
	for _, f := range lookup(t, "imdb").Files {
		if f.Name == "imdb_word_index.json" { // the archive here is a repack (PROVENANCE)
			recs = append(recs, rec{"imdb", f.Name, f.SHA256, f.MD5})
		}
	}
	for _, name := range []string{"cifar10", "ml100k"} {
		d := lookup(t, name)
		for _, c := range d.Checks {
			recs = append(recs, rec{d.Folder, c.Path, c.SHA256, ""})
		}
	}
	if len(recs) != 4+1+7+1 {
		t.Fatalf("%d recorded checksums to hold, want 13", len(recs))
	}
	for _, r := range recs {
		got, err := hashFile(filepath.Join(testdata.Dir(t, r.folder), r.folder, filepath.FromSlash(r.path)))
		if err != nil {
			t.Fatal(err)
		}
		if got.sha256 != r.sha || (r.md5 != "" && got.md5 != r.md5) {
			t.Errorf("%s/%s: recorded sha256 %s md5 %s, the shared file has %s %s", r.folder, r.path, r.sha, r.md5, got.sha256, got.md5)
		}
	}
}

// TestFetchMNIST fetches MNIST from a server where the official address
// answers 404, so the mirror is used; the result loads with the mnist
// loader. A second fetch downloads nothing; --force downloads again.
func TestFetchMNIST(t *testing.T) {
	names := []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	shared := readShared(t, "mnist", names...)
	files := map[string][]byte{}
	for n, b := range shared {
		files["/mirror/"+n] = b
	}
	srv := newServer(t, files)
	defer func(a, b string) { mnistOfficial, mnistMirror = a, b }(mnistOfficial, mnistMirror)
	mnistOfficial, mnistMirror = srv.URL+"/official/", srv.URL+"/mirror/"

	dataDir := t.TempDir()
	var log bytes.Buffer
	wrote, err := Fetch(context.Background(), lookup(t, "mnist"), Options{DataDir: dataDir, Log: &log})
	if err != nil || !wrote {
		t.Fatalf("Fetch: wrote %v, %v\n%s", wrote, err, log.String())
	}
	sameFiles(t, filepath.Join(dataDir, "mnist"), shared)
	if st, err := os.Stat(filepath.Join(dataDir, "mnist")); err != nil || st.Mode().Perm()&0o055 == 0 {
		t.Errorf("the dataset folder is private: %v %v", st.Mode(), err)
	}
	if got := listTree(t, dataDir); !slices.Equal(got, []string{"mnist", "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", "mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz"}) {
		t.Errorf("the data directory holds %v: only mnist/ and its four files expected", got)
	}
	for _, want := range []string{"/official/train-images-idx3-ubyte.gz: HTTP 404", "trying " + srv.URL + "/mirror/train-images-idx3-ubyte.gz", "checksum verified (sha256, md5)", "verified and installed in " + filepath.Join(dataDir, "mnist")} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log.String())
		}
	}
	mnist, _ := loaders.Loaders.New("mnist")
	ds, err := mnist.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 60000 || ds.Test.Len() != 10000 {
		t.Errorf("the fetched MNIST loads as %d/%d examples, want 60000/10000", ds.Train.Len(), ds.Test.Len())
	}

	before := len(srv.requestLog())
	log.Reset()
	if wrote, err := Fetch(context.Background(), lookup(t, "mnist"), Options{DataDir: dataDir, Log: &log}); err != nil || wrote {
		t.Errorf("second Fetch: wrote %v, %v", wrote, err)
	}
	if n := len(srv.requestLog()); n != before || !strings.Contains(log.String(), "already in") {
		t.Errorf("a dataset already present was downloaded again (%d requests), log %q", n-before, log.String())
	}

	// --force replaces the folder, extra files and all.
	os.WriteFile(filepath.Join(dataDir, "mnist", "stale.txt"), []byte("x"), 0o644)
	if wrote, err := Fetch(context.Background(), lookup(t, "mnist"), Options{DataDir: dataDir, Force: true}); err != nil || !wrote {
		t.Fatalf("Fetch --force: wrote %v, %v", wrote, err)
	}
	if exists(filepath.Join(dataDir, "mnist", "stale.txt")) || len(srv.requestLog()) == before {
		t.Errorf("--force did not download and replace the folder")
	}
	sameFiles(t, filepath.Join(dataDir, "mnist"), shared)
	if got := listTree(t, dataDir); len(got) != 5 {
		t.Errorf("after --force the data directory holds %v", got)
	}
}

// oneFile is a dataset of one file at srv/path, checked by its real
// checksum, for the transfer tests.
func oneFile(srv *server, path string, content []byte) *Dataset {
	name := filepath.Base(path)
	return &Dataset{Name: "one", Folder: "one", Needs: []string{name}, ByHand: name,
		Files: []File{{Name: name, URLs: []string{srv.URL + path}, Size: int64(len(content)), SHA256: sha(content), MD5: md5hex(content)}}}
}

// TestFetchResume cuts the connection halfway: the same fetch asks for the
// rest with a Range and gets a whole, verified file.
func TestFetchResume(t *testing.T) {
	content := readShared(t, "mnist", "train-labels-idx1-ubyte.gz")["train-labels-idx1-ubyte.gz"]
	srv := newServer(t, map[string][]byte{"/f/train-labels-idx1-ubyte.gz": content})
	srv.hook["/f/train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request, content []byte, n int) bool {
		if n == 1 {
			cutHalfway(w, content)
		}
		return false
	}
	dataDir := t.TempDir()
	var log bytes.Buffer
	d := oneFile(srv, "/f/train-labels-idx1-ubyte.gz", content)
	if _, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	sameFiles(t, filepath.Join(dataDir, "one"), map[string][]byte{"train-labels-idx1-ubyte.gz": content})
	reqs := srv.requestLog()
	if len(reqs) != 2 || !strings.HasPrefix(reqs[1], "/f/train-labels-idx1-ubyte.gz bytes=") || strings.HasSuffix(reqs[1], "bytes=0-") {
		t.Errorf("requests %q: want a second one with a Range past 0", reqs)
	}
	if !strings.Contains(log.String(), "resuming at") {
		t.Errorf("the log does not say it resumed:\n%s", log.String())
	}
}

// TestFetchResumeLater: a fetch that gives up keeps its .partial and says
// so; the next fetch resumes it. A server that then ignores the Range
// restarts the file cleanly.
func TestFetchResumeLater(t *testing.T) {
	content := readShared(t, "mnist", "train-labels-idx1-ubyte.gz")["train-labels-idx1-ubyte.gz"]
	for _, ignoreRange := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignoreRange=%v", ignoreRange), func(t *testing.T) {
			srv := newServer(t, map[string][]byte{"/f/train-labels-idx1-ubyte.gz": content})
			srv.hook["/f/train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request, content []byte, n int) bool {
				switch {
				case n <= 2: // the whole first fetch
					cutHalfway(w, content)
				case ignoreRange:
					w.Header().Set("Content-Length", fmt.Sprint(len(content)))
					w.Write(content)
					return true
				}
				return false
			}
			defer func(n int) { attemptsPerURL = n }(attemptsPerURL)
			attemptsPerURL = 2
			dataDir := t.TempDir()
			d := oneFile(srv, "/f/train-labels-idx1-ubyte.gz", content)
			_, err := Fetch(context.Background(), d, Options{DataDir: dataDir})
			partial := filepath.Join(dataDir, ".fetch", "one", "train-labels-idx1-ubyte.gz.partial")
			var de *data.DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "kept in "+partial+": the same command resumes") {
				t.Fatalf("a broken download: %v; want a data error saying the .partial is kept", err)
			}
			if n := fileSize(partial); n == 0 || n >= int64(len(content)) {
				t.Fatalf(".partial holds %d bytes", n)
			}
			if exists(filepath.Join(dataDir, "one")) {
				t.Fatal("a failed fetch created the dataset folder")
			}
			var log bytes.Buffer
			if _, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Log: &log}); err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			sameFiles(t, filepath.Join(dataDir, "one"), map[string][]byte{"train-labels-idx1-ubyte.gz": content})
			reqs := srv.requestLog()
			if !strings.Contains(reqs[2], "bytes=") {
				t.Errorf("the second fetch did not ask for a Range: %q", reqs)
			}
			want := "resuming at"
			if ignoreRange {
				want = "the server does not resume; starting again"
			}
			if !strings.Contains(log.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, log.String())
			}
			if got := listTree(t, dataDir); !slices.Equal(got, []string{"one", "one/train-labels-idx1-ubyte.gz"}) {
				t.Errorf("left behind: %v", got)
			}
		})
	}
}

// TestFetchStalled: a server that stops sending mid-file is given up on
// after stallTimeout, and the retry resumes.
func TestFetchStalled(t *testing.T) {
	content := readShared(t, "mnist", "train-labels-idx1-ubyte.gz")["train-labels-idx1-ubyte.gz"]
	srv := newServer(t, map[string][]byte{"/f/train-labels-idx1-ubyte.gz": content})
	srv.hook["/f/train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request, content []byte, n int) bool {
		if n == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.Write(content[:1000])
			w.(http.Flusher).Flush()
			select { // stall until the client gives up (bounded)
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return true
		}
		return false
	}
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 300 * time.Millisecond
	var log bytes.Buffer
	start := time.Now()
	dataDir := t.TempDir()
	if _, err := Fetch(context.Background(), oneFile(srv, "/f/train-labels-idx1-ubyte.gz", content), Options{DataDir: dataDir, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a stalled transfer took %v to be retried", el)
	}
	if !strings.Contains(log.String(), "no data for 300ms at 1.0 kB") || !strings.Contains(log.String(), "resuming at") {
		t.Errorf("log:\n%s", log.String())
	}
	sameFiles(t, filepath.Join(dataDir, "one"), map[string][]byte{"train-labels-idx1-ubyte.gz": content})
}

// TestFetchChecksumMismatch: a file that does not hash to its recorded
// checksum is an error naming the file and both checksums, and nothing of
// it is left in the data directory.
func TestFetchChecksumMismatch(t *testing.T) {
	content := readShared(t, "mnist", "t10k-labels-idx1-ubyte.gz")["t10k-labels-idx1-ubyte.gz"]
	bad := slices.Clone(content)
	bad[100] ^= 1
	srv := newServer(t, map[string][]byte{"/mnist/t10k-labels-idx1-ubyte.gz": bad})
	d := lookup(t, "mnist")
	d.Files = d.Files[3:] // t10k labels only
	dataDir := t.TempDir()
	_, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL})
	var de *data.DataError
	want := fmt.Sprintf("%s/mnist/t10k-labels-idx1-ubyte.gz: sha256 checksum is %s, expected %s", srv.URL, sha(bad), d.Files[0].SHA256)
	if !errors.As(err, &de) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("got %v\nwant a data error containing %q", err, want)
	}
	if got := listTree(t, dataDir); len(got) != 0 {
		t.Errorf("a corrupt download left %v", got)
	}

	// A file of the wrong size is refused before its bytes are fetched.
	srv.set("/mnist/t10k-labels-idx1-ubyte.gz", content[:1000])
	_, err = Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL})
	want = fmt.Sprintf("%s/mnist/t10k-labels-idx1-ubyte.gz: the server's file has 1000 bytes, not the %d of the official t10k-labels-idx1-ubyte.gz", srv.URL, len(content))
	if !errors.As(err, &de) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("got %v\nwant a data error containing %q", err, want)
	}
	if got := listTree(t, dataDir); len(got) != 0 {
		t.Errorf("a wrong-sized download left %v", got)
	}
}

// TestFetchOffline: with the server gone, the error is one line naming the
// URL and where to copy the files by hand, and comes at once.
func TestFetchOffline(t *testing.T) {
	srv := newServer(t, nil)
	srv.Close()
	defer func(a, b string) { mnistOfficial, mnistMirror = a, b }(mnistOfficial, mnistMirror)
	mnistOfficial, mnistMirror = srv.URL+"/official/", srv.URL+"/mirror/"
	dataDir := t.TempDir()
	start := time.Now()
	_, err := Fetch(context.Background(), lookup(t, "mnist"), Options{DataDir: dataDir})
	var de *data.DataError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a data error", err)
	}
	msg := err.Error()
	for _, want := range []string{
		srv.URL + "/official/train-images-idx3-ubyte.gz: cannot connect (",
		"nor to " + srv.URL + "/mirror/train-images-idx3-ubyte.gz (",
		"copy by hand into " + filepath.Join(dataDir, "mnist") + string(filepath.Separator),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") || time.Since(start) > 5*time.Second {
		t.Errorf("want one line at once; got in %v:\n%s", time.Since(start), msg)
	}
	if got := listTree(t, dataDir); len(got) != 0 {
		t.Errorf("an offline fetch left %v", got)
	}
}

// TestFetchUnreachableReasons: DNS failures count as unreachable, without
// a real lookup (tests never leave the machine).
func TestFetchUnreachableReasons(t *testing.T) {
	dns := &net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true}
	if r, ok := unreachableReason(fmt.Errorf("get: %w", &net.OpError{Op: "dial", Net: "tcp", Err: dns})); !ok || r != "cannot resolve example.invalid: no such host" {
		t.Errorf("DNS failure: %q %v", r, ok)
	}
	if _, ok := unreachableReason(errors.New("tls: bad certificate")); ok {
		t.Error("a TLS error is not 'unreachable'")
	}
}

// targz packs files (name -> bytes, in the order of names) as a gzipped tar.
func targz(t *testing.T, names []string, files map[string][]byte, extra func(*tar.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[n])
	}
	if extra != nil {
		extra(tw)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// TestFetchCIFAR builds a cifar-10-binary.tar.gz in the official layout,
// with the real test batch and meta file and the first 200 records of each
// training batch (the test supplies their checksums and the archive's),
// plus entries that must be skipped; the extracted folder is checked.
func TestFetchCIFAR(t *testing.T) {
	const sub = "cifar-10-batches-bin/"
	shared := readShared(t, "cifar10", sub+"test_batch.bin", sub+"batches.meta.txt")
	d := lookup(t, "cifar10")
	names := []string{sub + "batches.meta.txt"}
	for i, c := range d.Checks {
		if !strings.Contains(c.Path, "data_batch_") {
			continue
		}
		f, err := os.Open(filepath.Join(testdata.Dir(t, "cifar10"), "cifar10", c.Path))
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 200*3073)
		if _, err := f.Read(head); err != nil {
			t.Fatal(err)
		}
		f.Close()
		shared[c.Path] = head
		d.Checks[i].SHA256 = sha(head)
		names = append(names, c.Path)
	}
	names = append(names, sub+"test_batch.bin", sub+"readme.html", "elsewhere/skip.bin")
	inArchive := map[string][]byte{sub + "readme.html": []byte("<html>"), "elsewhere/skip.bin": []byte("x")}
	for k, v := range shared {
		inArchive[k] = v
	}
	archive := targz(t, names, inArchive, func(tw *tar.Writer) {
		tw.WriteHeader(&tar.Header{Name: sub + "link.bin", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink})
	})
	srv := newServer(t, map[string][]byte{"/cifar10/cifar-10-binary.tar.gz": archive})
	d.Files[0].Size, d.Files[0].SHA256, d.Files[0].MD5 = int64(len(archive)), sha(archive), md5hex(archive)

	dataDir := t.TempDir()
	var log bytes.Buffer
	if _, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	sameFiles(t, filepath.Join(dataDir, "cifar10"), shared)
	got := listTree(t, dataDir)
	want := []string{"cifar10", "cifar10/cifar-10-batches-bin"}
	for _, n := range names[:len(names)-1] {
		want = append(want, "cifar10/"+n)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the data directory holds\n%v\nwant\n%v (no archive, no link, nothing outside the prefix)", got, want)
	}

	// A member that does not match its check: the error names the file
	// and both checksums, and nothing is installed or left behind.
	d.Checks[0].SHA256 = strings.Repeat("0", 64)
	dataDir = t.TempDir()
	_, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL})
	wantMsg := fmt.Sprintf("%s: sha256 checksum is %s, expected %s", filepath.Join(dataDir, "cifar10", sub+"data_batch_1.bin"), sha(shared[sub+"data_batch_1.bin"]), strings.Repeat("0", 64))
	if err == nil || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("got %v\nwant %q", err, wantMsg)
	}
	if got := listTree(t, dataDir); len(got) != 0 {
		t.Errorf("a failed check left %v", got)
	}
}

// zipOf packs files under their names, with a folder entry first.
func zipOf(t *testing.T, dirEntry string, names []string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if dirEntry != "" {
		zw.Create(dirEntry)
	}
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFetchML100k builds ml-100k.zip from ../shared/data in GroupLens'
// layout; the recorded u.data checksum is checked after extraction and the
// folder loads with the ml100k loader.
func TestFetchML100k(t *testing.T) {
	names := []string{"README", "u.data", "u.genre", "u.info", "u.item", "u.occupation", "u.user"}
	shared := readShared(t, "ml-100k", names...)
	inZip := map[string][]byte{}
	var zipNames []string
	for _, n := range names {
		inZip["ml-100k/"+n] = shared[n]
		zipNames = append(zipNames, "ml-100k/"+n)
	}
	archive := zipOf(t, "ml-100k/", zipNames, inZip)
	srv := newServer(t, map[string][]byte{"/ml-100k/ml-100k.zip": archive})
	d := lookup(t, "ml-100k") // by folder name too
	d.Files[0].Size, d.Files[0].SHA256, d.Files[0].MD5 = int64(len(archive)), sha(archive), md5hex(archive)
	dataDir := t.TempDir()
	if _, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, filepath.Join(dataDir, "ml-100k"), shared)
	if got := listTree(t, dataDir); len(got) != 1+len(names) {
		t.Errorf("the data directory holds %v", got)
	}
	l, _ := loaders.Loaders.New("ml100k")
	ds, err := l.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if n := ds.Train.Len() + ds.Test.Len(); n != 100000 {
		t.Errorf("the fetched ml-100k loads %d ratings, want 100000", n)
	}

	// An archive entry that climbs out of the folder is refused.
	evil := zipOf(t, "", []string{"ml-100k/u.data", "ml-100k/../../evil"}, map[string][]byte{"ml-100k/u.data": shared["u.data"], "ml-100k/../../evil": []byte("x")})
	srv.set("/ml-100k/ml-100k.zip", evil)
	d.Files[0].Size, d.Files[0].SHA256, d.Files[0].MD5 = int64(len(evil)), sha(evil), md5hex(evil)
	top := t.TempDir()
	dataDir = filepath.Join(top, "a", "data")
	_, err = Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL})
	if err == nil || !strings.Contains(err.Error(), `"ml-100k/../../evil" would be written outside the dataset folder`) {
		t.Errorf("got %v", err)
	}
	if got := listTree(t, top); !slices.Equal(got, []string{"a", "a/data"}) {
		t.Errorf("after a refused archive: %v", got)
	}
}

// TestFetchIMDB serves ../shared/data/imdb's archive as it is (its own
// checksum supplied: it is not the official bytes) and the word index
// with its recorded checksums.
func TestFetchIMDB(t *testing.T) {
	shared := readShared(t, "imdb", "aclImdb_v1.tar.gz", "imdb_word_index.json")
	srv := newServer(t, map[string][]byte{"/imdb/aclImdb_v1.tar.gz": shared["aclImdb_v1.tar.gz"], "/imdb/imdb_word_index.json": shared["imdb_word_index.json"]})
	d := lookup(t, "imdb")
	a := shared["aclImdb_v1.tar.gz"]
	if sha(a) == d.Files[0].SHA256 {
		t.Fatal("the shared archive is said to be a repack, yet has the official checksum: update the comments")
	}
	d.Files[0].Size, d.Files[0].SHA256, d.Files[0].MD5 = int64(len(a)), sha(a), md5hex(a)
	dataDir := t.TempDir()
	var log bytes.Buffer
	if _, err := Fetch(context.Background(), d, Options{DataDir: dataDir, Mirror: srv.URL, Log: &log}); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, filepath.Join(dataDir, "imdb"), shared)
	// Without a terminal, a large file reports its progress in plain lines.
	for _, q := range []string{"25%", "50%", "75%"} {
		if !strings.Contains(log.String(), "aclImdb_v1.tar.gz: "+q+" (") {
			t.Errorf("the log lacks the %s line:\n%s", q, log.String())
		}
	}
	if got := listTree(t, dataDir); len(got) != 3 {
		t.Errorf("the data directory holds %v", got)
	}
}

// TestFetchExisting: an incomplete folder is not touched without --force.
func TestFetchExisting(t *testing.T) {
	srv := newServer(t, nil)
	dataDir := t.TempDir()
	os.MkdirAll(filepath.Join(dataDir, "imdb"), 0o755)
	os.WriteFile(filepath.Join(dataDir, "imdb", "aclImdb_v1.tar.gz"), []byte("mine"), 0o644)
	_, err := Fetch(context.Background(), lookup(t, "imdb"), Options{DataDir: dataDir, Mirror: srv.URL})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dataDir, "imdb")+": exists but has no imdb_word_index.json") {
		t.Errorf("got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dataDir, "imdb", "aclImdb_v1.tar.gz")); string(b) != "mine" || len(srv.requestLog()) != 0 {
		t.Error("an incomplete folder was changed or a download started")
	}
	// The raw (un-gzipped) IDX files count as present for mnist.
	os.MkdirAll(filepath.Join(dataDir, "mnist"), 0o755)
	for _, f := range lookup(t, "mnist").Files {
		os.WriteFile(filepath.Join(dataDir, "mnist", strings.TrimSuffix(f.Name, ".gz")), nil, 0o644)
	}
	if wrote, err := Fetch(context.Background(), lookup(t, "mnist"), Options{DataDir: dataDir, Mirror: srv.URL}); wrote || err != nil {
		t.Errorf("raw MNIST files: wrote %v, %v", wrote, err)
	}
}

// TestFetchManual: recommenderlab's samples have no download; Fetch says
// where they come from and where to put them, and writes nothing.
func TestFetchManual(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	for _, name := range []string{"jester5k", "movielense"} {
		_, err := Fetch(context.Background(), lookup(t, name), Options{DataDir: dataDir})
		var m *ManualError
		if !errors.As(err, &m) {
			t.Fatalf("%s: got %v, want a ManualError", name, err)
		}
		for _, want := range []string{"no official download", "recommenderlab", "ratings.csv", filepath.Join(dataDir, name) + string(filepath.Separator)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message lacks %q:\n%s", name, want, err)
			}
		}
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("a manual dataset created the data directory")
	}
	if _, err := Lookup("mnits"); err == nil || !strings.Contains(err.Error(), "mnist, cifar10, imdb, ml100k, jester5k, movielense") {
		t.Errorf("unknown name: %v", err)
	}
}

// TestFetchLoaderHints holds the loaders' "not found" message to this
// catalogue: each loader names its `pipe data fetch` command, or for the
// manual datasets where the files go.
func TestFetchLoaderHints(t *testing.T) {
	dataDir := t.TempDir()
	for _, d := range Datasets() {
		l, ok := loaders.Loaders.New(d.Name)
		if !ok {
			t.Errorf("no loader named %s", d.Name)
			continue
		}
		if s, ok := l.(loaders.Sourced); !ok || s.Folder() != d.Folder {
			t.Errorf("%s: the loader's folder is not the catalogue's %s", d.Name, d.Folder)
		}
		_, err := l.Load(dataDir)
		want := "`pipe data fetch " + d.Name + "` downloads it"
		if !d.Downloadable() {
			want = "no official download: put recommenderlab's " + d.Folder + " as ratings.csv (user,item,rating) in " + filepath.Join(dataDir, d.Folder)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v\nwant a message containing %q", d.Name, err, want)
		}
	}
}

// TestFetchInterrupted: Ctrl-C (a cancelled context) mid-download stops at
// once, keeps the .partial for the next fetch and says so.
func TestFetchInterrupted(t *testing.T) {
	content := readShared(t, "mnist", "train-labels-idx1-ubyte.gz")["train-labels-idx1-ubyte.gz"]
	srv := newServer(t, map[string][]byte{"/f/train-labels-idx1-ubyte.gz": content})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.hook["/f/train-labels-idx1-ubyte.gz"] = func(w http.ResponseWriter, r *http.Request, content []byte, n int) bool {
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		w.Write(content[:5000])
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond) // the client has written those bytes
		cancel()
		<-r.Context().Done()
		return true
	}
	dataDir := t.TempDir()
	_, err := Fetch(ctx, oneFile(srv, "/f/train-labels-idx1-ubyte.gz", content), Options{DataDir: dataDir})
	partial := filepath.Join(dataDir, ".fetch", "one", "train-labels-idx1-ubyte.gz.partial")
	if err == nil || !strings.Contains(err.Error(), "interrupted while downloading train-labels-idx1-ubyte.gz (5.0 kB kept in "+partial) {
		t.Errorf("got %v", err)
	}
	if got := listTree(t, dataDir); !slices.Equal(got, []string{".fetch", ".fetch/one", ".fetch/one/train-labels-idx1-ubyte.gz.partial"}) {
		t.Errorf("after an interruption the data directory holds %v", got)
	}
}
