package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/pipe-ml/pipe/data"
)

// BenchResult is the training throughput of one plan on random data.
type BenchResult struct {
	Batch, Steps int
	FirstStep    time.Duration // building, compiling and running the first step
	SamplesPerS  float64       // over Steps steps after the first
}

// Bench trains the plan's model on one random batch of its shapes (as
// ../shared/bench/torch_anchor.py does for PyTorch), timing the first step
// and then steps more.
func Bench(p *Plan, backend compute.Backend, batch, steps int) (*BenchResult, error) {
	if p.Recommender != nil {
		return nil, fmt.Errorf("bench measures layer stacks; %s is a rating model", p.ModelName)
	}
	split := randomSplit(p, batch)
	m, err := NewModel(p, backend)
	if err != nil {
		return nil, err
	}
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	start := time.Now()
	if _, err := m.step(&split, idx); err != nil {
		return nil, err
	}
	res := &BenchResult{Batch: batch, Steps: steps, FirstStep: time.Since(start)}
	start = time.Now()
	for range steps {
		if _, err := m.step(&split, idx); err != nil {
			return nil, err
		}
	}
	res.SamplesPerS = float64(batch*steps) / time.Since(start).Seconds()
	return res, nil
}

// randomSplit makes batch examples of the plan's input and label shapes:
// uniform [0, 1) features, token ids below the vocabulary size, labels of
// the kind the loss expects, and rating vectors 6% observed (MovieLense's
// density) with NaN elsewhere.
func randomSplit(p *Plan, batch int) data.Split {
	rng := rand.New(rand.NewPCG(1, 2))
	in := p.Input
	x := data.Array{Schema: data.Schema{DType: p.X.DType, Shape: in}}
	n := batch * data.Elements(in)
	if p.X.DType == data.Int32 {
		vocab := max(p.X.Classes, 2)
		for range n {
			x.Int = append(x.Int, int32(rng.IntN(vocab)))
		}
	} else {
		for range n {
			x.Float = append(x.Float, rng.Float32())
		}
	}
	out := p.Output()
	y := data.Array{Schema: p.Y}
	switch {
	case p.Y.DType == data.Int32:
		for range batch {
			y.Int = append(y.Int, int32(rng.IntN(max(p.Y.Classes, 2))))
		}
	case len(p.Y.Shape) == 1 && p.Y.Shape[0] == -1: // rating vectors
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
