package serve_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/internal/testruns"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/serve"
)

// runsRoot holds the runs the tests train, once for the whole package:
// training is most of the time these tests take.
var runsRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pipe-serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runsRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var trainedRuns = struct {
	sync.Mutex
	dirs map[string]string
}{dirs: map[string]string{}}

// trained returns the run directory of a small run of spec, training it
// the first time a test asks.
func trained(t *testing.T, name, dataset, spec string, sets ...string) string {
	t.Helper()
	trainedRuns.Lock()
	defer trainedRuns.Unlock()
	if dir, ok := trainedRuns.dirs[name]; ok {
		return dir
	}
	dir := testruns.Train(t, filepath.Join(runsRoot, name), dataset, spec, sets...)
	trainedRuns.dirs[name] = dir
	return dir
}

// mnistRun is the course CNN trained for one epoch on 256 digits.
func mnistRun(t *testing.T) string {
	return trained(t, "mnist", "mnist", "../specs/mnist_cnn.yaml", "data.train_limit=256", "data.test_limit=64", "train.epochs=1")
}

// digit is one MNIST test image as a PNG file and as its pixels, with the
// prediction `pipe predict` gives for the file.
type digit struct {
	path   string
	png    []byte
	pixels []float64
	want   []float32
}

// mnistDigits returns the first n test digits with PredictRun's outputs
// for their PNG files.
func mnistDigits(t *testing.T, run string, n int) []digit {
	t.Helper()
	dataDir := testdata.Dir(t, "mnist")
	ds, err := (&loaders.MNIST{}).Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var digits []digit
	var paths []string
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		d := digit{pixels: make([]float64, 784), path: filepath.Join(dir, fmt.Sprintf("digit%d.png", i))}
		for j, v := range ds.Test.X.Bytes[i*784 : (i+1)*784] {
			img.Pix[j], d.pixels[j] = v, float64(v)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		d.png = b.Bytes()
		if err := os.WriteFile(d.path, d.png, 0o644); err != nil {
			t.Fatal(err)
		}
		digits, paths = append(digits, d), append(paths, d.path)
	}
	_, preds, err := pipeline.PredictRun(run, paths, nil, pipeline.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range digits {
		digits[i].want = preds[i].Outputs
	}
	return digits
}

// startServer serves the run on 127.0.0.1 (httptest) with cfg's limits and
// at most maxBatch examples a model call.
func startServer(t *testing.T, run, dataset string, maxBatch int, cfg serve.Config) (*httptest.Server, *pipeline.Predictor) {
	t.Helper()
	pred, err := pipeline.NewPredictor(run, pipeline.Options{DataDir: testdata.Dir(t, dataset)}, maxBatch)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log == nil {
		cfg.Log = testLogger(t)
	}
	srv := serve.New(pred, cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
		pred.Close()
	})
	return ts, pred
}

// response is any answer of the server, decoded.
type response struct {
	Predictions []struct {
		Class         *int      `json:"class"`
		ClassName     string    `json:"class_name"`
		Probabilities []float32 `json:"probabilities"`
		Value         *float32  `json:"value"`
		Items         []struct {
			Item   string  `json:"item"`
			Rating float32 `json:"rating"`
		} `json:"items"`
		Rated     *int `json:"rated"`
		Fallbacks *int `json:"fallbacks"`
	} `json:"predictions"`
	Error string `json:"error"`
	Field string `json:"field"`
}

// post sends body to /v1/predict and decodes the answer; every answer,
// an error's too, must be JSON.
func post(t *testing.T, client *http.Client, url string, body []byte) (int, response) {
	t.Helper()
	resp, err := client.Post(url+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Errorf("POST /v1/predict: %v", err) // not Fatal: called from the goroutines of concurrent requests too
		return 0, response{}
	}
	defer resp.Body.Close()
	return decodeResponse(t, resp)
}

func decodeResponse(t *testing.T, resp *http.Response) (int, response) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("reading the answer: %v", err)
		return 0, response{}
	}
	var r response
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json (body %s)", ct, b)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Errorf("the answer is not JSON: %v: %s", err, b)
	}
	return resp.StatusCode, r
}

// instancesBody is {"instances": [...]} of the given instances.
func instancesBody(t *testing.T, instances ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"instances": instances})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func imageInstance(png []byte) map[string]any {
	return map[string]any{"image": base64.StdEncoding.EncodeToString(png)}
}

func pixelsInstance(px []float64) map[string]any { return map[string]any{"pixels": px} }

// nestedPixels is px as 28 rows of 28.
func nestedPixels(px []float64) map[string]any {
	rows := make([][]float64, 28)
	for i := range rows {
		rows[i] = px[i*28 : (i+1)*28]
	}
	return map[string]any{"pixels": rows}
}

// batchTolerance bounds how far a batched prediction may be from one made
// alone: a model call of several examples may take another matmul kernel
// of the Go backend than predict's call of one (it picks a blocked kernel
// above 4M multiply-adds), which sums float32s in another order.
const batchTolerance = 1e-6

// checkDigit compares a served prediction with predict's outputs: the
// first largest as the class, and the probabilities to the bit when exact
// (the example had a model call to itself, as predict gives it), else
// within batchTolerance. It returns how far apart they are.
func checkDigit(t *testing.T, what string, got response, i int, want []float32, exact bool) float64 {
	t.Helper()
	if i >= len(got.Predictions) {
		t.Errorf("%s: no prediction %d in %+v", what, i, got)
		return math.Inf(1)
	}
	p := got.Predictions[i]
	best := 0
	for j, v := range want {
		if v > want[best] {
			best = j
		}
	}
	d := maxDiff(p.Probabilities, want)
	if p.Class == nil || *p.Class != best || p.ClassName != fmt.Sprint(best) || d > batchTolerance || (exact && d != 0) {
		class := -1
		if p.Class != nil {
			class = *p.Class
		}
		t.Errorf("%s: prediction %d: class %d %q, probabilities %v; predict gives class %d, %v (%g apart, exact %v)", what, i, class, p.ClassName, p.Probabilities, best, want, d, exact)
	}
	return d
}

// maxDiff is the largest difference between a and b (infinite when their
// lengths differ).
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

// testLogger sends the server's log to the test's.
func testLogger(t *testing.T) *log.Logger { return log.New(testWriter{t}, "server: ", 0) }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
