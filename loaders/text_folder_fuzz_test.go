package loaders

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// treeTar packs files into an uncompressed tar, which the fuzzer can
// mutate without breaking a gzip checksum first.
func treeTar(files map[string][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	tw.Close()
	return buf.Bytes()
}

// FuzzTextFolderArchive feeds arbitrary bytes to text_folder as a .tar
// and as a .tar.gz, in both layouts: an error is fine, a panic is not,
// and what loads must be well formed.
func FuzzTextFolderArchive(f *testing.F) {
	own := map[string][]byte{"top/train/a/0.txt": []byte("Good film."), "top/train/b/1.txt": []byte("Bad<br />film"), "top/test/a/2.txt": []byte("ok"), "top/test/b/3.txt": []byte("no")}
	flat := map[string][]byte{"top/a/0.txt": []byte("one two"), "top/a/1.txt": []byte("two"), "top/b/0.txt": []byte("three"), "top/b/1.txt": []byte("four")}
	for _, files := range []map[string][]byte{own, flat} {
		f.Add(treeTar(files))
		f.Add(treeArchive(files))
	}
	f.Add([]byte("not an archive"))
	// One folder per fuzzing process, its files rewritten by each call
	// (calls within a process are serial): a fresh t.TempDir per call
	// made the file system, not the loader, the bottleneck.
	dataDir := f.TempDir()
	f.Fuzz(func(t *testing.T, archive []byte) {
		for _, name := range []string{"x.tar", "x.tar.gz"} {
			if err := os.WriteFile(filepath.Join(dataDir, name), archive, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, fraction := range []float64{0, 0.5} {
				cfg := &TextFolder{Path: name, Root: "top", NumWords: 6, WordIndex: "train", StripBR: true, FolderSplit: FolderSplit{TestFraction: fraction, SplitSeed: 1, Stratify: true}}
				ds, err := cfg.Load(dataDir)
				if err != nil {
					continue
				}
				for _, s := range []struct {
					x, y []int32
					off  []int
				}{{ds.Train.X.Int, ds.Train.Y.Int, ds.Train.X.Offsets}, {ds.Test.X.Int, ds.Test.Y.Int, ds.Test.X.Offsets}} {
					if len(s.off) != len(s.y)+1 || s.off[0] != 0 || s.off[len(s.off)-1] != len(s.x) {
						t.Fatalf("offsets %v for %d labels and %d indices", s.off, len(s.y), len(s.x))
					}
					for i := range s.y {
						if s.y[i] < 0 || int(s.y[i]) >= len(ds.Classes) || s.off[i+1] <= s.off[i] || s.x[s.off[i]] != textStart {
							t.Fatalf("example %d: label %d of %d classes, offsets %d..%d", i, s.y[i], len(ds.Classes), s.off[i], s.off[i+1])
						}
					}
					for _, w := range s.x {
						if w < textStart || w >= 6 {
							t.Fatalf("index %d outside 1..5 with num_words 6", w)
						}
					}
				}
			}
		}
	})
}

// FuzzNaturalCompare: the order of file names is total and consistent,
// so that sorting them is deterministic.
func FuzzNaturalCompare(f *testing.F) {
	f.Add("2.png", "10.png", "02.png")
	f.Add("a1b", "a01b", "a1")
	f.Add("0_3.txt", "10_1.txt", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := naturalCompare(a, b), naturalCompare(b, a)
		if ab != -ba || (ab == 0) != (a == b) {
			t.Fatalf("compare(%q, %q) = %d but compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if ab <= 0 && naturalCompare(b, c) <= 0 && naturalCompare(a, c) > 0 {
			t.Fatalf("%q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
	})
}
