package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/recsys"
)

// BenchOptions say how long to measure. Each phase (training, evaluation,
// prediction) runs Steps batches when Steps > 0, or else at least MinSteps
// and until MinTime has passed.
type BenchOptions struct {
	Batch    int // 0: the spec's batch size
	Steps    int
	MinSteps int
	MinTime  time.Duration
}

// BenchResult is the throughput of one plan on random data.
type BenchResult struct {
	Batch, Steps int           // Steps: the timed training steps
	FirstStep    time.Duration // creating the model, compiling and running the first step
	SamplesPerS  float64       // training, over Steps steps after the first
	EvalPerS     float64       // evaluation (loss and metrics), without dropout
	PredictPerS  float64       // the model's outputs, without dropout
}

// Bench trains the plan's model on one random batch of its shapes (as the
// PyTorch reference, bench/torch/reference.py, does), timing the first
// step and then the steps after it; then evaluates and predicts the same
// batch, each after one untimed call that compiles it.
func Bench(p *Plan, backend compute.Backend, o BenchOptions) (*BenchResult, error) {
	if p.Recommender != nil {
		return nil, fmt.Errorf("bench measures layer stacks; %s is a rating model", p.ModelName)
	}
	batch := o.Batch
	if batch <= 0 {
		batch = p.Train.BatchSize
	}
	split := randomSplit(p, batch)
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	start := time.Now()
	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	if _, err := m.step(&split, idx); err != nil {
		return nil, err
	}
	res := &BenchResult{Batch: batch, FirstStep: time.Since(start)}
	train := func() error { _, err := m.step(&split, idx); return err }
	if res.Steps, res.SamplesPerS, err = o.throughput(batch, train); err != nil {
		return nil, err
	}
	eval := func() error { _, err := m.run(m.evaluate, &split, idx); return err }
	if err := eval(); err != nil {
		return nil, err
	}
	if _, res.EvalPerS, err = o.throughput(batch, eval); err != nil {
		return nil, err
	}
	predict, err := m.predictExec()
	if err != nil {
		return nil, err
	}
	xb, err := p.batchColumn(&split.X, "x", idx)
	if err != nil {
		return nil, err
	}
	x := tensorOf(xb)
	pred := func() error { _, err := predict.Call1(x); return err }
	if err := pred(); err != nil {
		return nil, err
	}
	if _, res.PredictPerS, err = o.throughput(batch, pred); err != nil {
		return nil, err
	}
	return res, nil
}

