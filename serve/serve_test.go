package serve_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/serve"
)

// TestServeMNIST: served predictions for PNGs, flat pixels and nested
// pixels in one request equal `pipe predict`'s for the same images: to the
// bit with --max-batch 1, within batchTolerance when the six share a model
// call; /v1/model and /healthz say what is served.
func TestServeMNIST(t *testing.T) {
	run := mnistRun(t)
	digits := mnistDigits(t, run, 6)
	var instances []any
	for i, d := range digits {
		switch i % 3 {
		case 0:
			instances = append(instances, imageInstance(d.png))
		case 1:
			instances = append(instances, pixelsInstance(d.pixels))
		default:
			instances = append(instances, nestedPixels(d.pixels))
		}
	}
	// --max-batch 1: every example has a call to itself, as in predict.
	one, _ := startServer(t, run, "mnist", 1, serve.DefaultConfig())
	code, got := post(t, one.Client(), one.URL, instancesBody(t, instances...))
	if code != http.StatusOK || len(got.Predictions) != len(digits) {
		t.Fatalf("max batch 1: status %d, %d predictions for %d instances: %+v", code, len(got.Predictions), len(digits), got)
	}
	for i, d := range digits {
		checkDigit(t, "max batch 1", got, i, d.want, true)
	}
	// Batched: one call of the six.
	ts, _ := startServer(t, run, "mnist", 32, serve.DefaultConfig())
	code, got = post(t, ts.Client(), ts.URL, instancesBody(t, instances...))
	if code != http.StatusOK || len(got.Predictions) != len(digits) {
		t.Fatalf("status %d, %d predictions for %d instances: %+v", code, len(got.Predictions), len(digits), got)
	}
	worst := 0.0
	for i, d := range digits {
		worst = max(worst, checkDigit(t, "one call of 6", got, i, d.want, false))
	}
	t.Logf("a call of 6 examples (padded to 8) is at most %g from predict's calls of one", worst)

	var info struct {
		Name  string
		Input struct {
			Kind   string
			Fields []string
			Shape  []int
		}
		Output struct {
			Kind    string
			Width   int
			Classes []string
		}
		Limits struct {
			MaxBodyBytes int64 `json:"max_body_bytes"`
			MaxBatch     int   `json:"max_batch"`
		}
	}
	getJSON(t, ts.URL+"/v1/model", &info)
	if info.Name != "mnist_cnn" || info.Input.Kind != "image" || !slices.Equal(info.Input.Shape, []int{28, 28}) ||
		info.Output.Kind != "classes" || info.Output.Width != 10 || len(info.Output.Classes) != 10 ||
		info.Limits.MaxBodyBytes != 8<<20 || info.Limits.MaxBatch != 32 {
		t.Errorf("/v1/model: %+v", info)
	}
	var health struct {
		Status     string
		Model      string
		ModelCalls int64 `json:"model_calls"`
		Examples   int64
	}
	getJSON(t, ts.URL+"/healthz", &health)
	if health.Status != "ok" || health.Model != "mnist_cnn" || health.ModelCalls != 1 || health.Examples != 6 {
		t.Errorf("/healthz: %+v, want ok after one model call of 6 examples", health)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %s, %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestServeBatching: concurrent requests share one model call, each
// getting its own rows back. The wait is long (10 s) and the batch is the
// number of examples sent, so the call happens exactly when the last
// request joins: one call, whatever the machine's load.
func TestServeBatching(t *testing.T) {
	run := mnistRun(t)
	digits := mnistDigits(t, run, 8)
	cfg := serve.DefaultConfig()
	cfg.BatchWait = 10 * time.Second
	ts, pred := startServer(t, run, "mnist", 8, cfg)

	// Eight requests of one digit each, at once.
	var wg sync.WaitGroup
	results := make([]response, len(digits))
	codes := make([]int, len(digits))
	for i, d := range digits {
		wg.Go(func() {
			codes[i], results[i] = post(t, ts.Client(), ts.URL, instancesBody(t, pixelsInstance(d.pixels)))
		})
	}
	wg.Wait()
	for i, d := range digits {
		if codes[i] != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, codes[i], results[i].Error)
		}
		checkDigit(t, fmt.Sprintf("request %d", i), results[i], 0, d.want, false)
	}
	if calls, examples := pred.Stats(); calls != 1 || examples != 8 {
		t.Errorf("8 concurrent requests: %d model calls for %d examples; want 1 for 8", calls, examples)
	}

	// Requests of 3, 2 and 3 digits: one call of 8, rows back in order.
	parts := [][]digit{digits[0:3], digits[3:5], digits[5:8]}
	results = make([]response, len(parts))
	for i, part := range parts {
		var instances []any
		for _, d := range part {
			instances = append(instances, imageInstance(d.png))
		}
		wg.Go(func() { codes[i], results[i] = post(t, ts.Client(), ts.URL, instancesBody(t, instances...)) })
	}
	wg.Wait()
	for i, part := range parts {
		if codes[i] != http.StatusOK || len(results[i].Predictions) != len(part) {
			t.Fatalf("request %d: %d, %d predictions for %d: %s", i, codes[i], len(results[i].Predictions), len(part), results[i].Error)
		}
		for j, d := range part {
			checkDigit(t, fmt.Sprintf("request %d", i), results[i], j, d.want, false)
		}
	}
	if calls, examples := pred.Stats(); calls != 2 || examples != 16 {
		t.Errorf("then 3 requests of 8 examples: %d model calls for %d examples in all; want 2 for 16", calls, examples)
	}

	// A request larger than a batch is split into calls of at most 8.
	var many []any
	for i := range 11 {
		many = append(many, pixelsInstance(digits[i%8].pixels))
	}
	code, got := post(t, ts.Client(), ts.URL, instancesBody(t, many...))
	if code != http.StatusOK || len(got.Predictions) != 11 {
		t.Fatalf("11 instances: %d, %+v", code, got)
	}
	for i := range 11 {
		checkDigit(t, "11 instances", got, i, digits[i%8].want, false)
	}
	if calls, examples := pred.Stats(); calls != 4 || examples != 27 {
		t.Errorf("then 11 instances: %d model calls for %d examples in all; want 4 for 27", calls, examples)
	}
}

