package pipeline

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/internal/testdata"
)

// copyMNIST copies the real MNIST files into a fresh data directory the
// test may change.
func copyMNIST(t testing.TB) string {
	src := filepath.Join(testdata.Dir(t, "mnist"), "mnist")
	data := t.TempDir()
	os.Mkdir(filepath.Join(data, "mnist"), 0o755)
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(data, "mnist", name), b, 0o644)
	}
	return data
}

func entries(t *testing.T, cache string) []string {
	list, err := ListCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	return ids
}

// loadMNIST loads mnist_cnn's data and returns a pixel of the first
// training image and the first test label, as the model takes them.
func loadMNIST(t *testing.T, data, cache string, sets ...string) (first float32, label int32) {
	t.Helper()
	return loadFirst(t, "../specs/mnist_cnn.yaml", data, cache, sets...)
}

func loadFirst(t *testing.T, spec, data, cache string, sets ...string) (first float32, label int32) {
	t.Helper()
	p, err := Load(spec, sets...)
	if err != nil {
		t.Fatal(err)
	}
	ds, closer, err := p.Data(data, cache)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	x, _, err := p.batch(&ds.Train, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	_, y, err := p.batch(&ds.Test, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	return x.Float[7*28+7+200], int32(evaluators.Argmax(y.Float[:min(10, len(y.Float))]))
}

// TestCacheKeys: an entry is reused as long as nothing that produced it
// changes; a param of a transform before the batch steps, a source file or
// the format version each give a new entry. The batch steps are no part of
// the entry: a spec that changes only them reuses it.
func TestCacheKeys(t *testing.T) {
	data, cache := copyMNIST(t), t.TempDir()
	v1, l1 := loadMNIST(t, data, cache)
	if n := len(entries(t, cache)); n != 1 {
		t.Fatalf("first load: %d entries, want 1", n)
	}
	v2, l2 := loadMNIST(t, data, cache)
	if len(entries(t, cache)) != 1 || v1 != v2 || l1 != l2 {
		t.Fatalf("second load should reuse the entry and give the same data")
	}

	v3, _ := loadMNIST(t, data, cache, "data.transforms[0].scale.divide=127.5")
	if len(entries(t, cache)) != 1 || v3 != 2*v1 {
		t.Errorf("changing scale.divide, a batch step: %d entries (want 1), value %v (want %v)", len(entries(t, cache)), v3, 2*v1)
	}
	// The autoencoder's noise is no batch step: its data is cached after
	// it, and its seed is part of the entry's key.
	const denoise = "../specs/mnist_denoising_autoencoder.yaml"
	n1, _ := loadFirst(t, denoise, data, cache)
	n2, _ := loadFirst(t, denoise, data, cache, "data.transforms[2].gaussian_noise.seed=2")
	if len(entries(t, cache)) != 3 || n1 == n2 {
		t.Errorf("changing gaussian_noise.seed: %d entries (want 3), noisy pixel %v both times", len(entries(t, cache)), n1)
	}

	// Change the first test label in the source file: 7 becomes 3.
	path := filepath.Join(data, "mnist", "t10k-labels-idx1-ubyte.gz")
	zr, _ := gzip.NewReader(bytes.NewReader(must(os.ReadFile(path))))
	raw := must(io.ReadAll(zr))
	raw[8] = 3
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	os.WriteFile(path, buf.Bytes(), 0o644)
	if _, l := loadMNIST(t, data, cache); l != 3 || len(entries(t, cache)) != 4 {
		t.Errorf("changing a source file: label %d (want 3), %d entries (want 4)", l, len(entries(t, cache)))
	}

	defer func(f int) { cacheFormat = f }(cacheFormat)
	cacheFormat++
	loadMNIST(t, data, cache)
	if n := len(entries(t, cache)); n != 5 {
		t.Errorf("a new format version: %d entries, want 5", n)
	}
}

// TestCacheCorrupt: a truncated or altered cache file is detected and the
// entry rebuilt, never used.
func TestCacheCorrupt(t *testing.T) {
	data, cache := copyMNIST(t), t.TempDir()
	want, _ := loadMNIST(t, data, cache)
	entry := filepath.Join(cache, entries(t, cache)[0])
	for _, damage := range []func(string){
		func(p string) { fi, _ := os.Stat(p); os.Truncate(p, fi.Size()/2) },
		func(p string) { b := must(os.ReadFile(p)); b[len(b)/2] ^= 0xff; os.WriteFile(p, b, 0o644) },
		func(p string) { os.Remove(p) },
	} {
		damage(filepath.Join(entry, "train.arrow"))
		if got, _ := loadMNIST(t, data, cache); got != want {
			t.Fatalf("a damaged entry gave %v, want %v", got, want)
		}
		if _, _, err := readCache(entry, mustKey(t, data, cache)); err != nil {
			t.Fatalf("the damaged entry was not rebuilt: %v", err)
		}
	}
}

func mustKey(t *testing.T, data, cache string) cacheKey {
	p, _ := Load("../specs/mnist_cnn.yaml")
	k, _, _, err := p.key(data, cache)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkMNISTLoad compares the first parse of MNIST (gunzip, decode,
// transforms) with a load from the Arrow cache.
func BenchmarkMNISTLoad(b *testing.B) {
	data := testdata.Dir(b, "mnist")
	p, err := Load("../specs/mnist_cnn.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		for range b.N {
			_, c, err := p.Data(data, "")
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	cache := b.TempDir()
	if _, c, err := p.Data(data, cache); err != nil {
		b.Fatal(err)
	} else {
		c.Close()
	}
	b.Run("cached", func(b *testing.B) {
		for range b.N {
			_, c, err := p.Data(data, cache)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

// TestStalePartialsRemoved: a killed writer's leftover older than a day
// is removed when the next entry is written; a fresh one (a live writer's)
// is not touched.
func TestStalePartialsRemoved(t *testing.T) {
	data, cache := copyMNIST(t), t.TempDir()
	stale, fresh := filepath.Join(cache, ".partial-stale"), filepath.Join(cache, ".partial-fresh")
	os.Mkdir(stale, 0o755)
	os.Mkdir(fresh, 0o755)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(stale, old, old)
	loadMNIST(t, data, cache)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale partial entry is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh partial entry was removed: %v", err)
	}
}
