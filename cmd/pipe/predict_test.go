package main

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runDirOf makes a run directory holding only the resolved spec: enough
// for what predict checks before it loads a model.
func runDirOf(t *testing.T, spec string) string {
	t.Helper()
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// encoded is img in the format of encode.
func encoded(t *testing.T, encode func(*bytes.Buffer, image.Image) error) string {
	var buf bytes.Buffer
	if err := encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestPredictWrongKind: an input of the wrong kind — an image for the
// IMDB model (it used to be read as a review and get a probability), a
// review or another format for an image model, text that is not UTF-8 —
// is a bad command line (exit 2) saying what it is and what the run takes,
// from a file or from stdin.
func TestPredictWrongKind(t *testing.T) {
	photo := encoded(t, func(b *bytes.Buffer, img image.Image) error { return jpeg.Encode(b, img, nil) })
	anim := encoded(t, func(b *bytes.Buffer, img image.Image) error { return gif.Encode(b, img, nil) })
	imdb, mnist, cifar := runDirOf(t, "../../specs/imdb_lstm.yaml"), runDirOf(t, "../../specs/mnist_cnn.yaml"), runDirOf(t, "../../specs/cifar10_cnn.yaml")
	ratings := runDirOf(t, "../../specs/cf/movielense_knn.yaml")
	for _, c := range []struct {
		run, name, content, want string
	}{
		{imdb, "photo.jpg", photo, "photo.jpg: a JPEG image, but the model takes a review, UTF-8 text (run " + imdb + ", loader imdb)"},
		{imdb, "latin1.txt", "Un film tr\xe8s beau", "latin1.txt: text that is not valid UTF-8 (Latin-1 or another encoding: save it as UTF-8), but the model takes a review"},
		{imdb, "utf16.txt", "\xff\xfeG\x00o\x00o\x00d\x00", "utf16.txt: UTF-16 text (save it as UTF-8)"},
		{imdb, "empty.txt", "", "empty.txt: an empty file, but the model takes a review"},
		{imdb, "paper.pdf", "%PDF-1.4\n\x00\x01binary", "paper.pdf: binary data (application/pdf), but the model takes a review"},
		{mnist, "review.txt", "A wonderful film.", "review.txt: text, but the model takes a 28x28 PNG or JPEG image"},
		{mnist, "digit.gif", anim, "digit.gif: an image of type image/gif (pipe reads PNG and JPEG), but the model takes a 28x28 PNG or JPEG image"},
		{cifar, "review.txt", "A wonderful film.", "review.txt: text, but the model takes a 32x32 PNG or JPEG image"},
		{ratings, "me.jpg", photo, "me.jpg: a JPEG image, but the model takes one user's ratings, a CSV file of item,rating lines"},
	} {
		code, out, stderr := pipeCmd(t, "predict", c.run, writeFile(t, c.name, c.content))
		if code != exitUsage || !strings.Contains(stderr, c.want) || out != "" {
			t.Errorf("%s for %s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.name, c.run, code, out, stderr, exitUsage, c.want)
		}
	}
	code, _, stderr := pipeCmdIn(t, photo, "predict", imdb, "-")
	if want := "stdin: a JPEG image, but the model takes a review"; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("a JPEG on stdin: exit %d, %q; want %q", code, stderr, want)
	}
	code, _, stderr = pipeCmdIn(t, "Good.", "predict", imdb, "-", "-")
	if want := "- (stdin) can be given once"; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("stdin twice: exit %d, %q; want %q", code, stderr, want)
	}
	code, _, stderr = pipeCmd(t, "predict", imdb, filepath.Join(t.TempDir(), "nothing.txt"))
	if want := "nothing.txt: file not found"; code != exitData || !strings.Contains(stderr, want) {
		t.Errorf("a missing input: exit %d, %q; want %q", code, stderr, want)
	}
}