// TestServeBatchWait: a lone request is answered once the wait is over,
// not held for a full batch.
func TestServeBatchWait(t *testing.T) {
	run := mnistRun(t)
	digits := mnistDigits(t, run, 1)
	cfg := serve.DefaultConfig()
	cfg.BatchWait = 300 * time.Millisecond
	ts, pred := startServer(t, run, "mnist", 32, cfg)
	start := time.Now()
	code, got := post(t, ts.Client(), ts.URL, instancesBody(t, pixelsInstance(digits[0].pixels)))
	if took := time.Since(start); code != http.StatusOK || took < cfg.BatchWait || took > 30*time.Second {
		t.Errorf("a lone request: %d after %s; want 200 after the 300ms wait", code, took)
	}
	checkDigit(t, "lone request", got, 0, digits[0].want, true)
	if calls, _ := pred.Stats(); calls != 1 {
		t.Errorf("%d model calls, want 1", calls)
	}
}

// TestServeBadRequests: each mistake gets its 4xx with a JSON error that
// names the field, and the server goes on serving.
func TestServeBadRequests(t *testing.T) {
	run := mnistRun(t)
	digits := mnistDigits(t, run, 1)
	cfg := serve.DefaultConfig()
	cfg.MaxBodyBytes, cfg.MaxInstances = 16<<10, 3
	ts, pred := startServer(t, run, "mnist", 32, cfg)
	px := digits[0].pixels
	small := func() []byte {
		var b bytes.Buffer
		png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)))
		return b.Bytes()
	}()
	badRow := nestedPixels(px)
	badRow["pixels"].([][]float64)[5] = make([]float64, 27)
	withString := fmt.Sprintf(`{"instances": [{"pixels": [%s"x"]}]}`, strings.Repeat("0,", 783))
	for _, c := range []struct {
		name, body string
		status     int
		field      string
		msg        string
	}{
		{"malformed", `{"instances": [`, 400, "", "the JSON is empty or cut short"},
		{"syntax", `{"instances": [}`, 400, "", "malformed JSON at byte 16"},
		{"empty body", ``, 400, "", "the JSON is empty or cut short"},
		{"not an object", `[1]`, 400, "", `the body is {"instances": [...]}, got a JSON array`},
		{"trailing", `{"instances": [{"pixels": []}]} x`, 400, "", "data after the JSON value"},
		{"unknown top field", `{"instance": []}`, 400, "", `unknown field "instance"`},
		{"no instances", `{}`, 400, "instances", "instances: missing"},
		{"instances not an array", `{"instances": 3}`, 400, "instances", "instances: want an array, got a JSON number"},
		{"zero instances", `{"instances": []}`, 400, "instances", "instances: empty"},
		{"too many instances", string(instancesBody(t, 1, 2, 3, 4)), 400, "instances", "instances: 4 instances, at most 3"},
		{"instance not an object", `{"instances": [7]}`, 400, "instances[0]", "instances[0]: want an object, got a JSON number"},
		{"unknown instance field", `{"instances": [{"pixel": []}]}`, 400, "instances[0]", `instances[0]: unknown field "pixel"`},
		{"no input", `{"instances": [{}]}`, 400, "instances[0]", `instances[0]: no input: this model takes an image ("image": a base64 PNG or JPEG, or "pixels": 784 numbers 0..255)`},
		{"two inputs", string(instancesBody(t, map[string]any{"pixels": px, "image": "AA=="})), 400, "instances[0]", "instances[0]: one input per instance, got image and pixels"},
		{"wrong kind", string(instancesBody(t, pixelsInstance(px), map[string]any{"text": "a review"})), 400, "instances[1]", "instances[1]: this model (mnist_cnn) takes an image"},
		{"ratings to an image model", `{"instances": [{"ratings": {"a": 1}}]}`, 400, "instances[0]", "takes an image"},
		{"top without ratings", string(instancesBody(t, map[string]any{"pixels": px, "top": 3})), 400, "instances[0].top", "only a ratings instance takes top"},
		{"text not a string", `{"instances": [{"text": 5}]}`, 400, "instances[0].text", "instances[0].text: want a string, got a JSON number"},
		{"pixel count", string(instancesBody(t, pixelsInstance(px[:780]))), 400, "instances[0].pixels", "instances[0].pixels: 780 values, the model takes 784 (28x28)"},
		{"pixel range", string(instancesBody(t, pixelsInstance(append(slices.Clone(px[:783]), 256)))), 400, "instances[0].pixels", "instances[0].pixels: value 783 is 256, outside 0..255"},
		{"nested row", string(instancesBody(t, pixelsInstance(px), badRow)), 400, "instances[1].pixels[5]", "instances[1].pixels[5]: 27 entries, want 28"},
		{"pixel not a number", withString, 400, "instances[0].pixels[783]", "instances[0].pixels[783]: want a number 0..255, got a string"},
		{"not base64", string(instancesBody(t, pixelsInstance(px), map[string]any{"image": "%%%"})), 400, "instances[1].image", "instances[1].image: not base64"},
		{"not an image", string(instancesBody(t, map[string]any{"image": base64.StdEncoding.EncodeToString([]byte("GIF89a..."))})), 400, "instances[0].image", "instances[0].image: an image of type image/gif (pipe reads PNG and JPEG), but the model takes a 28x28 PNG or JPEG image"},
		{"image size", string(instancesBody(t, imageInstance(small))), 400, "instances[0].image", "instances[0].image: image is 8x8, the model takes 28x28"},
		{"body too large", string(instancesBody(t, map[string]any{"text": strings.Repeat("a", 16<<10)})), 413, "", "the request body is larger than 16384 bytes"},
	} {
		code, got := post(t, ts.Client(), ts.URL, []byte(c.body))
		if code != c.status || got.Field != c.field || !strings.Contains(got.Error, c.msg) {
			t.Errorf("%s: %d field %q %q; want %d field %q with %q", c.name, code, got.Field, got.Error, c.status, c.field, c.msg)
		}
	}
	if calls, _ := pred.Stats(); calls != 0 {
		t.Errorf("bad requests made %d model calls", calls)
	}

	// A body over the limit without a declared length (chunked) is cut
	// off while read.
	r, w := io.Pipe()
	go func() {
		w.Write([]byte(`{"instances": [{"text": "`))
		w.Write(bytes.Repeat([]byte("a"), 20<<10))
		w.Write([]byte(`"}]}`))
		w.Close()
	}()
	resp, err := ts.Client().Post(ts.URL+"/v1/predict", "application/json", r)
	if err != nil {
		t.Fatal(err)
	}
	code, got := decodeResponse(t, resp)
	resp.Body.Close()
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(got.Error, "larger than 16384 bytes") {
		t.Errorf("a chunked body over the limit: %d %q", code, got.Error)
	}

	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/v1/predict", 405, "POST"},
		{http.MethodPut, "/v1/predict", 405, "POST"},
		{http.MethodPost, "/healthz", 405, "GET"},
		{http.MethodDelete, "/v1/model", 405, "GET"},
		{http.MethodGet, "/v2/predict", 404, ""},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		code, got := decodeResponse(t, resp)
		resp.Body.Close()
		if code != c.status || resp.Header.Get("Allow") != c.allow || got.Error == "" {
			t.Errorf("%s %s: %d, Allow %q, %q; want %d, Allow %q", c.method, c.path, code, resp.Header.Get("Allow"), got.Error, c.status, c.allow)
		}
	}

	// Still serving.
	code, got = post(t, ts.Client(), ts.URL, instancesBody(t, pixelsInstance(px)))
	if code != http.StatusOK {
		t.Fatalf("after the bad requests: %d %s", code, got.Error)
	}
	checkDigit(t, "after the bad requests", got, 0, digits[0].want, true)
}

