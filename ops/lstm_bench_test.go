//go:build lstmbench

// The benchmark drives the whole pipeline, so it is behind a build tag:
// `go test ./ops/` then does not depend on the pipeline package compiling.
//
//	go test -tags lstmbench -run xxx -bench LSTMTrainStep -benchtime 3x ./ops/

package ops_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	pipebench "github.com/pipe-ml/pipe/bench"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// randomTokens is a test-only loader: random token ids with random 0/1
// labels, the shapes of the IMDB spec.
type randomTokens struct {
	Length int `pipe:"length,required,min=1" doc:"tokens per example"`
	Vocab  int `pipe:"vocab,required,min=1" doc:"ids run from 0 to vocab-1"`
	Train  int `pipe:"train,required,min=1" doc:"training examples"`
}

func init() {
	loaders.Loaders.Register("random_tokens", "Random token ids and 0/1 labels (benchmarks only).",
		func() loaders.Loader { return &randomTokens{} })
}

func (l *randomTokens) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Int32, Shape: []int{l.Length}},
		data.Schema{DType: data.Int32, Shape: []int{}, Classes: 2}
}

func (l *randomTokens) Load(string) (*data.Dataset, error) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := l.Schemas()
	split := func(n int) data.Split {
		s := data.Split{X: data.Array{Schema: x, Int: make([]int32, n*l.Length)}, Y: data.Array{Schema: y, Int: make([]int32, n)}}
		for i := range s.X.Int {
			s.X.Int[i] = int32(r.IntN(l.Vocab))
		}
		for i := range s.Y.Int {
			s.Y.Int[i] = int32(r.IntN(2))
		}
		return s
	}
	return &data.Dataset{Train: split(l.Train), Test: split(1)}, nil
}

const courseLSTM = `
name: imdb_lstm_bench
seed: 1337
data:
  loader: random_tokens
  length: %[1]d
  vocab: 5000
  train: %[3]d
model:
  input: {shape: [%[1]d]}
  layers:
    - embedding: {input_dim: 5000, output_dim: 32}
    - dropout: {rate: 0.2}
    - %[4]s
    - dropout: {rate: 0.2}
    - dense: {units: 1, activation: sigmoid}
train:
  loss: binary_crossentropy
  optimizer: {name: adam}
  batch_size: %[2]d
  epochs: 1
  validation: none
evaluate: [loss] # binary accuracy: Equal on Bool is missing in the Go backend
`

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkLSTMTrainStep trains the course's IMDB model (Embedding(5000, 32),
// Dropout, LSTM(100), Dropout, Dense(1) sigmoid; Adam, binary cross-entropy)
// on random tokens through the pipeline, one training step per b.N, on the
// Go backend. The first step, which compiles the graph, is not timed.
// LSTM_BENCH_T (500) and LSTM_BENCH_BATCH (128) change the shapes,
// LSTM_BENCH_BACKEND (go) the backend config, and LSTM_BENCH_LAYER (lstm)
// the layer: the variants of lstm_alt_test.go run the same model with other
// ways to compute the recurrence, and a layer with its params in YAML's
// flow style replaces the LSTM, e.g. the course model with a GRU or a
// bidirectional LSTM (peak RSS measured with /usr/bin/time -v):
//
//	LSTM_BENCH_LAYER='gru: {units: 100}' go test -tags lstmbench -run xxx -bench LSTMTrainStep -benchtime 3x ./ops/
//	LSTM_BENCH_LAYER='bidirectional: {layer: {lstm: {units: 64}}}' go test -tags lstmbench ...
//
//	/usr/bin/time -v go test -tags lstmbench -run xxx -bench LSTMTrainStep -benchtime 3x ./ops/
//
// Build with GOEXPERIMENT=simd for the Go backend's AVX2/AVX-512 kernels
// (about 4 times faster here).
func BenchmarkLSTMTrainStep(b *testing.B) {
	steps, batch := envInt("LSTM_BENCH_T", 500), envInt("LSTM_BENCH_BATCH", 128)
	layer := os.Getenv("LSTM_BENCH_LAYER")
	if layer == "" {
		layer = "lstm"
	}
	if !strings.Contains(layer, ":") {
		layer += ": {units: 100}"
	}
	// The testing package calls the benchmark with b.N = 1 first: build,
	// compile and warm up once.
	if bench.model == nil {
		const batches = 8 // >= 500 examples for the evaluation
		s, err := spec.Parse("bench.yaml", []byte(fmt.Sprintf(courseLSTM, steps, batch, batch*batches, layer)))
		if err != nil {
			b.Fatal(err)
		}
		plan, err := pipeline.Compile(s)
		if err != nil {
			b.Fatal(err)
		}
		if steps == 500 && layer == "lstm: {units: 100}" && plan.Params() != 213301 {
			b.Fatalf("the course model has %d params, want 213,301", plan.Params())
		}
		// The loader directly: the spec has no transforms, and this keeps
		// the benchmark off the pipeline's data cache.
		ds, err := plan.Loader.Load("")
		if err != nil {
			b.Fatal(err)
		}
		config := os.Getenv("LSTM_BENCH_BACKEND") // e.g. go:ops_sequential
		backend, err := pipeline.NewBackend(config)
		if err != nil {
			b.Fatal(err)
		}
		m, err := pipeline.NewModel(plan, backend)
		if err != nil {
			b.Fatal(err)
		}
		for i := range batches {
			bench.batches = append(bench.batches, ds.Train.Slice(i*batch, (i+1)*batch))
		}
		start := time.Now()
		if _, err := m.Fit(&bench.batches[0], nil, 1, pipeline.FitOptions{}); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s T=%d batch=%d backend %q: first step (compiles) %.1fs, peak RSS so far %.0f MiB",
			layer, steps, batch, config, time.Since(start).Seconds(), pipebench.PeakRSSMB())
		// One evaluation batch (pipeline's evalBatch is 500), as validation
		// after each epoch runs, so that the peak RSS counts it too.
		start = time.Now()
		val := ds.Train.Slice(0, min(500, ds.Train.Len()))
		if _, err := m.Evaluate(&val); err != nil {
			b.Fatal(err)
		}
		b.Logf("evaluation of %d examples (compiles) %.1fs, peak RSS so far %.0f MiB", val.Len(), time.Since(start).Seconds(), pipebench.PeakRSSMB())
		bench.model = m
	}
	b.ResetTimer()
	for i := range b.N {
		h, err := bench.model.Fit(&bench.batches[(i+1)%len(bench.batches)], nil, 1, pipeline.FitOptions{})
		if err != nil {
			b.Fatal(err)
		}
		bench.loss = h.Values[0][0]
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(pipebench.PeakRSSMB(), "peakRSS_MiB")
	b.Logf("b.N=%d, last loss %.4f", b.N, bench.loss)
}

// bench is the benchmark's model, built once per process.
var bench struct {
	model   *pipeline.Model
	batches []data.Split
	loss    float64
}
