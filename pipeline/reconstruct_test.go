package pipeline_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
)

const denoisingSpec = "../specs/mnist_denoising_autoencoder.yaml"

// TestDenoisingAutoencoderParams: Keras' mnist_denoising_autoencoder has
// 178,001 parameters, its encoder's 69,008 and decoder's 108,993 (the
// spec's comment derives each layer's count).
func TestDenoisingAutoencoderParams(t *testing.T) {
	p, err := pipeline.Load(denoisingSpec)
	if err != nil {
		t.Fatal(err)
	}
	var per []int
	for _, s := range p.Stages {
		per = append(per, s.NParams)
	}
	if want := []int{320, 18496, 0, 50192, 53312, 0, 36928, 18464, 289, 0}; p.Params() != 178001 || !slices.Equal(per, want) {
		t.Errorf("%d parameters, per layer %v; want 178,001, %v", p.Params(), per, want)
	}
	if h, w, c, ok := p.ReconstructsImages(); !ok || h != 28 || w != 28 || c != 1 {
		t.Errorf("ReconstructsImages = %d, %d, %d, %v; want 28x28x1 images", h, w, c, ok)
	}
	if _, _, _, ok := smallMNIST(t, 1, 1, 1).ReconstructsImages(); ok {
		t.Error("the MNIST classifier reconstructs images")
	}
}

// TestDenoisingTarget: what the denoising autoencoder trains against is
// the clean digit (the loader's pixels / 255), while its input is that
// digit with noise N(0.5, 0.5²) clipped to [0, 1].
func TestDenoisingTarget(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	p, err := pipeline.Load(denoisingSpec)
	if err != nil {
		t.Fatal(err)
	}
	p.TrainLimit, p.TestLimit = 200, 50
	ds, closer, err := p.Data(data, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	raw, err := (&loaders.MNIST{}).Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []float32 // the split's x and y
		want []uint8   // the loader's pixels
		n    int
	}{{"train", nil, raw.Train.X.Bytes, 200}, {"test", nil, raw.Test.X.Bytes, 50}} {
		split := &ds.Train
		if c.name == "test" {
			split = &ds.Test
		}
		if split.Len() != c.n || !slices.Equal(split.X.Shape, []int{28, 28, 1}) || !slices.Equal(split.Y.Shape, []int{28, 28, 1}) {
			t.Fatalf("%s: %d examples %s -> %s; want %d of 28x28x1 -> 28x28x1", c.name, split.Len(), split.X.Schema, split.Y.Schema, c.n)
		}
		var sum float64
		var background, changed int
		for i, y := range split.Y.Float {
			if clean := float32(c.want[i]) / 255; math.Abs(float64(y-clean)) > 1e-6 {
				t.Fatalf("%s: label value %d is %v, the clean pixel %v", c.name, i, y, clean)
			}
			x := split.X.Float[i]
			if x < 0 || x > 1 {
				t.Fatalf("%s: input value %d is %v, outside the clip [0, 1]", c.name, i, x)
			}
			if x != y {
				changed++
			}
			if y == 0 {
				sum += float64(x)
				background++
			}
		}
		// On the black background the input is the noise clipped to
		// [0, 1]: N(0.5, 0.5²) is symmetric about 0.5, so its mean stays;
		// the 16% of it below 0 leaves the pixel black.
		if mean := sum / float64(background); math.Abs(mean-0.5) > 0.02 || changed < len(split.Y.Float)*3/4 {
			t.Errorf("%s: %d of %d inputs differ from the labels, mean %.4f on the background; want noise of mean 0.5 on most", c.name, changed, len(split.Y.Float), mean)
		}
	}
}

// TestReconstructions trains the denoising autoencoder briefly: its run
// directory draws test inputs beside their reconstructions and clean
// targets (and has no class predictions), and predict's reconstructions
// go to PNG files and an Arrow file that are never overwritten.
func TestReconstructions(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	p, err := pipeline.Load(denoisingSpec)
	if err != nil {
		t.Fatal(err)
	}
	p.TrainLimit, p.TestLimit, p.Train.Epochs = 256, 16, 1
	res, err := pipeline.Run(p, pipeline.Options{DataDir: data, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(res.Dir, "reconstructions.png"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	// Three columns of 8 digits drawn 4 times their size: see rundir.
	if err != nil || cfg.Width != 368 || cfg.Height != 996 {
		t.Errorf("reconstructions.png: %v, %dx%d; want 368x996", err, cfg.Width, cfg.Height)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "predictions.arrow")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an autoencoder's run has predictions.arrow (%v): its outputs are no classes", err)
	}

	digit := filepath.Join(t.TempDir(), "digit.png")
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 256)
	}
	w, _ := os.Create(digit)
	png.Encode(w, img)
	w.Close()
	plan, preds, err := pipeline.PredictRun(res.Dir, []string{digit, digit}, nil, pipeline.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "new", "folder")
	paths, err := plan.WriteReconstructions(out, preds)
	want := []string{filepath.Join(out, "reconstructions.arrow"), filepath.Join(out, "digit.png"), filepath.Join(out, "digit-2.png")}
	if err != nil || !slices.Equal(paths, want) {
		t.Fatalf("WriteReconstructions: %v, %v; want %v", paths, err, want)
	}
	before, _ := os.ReadFile(want[1])
	got, err := png.Decode(bytes.NewReader(before))
	if err != nil || got.Bounds().Dx() != 28 || got.Bounds().Dy() != 28 {
		t.Fatalf("digit.png: %v", err)
	}
	// The PNG is the model's output * 255 (the spec's scale undone).
	for _, i := range []int{0, 300, 783} {
		if g, w := got.(*image.Gray).Pix[i], uint8(math.Round(float64(preds[0].Outputs[i])*255)); g != w {
			t.Errorf("pixel %d is %d; the output %v makes %d", i, g, preds[0].Outputs[i], w)
		}
	}
	os.Remove(want[0])
	_, err = plan.WriteReconstructions(out, preds[:1])
	var pe *pipeline.PredictError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), want[1]+" exists") {
		t.Errorf("writing over digit.png: %v; want a PredictError naming it", err)
	}
	if after, _ := os.ReadFile(want[1]); !slices.Equal(after, before) {
		t.Error("digit.png changed")
	}
	if _, err := os.Stat(want[0]); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused write wrote reconstructions.arrow")
	}
}
