package pipeline_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
)

// tinyRatings writes a MovieLense-shaped data directory with a few
// hundred ratings: enough for user_knn, read in milliseconds.
func tinyRatings(t *testing.T, shift int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("user,item,rating\n")
	for u := 1; u <= 30; u++ {
		for i := 1; i <= 20; i++ {
			if (u*7+i*3)%4 != 0 {
				fmt.Fprintf(&b, "%d,Movie %d (1990),%d\n", u, i, 1+(u*i+shift)%5)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "movielense"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "movielense", "ratings.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runKey(t *testing.T, opt pipeline.Options, sets ...string) rundir.Key {
	t.Helper()
	p, err := pipeline.Load("../specs/cf/movielense_knn.yaml", sets...)
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.RunKey(opt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRunKeyChanges checks what the key of a run follows: a param, the
// backend and the data files change it; the report: and golden:
// sections, which change no result, do not. go test records no version,
// so pipe's is "devel".
func TestRunKeyChanges(t *testing.T) {
	data := tinyRatings(t, 0)
	for _, cache := range []string{"", t.TempDir()} { // without and with the checksum memo
		opt := pipeline.Options{DataDir: data, CacheDir: cache}
		base := runKey(t, opt)
		if base.Version != "devel" || len(base.Data) != 1 || base.Data[0].Name != "ratings.csv" || len(base.Data[0].SHA256) != 64 {
			t.Errorf("key %+v: want version devel and ratings.csv's checksum", base)
		}
		if k := runKey(t, opt, "report.method=other", "report.row=9", "golden.train=5", "golden.tolerance=0.5"); k.Key != base.Key {
			t.Error("report: and golden: changed the key")
		}
		if k := runKey(t, opt, "model.k=5"); k.Key == base.Key {
			t.Error("model.k=5 kept the key of k=30")
		}
		if k := runKey(t, opt, "data.sample_users=10"); k.Key == base.Key {
			t.Error("a loader param kept the key")
		}
		if k := runKey(t, pipeline.Options{DataDir: data, CacheDir: cache, Backend: "xla:cpu"}); k.Key == base.Key {
			t.Error("another backend kept the key")
		}
		if k := runKey(t, pipeline.Options{DataDir: tinyRatings(t, 1), CacheDir: cache}); k.Key == base.Key || k.Spec != base.Spec {
			t.Error("other ratings kept the key (or changed the spec's hash)")
		}
	}
	// A file edited in place, its size unchanged: the memo of checksums
	// (kept by path, size and modification time) sees the new time.
	cache := t.TempDir()
	before := runKey(t, pipeline.Options{DataDir: data, CacheDir: cache})
	path := filepath.Join(data, "movielense", "ratings.csv")
	src, _ := os.ReadFile(path)
	edited := strings.Replace(string(src), "1,Movie 1 (1990),2", "1,Movie 1 (1990),3", 1)
	if len(edited) != len(src) || edited == string(src) {
		t.Fatal("the fixture changed shape: fix the edit")
	}
	os.WriteFile(path, []byte(edited), 0o644)
	if after := runKey(t, pipeline.Options{DataDir: data, CacheDir: cache}); after.Key == before.Key {
		t.Error("a rating edited in place kept the key")
	}
	if _, err := (func() (rundir.Key, error) {
		p, _ := pipeline.Load("../specs/cf/movielense_knn.yaml")
		return p.RunKey(pipeline.Options{DataDir: t.TempDir()})
	})(); err == nil {
		t.Error("a key without the data folder: no error")
	}
}

// TestRunKeyRecorded runs a spec and reads its run.json: the key that
// RunKey gives for the same plan and data, and when it was made.
func TestRunKeyRecorded(t *testing.T) {
	data := tinyRatings(t, 0)
	p, err := pipeline.Load("../specs/cf/movielense_knn.yaml", "model.k=5")
	if err != nil {
		t.Fatal(err)
	}
	opt := pipeline.Options{DataDir: data, RunsDir: t.TempDir()}
	start := time.Now().Add(-time.Second)
	res, err := pipeline.Run(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, rundir.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	var got rundir.Key
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want, err := p.RunKey(opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != want.Key || got.Spec != want.Spec || got.Version != "devel" || got.Created.Before(start) || got.Created.After(time.Now()) {
		t.Errorf("run.json %+v, want the key %s made during the test", got, want.Key)
	}
}
