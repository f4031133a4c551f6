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

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/internal/testruns"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
)

// mnistDigits returns the first n MNIST test digits as PNG files and as
// their raw pixels.
func mnistDigits(t *testing.T, dataDir string, n int) (paths []string, pixels [][]float64) {
	t.Helper()
	ds, err := (&loaders.MNIST{}).Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		px := make([]float64, 784)
		for j, v := range ds.Test.X.Bytes[i*784 : (i+1)*784] {
			img.Pix[j], px[j] = v, float64(v)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "digit"+string(rune('a'+i))+".png")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths, pixels = append(paths, path), append(pixels, px)
	}
	return paths, pixels
}

// TestPredictorImages loads an MNIST run once and checks that its
// predictions equal PredictRun's (one model call per file), to the bit
// alone and within batchTolerance in batches of every padded size, for PNG
// bytes and for raw pixels; that the model calls are counted; and that bad
// inputs are InputErrors that name the field.
func TestPredictorImages(t *testing.T) {
	dataDir := testdata.Dir(t, "mnist")
	dir := testruns.Train(t, t.TempDir(), "mnist", "../specs/mnist_cnn.yaml",
		"data.train_limit=256", "data.test_limit=64", "train.epochs=1")
	paths, pixels := mnistDigits(t, dataDir, 7)
	opt := pipeline.Options{DataDir: dataDir}
	_, want, err := pipeline.PredictRun(dir, paths, nil, opt)
	if err != nil {
		t.Fatal(err)
	}

	pr, err := pipeline.NewPredictor(dir, opt, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if pr.Kind != pipeline.InputImage || pr.Width != 10 || pr.MaxBatch != 4 || !slices.Equal(pr.Raw.Shape, []int{28, 28}) {
		t.Errorf("kind %s, width %d, batch %d, raw %v; want image, 10, 4, [28 28]", pr.Kind, pr.Width, pr.MaxBatch, pr.Raw.Shape)
	}
	if !slices.Equal(pr.Classes, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {
		t.Errorf("classes %q, want the digits", pr.Classes)
	}
	var fromPNG, fromPixels []data.Array
	for i, path := range paths {
		b, _ := os.ReadFile(path)
		x, err := pr.Decode("png", b)
		if err != nil {
			t.Fatal(err)
		}
		y, err := pr.FromPixels("pixels", pixels[i])
		if err != nil {
			t.Fatal(err)
		}
		fromPNG, fromPixels = append(fromPNG, x), append(fromPixels, y)
	}
	// 7 examples with at most 4 a call: a call of 4 and one of 3 padded
	// to 4; then every size alone, 1..4 (4 calls), padded to 1, 2, 4, 4.
	// A call of one example is predict's call: the same bits. A larger
	// call may take another matmul kernel of the Go backend (it picks a
	// blocked one above 4M multiply-adds), which sums in another order:
	// the same class, probabilities within batchTolerance.
	check := func(what string, xs []data.Array, from int) {
		t.Helper()
		got, err := pr.Predict(xs)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for i, g := range got {
			w := want[from+i].Outputs
			if len(xs) == 1 && !slices.Equal(g, w) {
				t.Errorf("%s: example %d: %v, predict gives %v; want the same bits", what, from+i, g, w)
			}
			if d := maxDiff(g, w); d > batchTolerance || evaluators.Argmax(g) != evaluators.Argmax(w) {
				t.Errorf("%s: example %d: %v, predict gives %v (%g apart)", what, from+i, g, w, d)
			}
		}
	}
	check("png, all", fromPNG, 0)
	check("pixels, all", fromPixels, 0)
	for n := 1; n <= 4; n++ {
		check("pixels, a batch of "+string(rune('0'+n)), fromPixels[:n], 0)
	}
	if batches, examples := pr.Stats(); batches != 2+2+4 || examples != 7+7+1+2+3+4 {
		t.Errorf("stats: %d model calls for %d examples; want 8 and 24", batches, examples)
	}

	for _, c := range []struct {
		decode func() (data.Array, error)
		want   string
	}{
		{func() (data.Array, error) { return pr.Decode("instances[2].image", []byte("not a png")) }, "instances[2].image: text, but the model takes a 28x28 PNG or JPEG image"},
		{func() (data.Array, error) { return pr.FromPixels("instances[0].pixels", make([]float64, 783)) }, "instances[0].pixels: 783 values, the model takes 784 (28x28)"},
		{func() (data.Array, error) {
			return pr.FromPixels("instances[1].pixels", append(make([]float64, 783), 256))
		}, "instances[1].pixels: value 783 is 256, outside 0..255"},
		{func() (data.Array, error) {
			// MNIST keeps pixels as bytes, as a PNG has them.
			return pr.FromPixels("instances[4].pixels", append(make([]float64, 783), 12.5))
		}, "instances[4].pixels: value 783 is 12.5, not a whole number 0..255"},
		{func() (data.Array, error) {
			var b bytes.Buffer
			png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)))
			return pr.Decode("instances[3].image", b.Bytes())
		}, "instances[3].image: image is 8x8, the model takes 28x28"},
	} {
		_, err := c.decode()
		var ie *pipeline.InputError
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), c.want) || !strings.HasPrefix(c.want, ie.Field+":") {
			t.Errorf("got %v, want an InputError starting %q", err, c.want)
		}
	}
	if _, err := pr.UserRatings("instances[0].ratings", map[string]float64{"x": 1}); err == nil {
		t.Errorf("an image model took a user's ratings")
	}
}