// throughput calls step as o says and returns the calls and samples/s.
func (o BenchOptions) throughput(batch int, step func() error) (int, float64, error) {
	start := time.Now()
	n := 0
	for {
		if o.Steps > 0 && n == o.Steps || o.Steps <= 0 && n >= max(o.MinSteps, 1) && time.Since(start) >= o.MinTime {
			break
		}
		if err := step(); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, float64(batch*n) / time.Since(start).Seconds(), nil
}

// BenchStart loads the plan's data (from cacheDir when it holds them),
// creates the model and runs its first training step on the first batch
// of the training split: what a run does before its first step.
func BenchStart(p *Plan, backend compute.Backend, dataDir, cacheDir string) error {
	if p.Recommender != nil {
		return fmt.Errorf("bench measures layer stacks; %s is a rating model", p.ModelName)
	}
	ds, closer, err := p.Data(dataDir, cacheDir)
	if err != nil {
		return err
	}
	defer closer.Close()
	m, err := NewModel(p, backend)
	if err != nil {
		return err
	}
	idx := make([]int, min(p.Train.BatchSize, ds.Train.Len()))
	for i := range idx {
		idx[i] = i
	}
	_, err = m.step(&ds.Train, idx)
	return err
}

// FitCost is what fitting a plan on its whole data took.
type FitCost struct {
	Train, Test  int // examples: ratings, or rating vectors for a layer stack
	Users, Items int
	Load         time.Duration // loading (or generating) and preprocessing the data
	Fit          time.Duration // the model's fit on the training split, every epoch
	Predict      time.Duration // predicting the test split
}

// BenchFit loads the plan's data, fits its model as a run does (a rating
// model's Fit, or a layer stack's epochs; without validation, whose
// per-epoch metrics are no part of the fit) and predicts the test split,
// timing each: one point of the cost curves over the number of ratings.
func BenchFit(p *Plan, backend compute.Backend, dataDir string) (*FitCost, error) {
	start := time.Now()
	ds, closer, err := p.Data(data.UserDir(dataDir, "PIPE_DATA", "data"), "")
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	c := &FitCost{Train: ds.Train.Len(), Test: ds.Test.Len(), Load: time.Since(start)}
	if ds.Ratings != nil {
		c.Users, c.Items = len(ds.Ratings.Users), len(ds.Ratings.Items)
	}
	start = time.Now()
	if p.Recommender != nil {
		if ds.Ratings == nil {
			return nil, fmt.Errorf("model %s needs rating data; loader %s gives none", p.ModelName, p.LoaderName)
		}
		fitted, _, err := p.Recommender.Fit(&recsys.FitContext{Info: ds.Ratings, Backend: backend, Seed: uint64(p.Seed)}, &ds.Train)
		if err != nil {
			return nil, err
		}
		c.Fit, start = time.Since(start), time.Now()
		if _, _, err := fitted.Predict(&ds.Test.X); err != nil {
			return nil, err
		}
		c.Predict = time.Since(start)
		return c, nil
	}
	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	if _, err := m.Fit(&ds.Train, nil, p.Train.Epochs, FitOptions{}); err != nil {
		return nil, err
	}
	c.Fit, start = time.Since(start), time.Now()
	if _, err := m.Outputs(&ds.Test); err != nil {
		return nil, err
	}
	c.Predict = time.Since(start)
	return c, nil
}

// MultiplyAdds is the forward pass's multiply-adds for one example, summed
// over the stages whose layers count them (ops.Counted), and the kinds of
// the layers that count none.
func (p *Plan) MultiplyAdds() (int64, []string) {
	var n int64
	var uncounted []string
	seen := map[string]bool{}
	for _, st := range p.Stages {
		c, ok := ops.MultiplyAdds(st)
		n += c
		if !ok && !seen[st.Kind] {
			seen[st.Kind] = true
			uncounted = append(uncounted, st.Kind)
		}
	}
	return n, uncounted
}

// predictExec is the computation of the model's main output, without
// dropout, built on first use.
func (m *Model) predictExec() (*model.Exec, error) {
	if m.predict == nil {
		var err error
		m.predict, err = model.NewExec(m.backend, m.store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			outs, _ := m.forward(scope, x, false)
			return outs[0]
		})
		if err != nil {
			return nil, err
		}
	}
	return m.predict, nil
}

// randomSplit makes batch examples as the plan's data holds them, before
// its batch steps: random bytes for pixels, uniform [0, 1) features, token
// ids below the vocabulary size, labels of the kind the loss expects, and
// rating vectors 6% observed (MovieLense's density) with NaN elsewhere.
func randomSplit(p *Plan, batch int) data.Split {
	rng := rand.New(rand.NewPCG(1, 2))
	in := p.Input
	if len(p.batchSteps()) > 0 {
		in = p.StoredX.Shape
	}
	x := data.Array{Schema: data.Schema{DType: p.StoredX.DType, Shape: in}}
	n := batch * data.Elements(in)
	switch p.StoredX.DType {
	case data.Int32:
		vocab := max(p.StoredX.Classes, 2)
		for range n {
			x.Int = append(x.Int, int32(rng.IntN(vocab)))
		}
	case data.Uint8:
		for range n {
			x.Bytes = append(x.Bytes, uint8(rng.IntN(256)))
		}
	default:
		for range n {
			x.Float = append(x.Float, rng.Float32())
		}
	}
	out := p.Output()
	y := data.Array{Schema: p.StoredY}
	switch {
	case p.StoredY.DType == data.Int32:
		for range batch {
			y.Int = append(y.Int, int32(rng.IntN(max(p.StoredY.Classes, 2))))
		}
	case len(p.StoredY.Shape) == 1 && p.StoredY.Shape[0] == -1: // rating vectors
		y.Shape = out
		for range batch * data.Elements(out) {
			v := float32(math.NaN())
			if rng.Float64() < 0.063 {
				v = float32(1 + rng.IntN(5))
			}
			y.Float = append(y.Float, v)
		}
	case len(out) == 1 && out[0] > 1: // one-hot classes
		for range batch {
			oh := make([]float32, out[0])
			oh[rng.IntN(out[0])] = 1
			y.Float = append(y.Float, oh...)
		}
	default: // 0/1 targets
		for range batch * data.Elements(out) {
			y.Float = append(y.Float, float32(rng.IntN(2)))
		}
	}
	return data.Split{X: x, Y: y}
}
