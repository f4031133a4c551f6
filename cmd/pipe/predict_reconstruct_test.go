package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestPredictReconstructions: predict on a denoising autoencoder's run
// writes each input's reconstruction as a PNG, and all of them as Arrow,
// into the folder -o names (made when missing), says where, and refuses
// to overwrite them; without -o it says to give one.
func TestPredictReconstructions(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	dir, _ := trainedRun(t, data, "../../specs/mnist_denoising_autoencoder.yaml",
		"--set", "data.train_limit=256", "--set", "data.test_limit=16", "--set", "train.epochs=1")
	if _, err := os.Stat(filepath.Join(dir, "reconstructions.png")); err != nil {
		t.Errorf("the run drew no reconstructions: %v", err)
	}
	digit := filepath.Join(t.TempDir(), "digit.png")
	f, _ := os.Create(digit)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 28, 28)))
	f.Close()
	code, out, stderr := pipeCmd(t, "predict", dir, digit)
	if code != exitUsage || out != "" || !strings.Contains(stderr, "mnist_denoising_autoencoder reconstructs images: give -o DIR") {
		t.Errorf("predict without -o: exit %d, %q %s", code, out, stderr)
	}
	folder := filepath.Join(t.TempDir(), "out")
	code, out, stderr = pipeCmd(t, "predict", "-o", folder, dir, digit)
	png1, arrow := filepath.Join(folder, "digit.png"), filepath.Join(folder, "reconstructions.arrow")
	if want := digit + ": reconstruction in " + png1 + "\n1 reconstruction(s) as values in " + arrow + "\n"; code != 0 || out != want {
		t.Fatalf("predict -o: exit %d, %q %s; want %q", code, out, stderr, want)
	}
	f, err := os.Open(png1)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Width != 28 || cfg.Height != 28 {
		t.Errorf("%s: %v %dx%d", png1, err, cfg.Width, cfg.Height)
	}
	if st, err := os.Stat(arrow); err != nil || st.Size() == 0 {
		t.Errorf("%s: %v", arrow, err)
	}
	code, out, stderr = pipeCmd(t, "predict", "-o", folder, dir, digit)
	if code != exitUsage || out != "" || !strings.Contains(stderr, arrow+" exists: pipe predict does not overwrite files") {
		t.Errorf("predict -o again: exit %d, %q %s", code, out, stderr)
	}
}