// batchTolerance bounds how far a batched prediction may be from one made
// alone: float32 sums of a few hundred terms in another order.
const batchTolerance = 1e-6

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestPredictorRatings: a matrix factorisation run answers a user's
// ratings with the items and ratings predict gives for the same ratings
// in a file, and refuses an unknown item naming the field.
func TestPredictorRatings(t *testing.T) {
	dataDir := testdata.Dir(t, "movielense")
	dir := testruns.Train(t, t.TempDir(), "movielense", "../specs/cf/movielense_mf.yaml", "model.epochs=2", "model.factors=8")
	csv := filepath.Join(t.TempDir(), "me.csv")
	os.WriteFile(csv, []byte("item,rating\nStar Wars (1977),5\n\"Empire Strikes Back, The (1980)\",4.5\nFargo (1996),2\n"), 0o644)
	opt := pipeline.Options{DataDir: dataDir}
	_, want, err := pipeline.PredictRun(dir, []string{csv}, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := pipeline.NewPredictor(dir, opt, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if pr.Kind != pipeline.InputRatings || pr.RatingInfo() == nil || len(pr.RatingInfo().Items) != 1664 {
		t.Fatalf("kind %s; want ratings over MovieLense's 1,664 items", pr.Kind)
	}
	ratings, err := pr.UserRatings("instances[0].ratings", map[string]float64{"Star Wars (1977)": 5, "Empire Strikes Back, The (1980)": 4.5, "Fargo (1996)": 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := pr.PredictUser("instances[0]", ratings)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Items, want[0].Items) || !slices.Equal(got.Outputs, want[0].Outputs) || got.Rated != 3 || got.Fallbacks != want[0].Fallbacks {
		t.Errorf("served %d items (first %q), predict %d (first %q); rated %d", len(got.Items), got.Items[:3], len(want[0].Items), want[0].Items[:3], got.Rated)
	}
	_, err = pr.UserRatings("instances[1].ratings", map[string]float64{"Star Wars": 5})
	var ie *pipeline.InputError
	if !errors.As(err, &ie) || ie.Field != "instances[1].ratings" || !strings.Contains(err.Error(), `item "Star Wars" is not an item of the dataset (did you mean "Star Wars (1977)"?)`) {
		t.Errorf("an unknown item: %v", err)
	}
	if _, err := pr.Decode("instances[0].image", []byte("x")); err == nil {
		t.Errorf("a rating model took bytes")
	}
}
