package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

func TestCIFAR10Real(t *testing.T) {
	dataDir := testdata.Dir(t, "cifar10")
	start := time.Now()
	ds, err := (&CIFAR10{}).Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded CIFAR-10 in %v", time.Since(start))

	wantX, wantY := (&CIFAR10{}).Schemas()
	for name, s := range map[string]*data.Split{"train": &ds.Train, "test": &ds.Test} {
		if !slices.Equal(s.X.Shape, wantX.Shape) || !slices.Equal(s.Y.Shape, wantY.Shape) || s.X.DType != data.Uint8 || s.Y.DType != data.Int32 || len(s.X.Bytes) != s.X.Len()*3072 {
			t.Errorf("%s: schemas %s -> %s, declared %s -> %s", name, s.X.Schema, s.Y.Schema, wantX, wantY)
		}
	}
	if n := ds.Train.Len(); n != 50000 {
		t.Errorf("train has %d examples, want 50,000", n)
	}
	if n := ds.Test.Len(); n != 10000 {
		t.Errorf("test has %d examples, want 10,000", n)
	}
	wantClasses := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	if !slices.Equal(ds.Classes, wantClasses) {
		t.Errorf("classes %q, want %q", ds.Classes, wantClasses)
	}
	if ds.Train.Y.Int[0] != 6 { // the first training image of CIFAR-10 is a frog
		t.Errorf("first training label %d, want 6 (frog)", ds.Train.Y.Int[0])
	}
	var counts [10]int
	for _, c := range ds.Train.Y.Int[:10000] {
		counts[c]++
	}
	if want := [10]int{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}; counts != want {
		t.Errorf("data_batch_1 class counts %v, want %v", counts, want)
	}

	// Pixels against the raw planar bytes, read here independently: record
	// i is at i*3073; its label byte, then 1024 R, 1024 G, 1024 B bytes,
	// each plane row-major. The loader's X is HWC: (row*32 + col)*3 + channel.
	dir := filepath.Join(dataDir, "cifar10", "cifar-10-batches-bin")
	for _, c := range []struct {
		file                      string
		split                     *data.Split
		first                     int // index in the split of the file's record 0
		record, row, col, channel int
	}{
		{"data_batch_1.bin", &ds.Train, 0, 0, 0, 0, 0},
		{"data_batch_1.bin", &ds.Train, 0, 3, 17, 5, 1},
		{"data_batch_3.bin", &ds.Train, 20000, 1234, 31, 30, 2},
		{"data_batch_5.bin", &ds.Train, 40000, 9999, 31, 31, 2},
		{"test_batch.bin", &ds.Test, 0, 9999, 8, 21, 1},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		rec := raw[c.record*3073:]
		want := rec[1+c.channel*1024+c.row*32+c.col]
		i := c.first + c.record
		got := c.split.X.Bytes[i*3072+(c.row*32+c.col)*3+c.channel]
		if got != want {
			t.Errorf("%s record %d pixel (row %d, col %d, channel %d) = %v, raw byte %d", c.file, c.record, c.row, c.col, c.channel, got, want)
		}
		if c.split.Y.Int[i] != int32(rec[0]) {
			t.Errorf("%s record %d label %d, raw byte %d", c.file, c.record, c.split.Y.Int[i], rec[0])
		}
	}
}

// fakeCIFAR writes a CIFAR-10 folder of valid files (all zeros) into a
// temporary data directory, then replaces the file named bad with size zero
// bytes overwritten by data at offset at, or removes it when size is
// negative. Zero-filled files are made by Truncate, which writes nothing.
func fakeCIFAR(t *testing.T, bad string, size int64, data []byte, at int64) string {
	t.Helper()
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, "cifar10", "cifar-10-batches-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, size int64, data []byte, at int64) {
		path := filepath.Join(dir, name)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if size < 0 {
			return
		}
		f, err := os.Create(path)
		if err == nil {
			err = f.Truncate(size)
		}
		if err == nil && data != nil {
			_, err = f.WriteAt(data, at)
		}
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("batches.meta.txt", 0, []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"), 0)
	for _, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		write(name, 10000*3073, nil, 0)
	}
	write(bad, size, data, at)
	return dataDir
}

func TestCIFAR10Corrupt(t *testing.T) {
	for _, c := range []struct {
		name, file string
		size       int64 // of the zero-filled file; negative: missing
		data       []byte
		at         int64 // where data overwrites the zeros
		want       string
	}{
		{"truncated", "data_batch_3.bin", 10000*3073 - 100, nil, 0, "not a whole number of 3073-byte records"},
		{"one record short", "test_batch.bin", 9999 * 3073, nil, 0, "has 9999 records, want 10000"},
		{"empty", "data_batch_1.bin", 0, nil, 0, "has 0 records, want 10000"},
		{"label out of range", "data_batch_4.bin", 10000 * 3073, []byte{10}, 5 * 3073, "label 10 of record 5"},
		{"missing batch", "data_batch_2.bin", -1, nil, 0, "file not found"},
		{"missing meta", "batches.meta.txt", -1, nil, 0, "file not found"},
		{"short meta", "batches.meta.txt", 0, []byte("cat\ndog\n"), 0, "has 2 class names, want 10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&CIFAR10{}).Load(fakeCIFAR(t, c.file, c.size, c.data, c.at))
			var de *data.DataError
			if !errors.As(err, &de) {
				t.Fatalf("got error %v (%T), want a *DataError", err, err)
			}
			if filepath.Base(de.Path) != c.file || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want a DataError on %s saying %q", err, c.file, c.want)
			}
		})
	}
}

func TestCIFAR10NoDataDir(t *testing.T) {
	_, err := (&CIFAR10{}).Load(t.TempDir())
	var de *data.DataError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "PIPE_DATA") {
		t.Errorf("got %v, want a DataError that says how to point pipe at the data", err)
	}
}
