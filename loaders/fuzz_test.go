package loaders

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
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

func FuzzRatingsCSV(f *testing.F) {
	f.Add([]byte("user,item,rating\nu1,j1,1.5\nu2,j1,-3\n"))
	f.Add([]byte("user,item,rating\n1,\"Toy Story, (1995)\",4\n"))
	f.Add([]byte("user,item,rating\nu1,j1,NaN\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzFile(t, "ratings.csv", data)
		if rs, err := readRatingsCSV(path, [2]float32{-10, 10}); err == nil {
			for _, r := range rs {
				if !(r.Value >= -10 && r.Value <= 10) {
					t.Fatalf("rating %v outside the scale was accepted", r.Value)
				}
			}
		}
		readUData(path, [2]float32{1, 5})
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
