package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/serve"
)

// TestServeLoad drives `pipe serve`'s server (serve.Serve on 127.0.0.1,
// the MNIST CNN, default limits and batching) from real HTTP clients: C
// clients send N requests in all, each of 1 to 3 digits as PNG or pixels,
// and every answer is checked against `pipe predict`'s for the same digit.
// It reports requests/s and latency percentiles, and fails on any request
// lost (no 200) or answered wrongly. Always a short run (200 requests, 8
// clients); PIPE_LOADTEST=1 runs 5,000 requests from 16 clients
// (PIPE_LOADTEST_REQUESTS and PIPE_LOADTEST_CLIENTS change them, and
// PIPE_LOADTEST_MAX_BATCH the server's --max-batch, 32). Bounded:
// what is not done within the time limit counts as lost.
func TestServeLoad(t *testing.T) {
	requests, clients, limit := 200, 8, 2*time.Minute
	if os.Getenv("PIPE_LOADTEST") == "1" {
		requests, clients, limit = 5000, 16, 10*time.Minute
	}
	requests = envInt(t, "PIPE_LOADTEST_REQUESTS", requests)
	clients = envInt(t, "PIPE_LOADTEST_CLIENTS", clients)
	maxBatch := envInt(t, "PIPE_LOADTEST_MAX_BATCH", 32) // 1: no batching, to compare

	run := mnistRun(t)
	digits := mnistDigits(t, run, 64)
	pred, err := pipeline.NewPredictor(run, pipeline.Options{DataDir: testdata.Dir(t, "mnist")}, maxBatch)
	if err != nil {
		t.Fatal(err)
	}
	defer pred.Close()
	if err := pred.Warm(); err != nil { // as pipe serve does: no compiling in the figures
		t.Fatal(err)
	}
	cfg := serve.DefaultConfig()
	cfg.Log = testLogger(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/v1/predict"
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve.Serve(serveCtx, ln, serve.New(pred, cfg), 30*time.Second) }()

	// The bodies, built before the clock starts: request k holds digits
	// k, k+1, ... (1, 1, 2, 1, 3 of them in turn), as PNG or pixels.
	sizes := []int{1, 1, 2, 1, 3}
	type planned struct {
		body   []byte
		digits []int
	}
	plans := make([]planned, requests)
	for k := range plans {
		var instances []any
		for j := range sizes[k%len(sizes)] {
			i := (k + j) % len(digits)
			plans[k].digits = append(plans[k].digits, i)
			if (k+j)%2 == 0 {
				instances = append(instances, imageInstance(digits[i].png))
			} else {
				instances = append(instances, pixelsInstance(digits[i].pixels))
			}
		}
		plans[k].body = instancesBody(t, instances...)
	}

	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	var next, wrong, exact, examples atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var failures []string
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= requests {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(plans[k].body))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("request %d: %v", k, err))
					mu.Unlock()
					continue
				}
				code, got := decodeResponse(t, resp)
				resp.Body.Close()
				took := time.Since(t0)
				if code != http.StatusOK || len(got.Predictions) != len(plans[k].digits) {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("request %d: %d %s", k, code, got.Error))
					mu.Unlock()
					continue
				}
				for j, i := range plans[k].digits {
					p, want := got.Predictions[j], digits[i].want
					d := maxDiff(p.Probabilities, want)
					switch {
					case p.Class == nil || *p.Class != argmax(want) || d > batchTolerance:
						wrong.Add(1)
					case d == 0:
						exact.Add(1)
					}
					examples.Add(1)
				}
				mu.Lock()
				latencies = append(latencies, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopServing()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}

	answered := len(latencies)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if answered == 0 {
			return 0
		}
		return latencies[min(answered-1, int(p*float64(answered)))]
	}
	calls, modelExamples := pred.Stats()
	t.Logf("%d requests (%d examples) from %d clients on 127.0.0.1 in %.2fs: %.0f requests/s, %.0f examples/s",
		answered, examples.Load(), clients, elapsed.Seconds(), float64(answered)/elapsed.Seconds(), float64(examples.Load())/elapsed.Seconds())
	t.Logf("latency p50 %s, p90 %s, p99 %s, max %s", ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(pct(1)))
	t.Logf("%d model calls for %d examples (%.1f a call); %d answers wrong, %d lost; %d of %d probabilities rows equal predict's to the bit, the rest within %g",
		calls, modelExamples, float64(modelExamples)/max(float64(calls), 1), wrong.Load(), requests-answered, exact.Load(), examples.Load(), batchTolerance)
	if answered != requests || len(failures) > 0 {
		t.Errorf("%d of %d requests lost (time limit %s): %v", requests-answered, requests, limit, failures[:min(len(failures), 5)])
	}
	if wrong.Load() > 0 {
		t.Errorf("%d answers differ from predict's", wrong.Load())
	}
	if modelExamples != examples.Load() {
		t.Errorf("the model saw %d examples, the clients sent %d", modelExamples, examples.Load())
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