// TestServeShutdown: on cancel (SIGINT, SIGTERM in pipe serve) the server
// stops taking connections, answers the request in flight and returns.
func TestServeShutdown(t *testing.T) {
	run := mnistRun(t)
	digits := mnistDigits(t, run, 1)
	pred, err := pipeline.NewPredictor(run, pipeline.Options{DataDir: testdata.Dir(t, "mnist")}, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer pred.Close()
	cfg := serve.DefaultConfig()
	cfg.BatchWait, cfg.Log = 500*time.Millisecond, testLogger(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve.Serve(ctx, ln, serve.New(pred, cfg), 30*time.Second) }()

	// A request that waits 500 ms in the batcher; the cancel comes meanwhile.
	answered := make(chan int, 1)
	go func() {
		code, got := post(t, http.DefaultClient, url, instancesBody(t, pixelsInstance(digits[0].pixels)))
		checkDigit(t, "in flight", got, 0, digits[0].want, true)
		answered <- code
	}()
	for deadline := time.Now().Add(30 * time.Second); inFlight(t, url) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-answered:
		if code != http.StatusOK {
			t.Errorf("the request in flight got %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request in flight was not answered")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get(url + "/healthz"); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after shutdown: %v, want connection refused", err)
	}
}

// inFlight is the predictions the server is answering, from /healthz.
func inFlight(t *testing.T, url string) int64 {
	var h struct {
		InFlight int64 `json:"in_flight"`
	}
	getJSON(t, url+"/healthz", &h)
	return h.InFlight
}
