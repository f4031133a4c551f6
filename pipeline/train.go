package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
)

// EpochReport is what a progress printer learns after each epoch.
type EpochReport struct {
	Epoch, Epochs int
	Metrics       map[string]float64 // this epoch's train and val_ values
	Names         []string           // their report order
	Duration      time.Duration
	Samples       int
}

// StepReport is what a progress bar learns after each training step.
type StepReport struct {
	Epoch, Epochs  int
	Done, Examples int                // examples trained on so far this epoch, of Examples
	Running        map[string]float64 // this epoch's metrics so far
	Names          []string
}

// Fit trains m for the plan's epochs on train, measuring on val after each
// epoch when val has examples. Batches are drawn in an order shuffled by a
// generator seeded from the spec, so runs repeat exactly. step and report,
// when not nil, hear of each step and each epoch.
func (m *Model) Fit(train, val *loaders.Split, epochs int, step func(StepReport), report func(EpochReport)) (*evaluators.History, error) {
	h := &evaluators.History{}
	rng := rand.New(rand.NewPCG(uint64(m.plan.Spec.Seed), 0x5eed))
	batch := m.plan.Spec.Train.BatchSize
	for epoch := 1; epoch <= epochs; epoch++ {
		start := time.Now()
		order := rng.Perm(train.Len())
		sums := make([]float64, 2*len(m.plan.Metrics))
		for from := 0; from < len(order); from += batch {
			idx := order[from:min(from+batch, len(order))]
			s, err := run(m.trainStep, train, idx)
			if err != nil {
				return h, fmt.Errorf("epoch %d, step %d: %w", epoch, from/batch+1, err)
			}
			for i := range sums {
				sums[i] += s[i]
			}
			if loss := s[0] / s[1]; math.IsNaN(loss) || math.IsInf(loss, 0) {
				return h, fmt.Errorf("epoch %d, step %d: the loss is %v; lower the learning rate or check the data", epoch, from/batch+1, loss)
			}
			if step != nil {
				step(StepReport{Epoch: epoch, Epochs: epochs, Done: from + len(idx), Examples: len(order), Running: finish(m.plan.Metrics, sums), Names: metricNames(m.plan.Metrics)})
			}
		}
		rep := EpochReport{Epoch: epoch, Epochs: epochs, Metrics: map[string]float64{}, Samples: len(order)}
		for i, metric := range m.plan.Metrics {
			v := evaluators.Finish(metric.Metric, sums[2*i]/sums[2*i+1])
			h.Add(metric.Name, v)
			rep.Metrics[metric.Name] = v
			rep.Names = append(rep.Names, metric.Name)
		}
		if val != nil && val.Len() > 0 {
			vals, err := m.Evaluate(val)
			if err != nil {
				return h, fmt.Errorf("epoch %d, validation: %w", epoch, err)
			}
			for _, metric := range m.plan.Metrics {
				h.Add("val_"+metric.Name, vals[metric.Name])
				rep.Metrics["val_"+metric.Name] = vals[metric.Name]
				rep.Names = append(rep.Names, "val_"+metric.Name)
			}
		}
		rep.Duration = time.Since(start)
		if report != nil {
			report(rep)
		}
	}
	return h, nil
}

// evalBatch is the batch size of evaluation: no gradients are kept, so it
// can be larger than training's.
const evalBatch = 500

// Evaluate returns each metric's mean over split, without dropout.
func (m *Model) Evaluate(split *loaders.Split) (map[string]float64, error) {
	n := split.Len()
	sums := make([]float64, 2*len(m.plan.Metrics))
	idx := make([]int, 0, evalBatch)
	for from := 0; from < n; from += evalBatch {
		idx = idx[:0]
		for i := from; i < min(from+evalBatch, n); i++ {
			idx = append(idx, i)
		}
		s, err := run(m.evaluate, split, idx)
		if err != nil {
			return nil, err
		}
		for i := range sums {
			sums[i] += s[i]
		}
	}
	return finish(m.plan.Metrics, sums), nil
}

// finish turns accumulated (ΣValue, ΣWeight) pairs into metric values.
func finish(metrics []NamedMetric, sums []float64) map[string]float64 {
	out := map[string]float64{}
	for i, metric := range metrics {
		out[metric.Name] = evaluators.Finish(metric.Metric, sums[2*i]/sums[2*i+1])
	}
	return out
}

func metricNames(metrics []NamedMetric) []string {
	names := make([]string, len(metrics))
	for i, m := range metrics {
		names[i] = m.Name
	}
	return names
}
