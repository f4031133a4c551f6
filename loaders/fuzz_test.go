package loaders

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pipedata "github.com/pipe-ml/pipe/data"
)

// The fuzz targets feed arbitrary bytes to each reader of a data format.
// A reader may reject its input, with an error, but must never panic or
// allocate far more than the input holds. Crashers found are kept in
// testdata/fuzz/<target>/ and run as regression tests by plain go test.

// fuzzFile writes data to a fresh file and returns its path.
func fuzzFile(t *testing.T, name string, data []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func FuzzIDX(f *testing.F) {
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0, 0, 2})
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 3, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzFile(t, "x-idx", data)
		for rank := 1; rank <= 3; rank++ {
			if im, err := readIDX(filepath.Dir(path), filepath.Base(path), rank); err == nil {
				size := 1
				for _, d := range im.dims {
					size *= d
				}
				if size != len(im.data) {
					t.Fatalf("dims %v but %d bytes", im.dims, len(im.data))
				}
			}
		}
	})
}

func FuzzCIFARBatch(f *testing.F) {
	f.Add(make([]byte, 3073))
	f.Add(append([]byte{12}, make([]byte, 3072)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzFile(t, "data_batch_1.bin", data)
		readCIFARSplit([]string{path})
	})
}

// fuzzRatingSources are the text configurations the ratings reader is
// fuzzed under: recommenderlab's CSV, GroupLens' u.data, and generic files
// with and without a header, quotes and timestamps.
var fuzzRatingSources = []*ratingSource{
	userItemRatingCSV(JesterScale),
	uData(),
	{format: formatText, delim: '\t', cols: [nRoles]string{"2", "0", "1", "3"}},
	{format: formatText, delim: ';', header: true, quotes: true, cols: [nRoles]string{"u", "i", "r", "t"}},
}

func FuzzRatingsCSV(f *testing.F) {
	f.Add([]byte("user,item,rating\nu1,j1,1.5\nu2,j1,-3\n"))
	f.Add([]byte("user,item,rating\n1,\"Toy Story, (1995)\",4\n"))
	f.Add([]byte("user,item,rating\nu1,j1,NaN\n"))
	f.Add([]byte("196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t881250949\n"))
	f.Add([]byte("i;u;r;t\n\"a;b\";x;2.5;2024-01-02\ny;z;1;2024-01-01 10:00:00\n"))
	f.Add([]byte("\ufeffu;i;r;t\r\n1;2;3;4\r\n\r\n1;3;3;4\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, src := range fuzzRatingSources {
			check := &ratingChecker{src: src, seen: map[uint64]uint64{}, files: []string{"fuzz.csv"}}
			rs, err := src.parseText("fuzz.csv", bytes.NewReader(data), check)
			if err != nil {
				var de *pipedata.DataError
				if !errors.As(err, &de) || !strings.HasPrefix(de.Path, "fuzz.csv") {
					t.Fatalf("error %v does not name the file", err)
				}
				continue
			}
			pairs := map[[2]string]bool{}
			for _, r := range rs {
				v := float64(r.Value)
				if math.IsNaN(v) || math.IsInf(v, 0) || src.scale != nil && (r.Value < src.scale[0] || r.Value > src.scale[1]) {
					t.Fatalf("rating %v outside the scale %v was accepted", r.Value, src.scale)
				}
				if r.User == "" || r.Item == "" {
					t.Fatalf("empty id accepted: %+v", r)
				}
				if pairs[[2]string{r.User, r.Item}] {
					t.Fatalf("duplicate pair accepted: %+v", r)
				}
				pairs[[2]string{r.User, r.Item}] = true
			}
			if len(rs) == 0 {
				continue
			}
			// Whatever the reader accepts, each split partitions it.
			for _, split := range []splitter{&kFoldSplit{k: 2, fold: 1, seed: 3}, &perUserSplit{fraction: 0.5, seed: 3}, &leaveLastOutSplit{n: 1}} {
				marks, err := split.holdOut(&splitInput{ratings: rs, timestamps: true})
				if err != nil {
					continue // too few ratings for two folds
				}
				if len(marks) != len(rs) {
					t.Fatalf("%T marked %d of %d ratings", split, len(marks), len(rs))
				}
			}
		}
	})
}

// imdbArchiveBytes builds a small aclImdb tar.gz.
func imdbArchiveBytes(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func FuzzIMDBArchive(f *testing.F) {
	f.Add(imdbArchiveBytes(map[string]string{
		"aclImdb/train/pos/0_9.txt": "A fine film.<br />Great.", "aclImdb/train/neg/0_2.txt": "Bad, bad film.",
		"aclImdb/test/pos/0_8.txt": "Good.", "aclImdb/test/neg/0_1.txt": "Awful!",
	}))
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzFile(t, "aclImdb_v1.tar.gz", data)
		readIMDBArchive(path, newTextVocab(), true)
	})
}
