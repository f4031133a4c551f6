package loaders_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

func TestMNISTReal(t *testing.T) {
	ds, err := (&loaders.MNIST{}).Load(testdata.Dir(t, "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 60000 || ds.Test.Len() != 10000 {
		t.Fatalf("got %d/%d examples, want 60000/10000", ds.Train.Len(), ds.Test.Len())
	}
	// The first training digit of MNIST is a 5, the first test digit a 7.
	if ds.Train.Y.Int[0] != 5 || ds.Test.Y.Int[0] != 7 {
		t.Errorf("first labels %d, %d; want 5, 7", ds.Train.Y.Int[0], ds.Test.Y.Int[0])
	}
	var maxPixel uint8
	for _, v := range ds.Train.X.Bytes[:784] {
		maxPixel = max(maxPixel, v)
	}
	if maxPixel != 255 {
		t.Errorf("max pixel of the first image is %v, want 255 (raw bytes)", maxPixel)
	}
}

// writeIDX writes an IDX file of unsigned bytes with the given header dims.
func writeIDX(t *testing.T, path string, rank byte, dims []uint32, data []byte, gz bool) {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, rank})
	for _, d := range dims {
		b.Write([]byte{byte(d >> 24), byte(d >> 16), byte(d >> 8), byte(d)})
	}
	b.Write(data)
	out := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(out)
		w.Close()
		out, path = z.Bytes(), path+".gz"
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMNISTCorrupt(t *testing.T) {
	images := make([]byte, 2*28*28)
	cases := []struct {
		name    string
		prepare func(dir string)
		want    string
	}{
		{"truncated images", func(dir string) {
			writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 3, []uint32{3, 28, 28}, images, false)
		}, "truncated: header promises 2352 bytes"},
		{"wrong magic", func(dir string) {
			writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 1, []uint32{2}, images[:2], true)
		}, "not an unsigned-byte IDX file of rank 3"},
		{"huge header, tiny file", func(dir string) {
			writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 3, []uint32{1 << 24, 1 << 12, 1 << 12}, images, false)
		}, "header promises"},
		{"missing labels", func(dir string) {
			writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 3, []uint32{2, 28, 28}, images, true)
		}, "train-labels-idx1-ubyte: file not found"},
		{"count mismatch", func(dir string) {
			writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 3, []uint32{2, 28, 28}, images, true)
			writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), 1, []uint32{3}, []byte{1, 2, 3}, true)
		}, "images (2) and labels (3) differ in count"},
		{"bad label", func(dir string) {
			writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), 3, []uint32{2, 28, 28}, images, true)
			writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), 1, []uint32{2}, []byte{1, 12}, true)
		}, "label 12 of example 1 is not a digit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "mnist")
			os.Mkdir(dir, 0o755)
			c.prepare(dir)
			_, err := (&loaders.MNIST{}).Load(root)
			var de *data.DataError
			if !errors.As(err, &de) {
				t.Fatalf("want a DataError, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q should name the file and contain %q", err, c.want)
			}
		})
	}
}
