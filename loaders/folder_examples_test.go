package loaders_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
)

// The example specs of testdata/examples read datasets that pipe does not
// ship as folders. These tests write such folders from the real MNIST and
// IMDB data, then validate and train the specs briefly through the
// library, as a user would run them: the point is that spec, loader,
// transforms and model fit together and learn, not a reference accuracy.

func writeFile(t *testing.T, path string, body []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// trainSpec loads a spec with overrides and trains it on dataDir.
func trainSpec(t *testing.T, spec, dataDir string, overrides ...string) map[string]float64 {
	t.Helper()
	p, err := pipeline.Load(spec, overrides...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Train(p, pipeline.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	t.Logf("%s: test %v after %.1f s of training", filepath.Base(spec), res.Test, res.Seconds)
	return res.Test
}

// TestDigitsFolderSpec writes the first 100 training digits of each class
// of MNIST as PNG files, DATA/digits/<digit>/<n>.png, and trains
// digits_folder_cnn on them (800 to train, 200 held out) for 5 epochs.
func TestDigitsFolderSpec(t *testing.T) {
	ds, err := (&loaders.MNIST{}).Load(testdata.Dir(t, "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	var written [10]int
	for i, y := range ds.Train.Y.Int {
		if written[y] == 100 {
			continue
		}
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(img.Pix, ds.Train.X.Bytes[i*784:(i+1)*784])
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dataDir, "digits", strconv.Itoa(int(y)), fmt.Sprintf("%d.png", written[y])), buf.Bytes())
		written[y]++
	}
	test := trainSpec(t, "../testdata/examples/digits_folder_cnn.yaml", dataDir, "train.epochs=5")
	// Chance is 0.1 over ten classes.
	if acc := test["accuracy"]; !(acc > 0.5) {
		t.Errorf("test accuracy %v after 5 epochs on 800 digits, want well above chance (0.1)", acc)
	}
}

// TestReviewsFolderSpec extracts the reviews with ids below 500 from each
// folder of the real aclImdb archive, in its own layout
// (DATA/reviews/{train,test}/{neg,pos}/), and trains reviews_folder on
// them: 1,000 reviews to train, 1,000 to test.
func TestReviewsFolderSpec(t *testing.T) {
	f, err := os.Open(filepath.Join(testdata.Dir(t, "imdb"), "imdb", "aclImdb_v1.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	review := regexp.MustCompile(`^aclImdb/((?:train|test)/(?:neg|pos))/(\d+)_\d+\.txt$`)
	tr := tar.NewReader(zr)
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		m := review.FindStringSubmatch(hdr.Name)
		if m == nil {
			continue
		}
		if id, _ := strconv.Atoi(m[2]); id >= 500 {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dataDir, "reviews", filepath.FromSlash(m[1]), filepath.Base(hdr.Name)), body)
		n++
	}
	if n != 2000 {
		t.Fatalf("extracted %d reviews, want 2,000", n)
	}
	test := trainSpec(t, "../testdata/examples/reviews_folder.yaml", dataDir)
	// Chance is 0.5: the classes are balanced.
	if acc := test["accuracy"]; !(acc > 0.65) {
		t.Errorf("test accuracy %v after 10 epochs on 1,000 reviews, want well above chance (0.5)", acc)
	}
}
