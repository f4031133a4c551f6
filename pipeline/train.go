package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/spec"
)

// EpochReport is what a progress printer learns after each epoch.
type EpochReport struct {
	Epoch, Epochs int
	Metrics       map[string]float64 // this epoch's train and val_ values
	Names         []string           // their report order
	Duration      time.Duration
	Samples       int
	History       *data.History // every epoch so far
}

// StepReport is what a progress bar learns after each training step.
type StepReport struct {
	Epoch, Epochs  int
	Done, Examples int                // examples trained on so far this epoch, of Examples
	Running        map[string]float64 // this epoch's metrics so far
	Names          []string
}

// FitOptions are the optional parts of Fit.
type FitOptions struct {
	// Context, when canceled (Ctrl-C), stops training after the current
	// step, with the model as it was at the end of the last whole epoch;
	// Fit then returns ErrInterrupted and the history of those epochs.
	// (The model is copied to host memory after every epoch for this and
	// for a loss that diverges.)
	Context context.Context
	// Resume continues a run whose history this is, its model already
	// loaded: training starts at the next epoch.
	Resume *data.History
	Step   func(StepReport)  // after each step
	Report func(EpochReport) // after each epoch
	// Log receives the line that says how training uses a backend with
	// several devices (nothing on one device), and a resumed run's note
	// when restore_best cannot restore an epoch before the resume; nil
	// writes them to standard error.
	Log func(format string, args ...any)
}

// ErrInterrupted is Fit's answer to a canceled context, and ErrDiverged to
// a loss that became NaN or infinite. Both come with the history of the
// whole epochs before, and the model restored to the end of the last one.
var (
	ErrInterrupted = errors.New("interrupted")
	ErrDiverged    = errors.New("training diverged")
)

// Fit trains m for the plan's epochs on train, measuring on val after each
// epoch when val has examples. Batches are drawn in an order shuffled by a
// generator seeded from the spec, so runs repeat exactly, and a resumed run
// ends as the uninterrupted one would.
func (m *Model) Fit(train, val *data.Split, epochs int, o FitOptions) (*data.History, error) {
	var v examples
	if val != nil {
		v = memExamples{val}
	}
	return m.fit(memExamples{train}, v, epochs, o)
}

// fit is Fit on examples in memory or streamed.
func (m *Model) fit(train, val examples, epochs int, o FitOptions) (*data.History, error) {
	h, first := &data.History{}, 1
	if o.Resume != nil {
		h = o.Resume
		if len(h.Values) > 0 {
			first = len(h.Values[0]) + 1
		}
	}
	// The shuffles are drawn on the host, not saved: a resumed run draws
	// the permutations of the epochs already done again, which leaves the
	// generator where the uninterrupted run had it (the training split,
	// and so the length of each permutation, is the same).
	rng := rand.New(rand.NewPCG(uint64(m.plan.Seed), 0x5eed))
	batch := m.plan.Train.BatchSize
	for epoch := 1; epoch < first; epoch++ {
		train.skip(batch, rng, epoch)
	}
	stop := newStopper(m.plan.Train.EarlyStopping, m.plan.Train.lastPhaseStart())
	if best := stop.replay(h); best > 0 && stop.cfg.RestoreBest {
		fitLog(o, "early_stopping.restore_best: the best epoch so far, %d, was trained before the resume and its weights are not in the checkpoint; a better epoch from here on is kept as usual\n", best)
	}
	var lastEpoch map[string]*tensors.Tensor // every variable at the end of the last whole epoch
	if first > 1 {
		// The loaded checkpoint is the end of the last whole epoch: an
		// interruption or a divergence within the first resumed epoch
		// goes back to it, random state included, not to a part-trained
		// model that a later resume would train further.
		var err error
		if lastEpoch, err = m.snapshotVars(); err != nil {
			return h, err
		}
	}
	if m.mode != "" {
		fitLog(o, "%s\n", m.mode)
	}
	for epoch := first; epoch <= epochs; epoch++ {
		if err := m.setLRScale(epoch, epochs, h); err != nil {
			return h, err
		}
		if err := m.setPhase(epoch); err != nil {
			return h, err
		}
		start := time.Now()
		n := train.Len()
		sums := make([]float64, 2*len(m.plan.Metrics))
		done, step := 0, 0
		var stopped error // why the epoch ended early
		err := train.batches(batch, rng, epoch, func(split *data.Split, idx []int) error {
			step++
			if o.Context != nil && o.Context.Err() != nil {
				stopped = ErrInterrupted
				return ErrInterrupted
			}
			s, err := m.trainOn(split, idx, epoch, step)
			if err != nil {
				return fmt.Errorf("epoch %d, step %d: %w", epoch, step, err)
			}
			for i := range sums {
				sums[i] += s[i]
			}
			if loss := s[0] / s[1]; math.IsNaN(loss) || math.IsInf(loss, 0) {
				stopped = fmt.Errorf("%w at epoch %d, step %d: the loss is %v; lower the learning rate or check the data", ErrDiverged, epoch, step, loss)
				return stopped
			}
			done += len(idx)
			if o.Step != nil {
				o.Step(StepReport{Epoch: epoch, Epochs: epochs, Done: done, Examples: n, Running: finish(m.plan.Metrics, sums), Names: metricNames(m.plan.Metrics)})
			}
			return nil
		})
		switch {
		case stopped != nil && lastEpoch == nil && first == 1:
			if errors.Is(stopped, ErrInterrupted) {
				return nil, fmt.Errorf("%w before the first epoch ended", ErrInterrupted)
			}
			return nil, stopped
		case stopped != nil:
			return h, errors.Join(stopped, m.restoreVars(lastEpoch))
		case err != nil:
			return h, err
		}
		rep := EpochReport{Epoch: epoch, Epochs: epochs, Metrics: map[string]float64{}, Samples: n}
		for i, metric := range m.plan.Metrics {
			v := evaluators.Finish(metric.Metric, sums[2*i]/sums[2*i+1])
			h.Add(metric.Name, v)
			rep.Metrics[metric.Name] = v
			rep.Names = append(rep.Names, metric.Name)
		}
		if val != nil && val.Len() > 0 {
			vals, err := m.evaluateOn(val)
			if err != nil {
				return h, fmt.Errorf("epoch %d, validation: %w", epoch, err)
			}
			for _, metric := range m.plan.Metrics {
				h.Add("val_"+metric.Name, vals[metric.Name])
				rep.Metrics["val_"+metric.Name] = vals[metric.Name]
				rep.Names = append(rep.Names, "val_"+metric.Name)
			}
		}
		rep.Duration, rep.History = time.Since(start), h
		if o.Report != nil {
			o.Report(rep)
		}
		if lastEpoch, err = m.snapshotVars(); err != nil {
			return h, err
		}
		if done, err := stop.after(m, h); err != nil || done {
			return h, err
		}
	}
	return h, stop.restore(m)
}

// fitLog writes a line to o.Log, or to standard error when it is nil.
func fitLog(o FitOptions, format string, args ...any) {
	if o.Log == nil {
		fmt.Fprintf(os.Stderr, format, args...)
		return
	}
	o.Log(format, args...)
}

// setLRScale sets the learning-rate schedule's factor for epoch.
func (m *Model) setLRScale(epoch, epochs int, h *data.History) error {
	s := m.plan.Schedule
	if s == nil || epoch == 1 { // every schedule starts at factor 1, the variable's initial value
		return nil
	}
	v := m.store.Scope("/train").GetVariable(lrScaleVar)
	if v == nil {
		return fmt.Errorf("no learning-rate variable")
	}
	return v.SetValue(tensors.FromValue(float32(s.Scale(epoch, epochs, h))))
}

// stopper is early stopping: it watches a history series from epoch from
// on and keeps the best epoch's weights when asked to restore them.
// With train.phases it watches the last phase only: stopping an earlier
// one would skip the phases after it, and a series measured while another
// output trains says little about the one trained last.
type stopper struct {
	cfg  *spec.EarlyStopping
	from int // the first epoch watched, from 1
	best float64
	wait int
	keep map[string]*tensors.Tensor // the best epoch's variables
}

func newStopper(cfg *spec.EarlyStopping, from int) *stopper {
	return &stopper{cfg: cfg, from: from, best: math.Inf(1)}
}

// replay brings the best value and the count of epochs without
// improvement to where they were after the epochs of h, those a resumed
// run trained before, so that the run stops when the uninterrupted one
// would. (The best epoch's weights that restore_best keeps are not in the
// checkpoint: when that epoch came before the resume, the resumed run
// cannot put them back and ends with its last epoch's weights.)
//
// It returns the best epoch among those of h (0 for none).
func (s *stopper) replay(h *data.History) (best int) {
	if s.cfg == nil {
		return 0
	}
	for i, v := range h.Series(s.cfg.Monitor) {
		if i+1 < s.from {
			continue
		}
		if v := data.Minimised(s.cfg.Monitor, v); v < s.best-s.cfg.MinDelta {
			s.best, s.wait, best = v, 0, i+1
		} else {
			s.wait++
		}
	}
	return best
}

// after looks at the last epoch and says whether to stop.
func (s *stopper) after(m *Model, h *data.History) (bool, error) {
	if s.cfg == nil {
		return false, nil
	}
	values := h.Series(s.cfg.Monitor)
	if len(values) == 0 {
		return false, fmt.Errorf("early_stopping.monitor: the history has no %s", s.cfg.Monitor)
	}
	if len(values) < s.from {
		return false, nil
	}
	v := data.Minimised(s.cfg.Monitor, values[len(values)-1])
	if v < s.best-s.cfg.MinDelta {
		s.best, s.wait = v, 0
		if s.cfg.RestoreBest {
			var err error
			if s.keep, err = m.snapshotVars(); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	s.wait++
	if s.wait > s.cfg.Patience {
		return true, s.restore(m)
	}
	return false, nil
}

// restore puts back the best epoch's weights, when kept.
func (s *stopper) restore(m *Model) error {
	if s.keep == nil {
		return nil
	}
	err := m.restoreVars(s.keep)
	s.keep = nil
	return err
}

// evalBatch is the batch size of evaluation: no gradients are kept, so it
// can be larger than training's, up to 500 examples, as long as their
// layer outputs take at most 64 MB (a wide convolution's patches are
// kh*kw times its input: cifar10_convnet evaluated 500 at a time peaked
// over 4 GB); never smaller than the training batch, which fits.
func (m *Model) evalBatch() int {
	per := 4 * max(m.plan.outputsPerExample(), 1) // bytes of one example's layer outputs
	b := int(min(int64(500), int64(64<<20)/per))
	return max(b, min(m.plan.Train.BatchSize, 500), 1)
}

// Evaluate returns each metric's mean over split, without dropout.
func (m *Model) Evaluate(split *data.Split) (map[string]float64, error) {
	return m.evaluateOn(memExamples{split})
}

// evaluateOn is Evaluate on examples in memory or streamed.
func (m *Model) evaluateOn(ex examples) (map[string]float64, error) {
	sums := make([]float64, 2*len(m.plan.Metrics))
	err := ex.batches(m.evalBatch(), nil, 0, func(split *data.Split, idx []int) error {
		s, err := m.run(m.evaluate, split, idx)
		for i := range s {
			sums[i] += s[i]
		}
		return err
	})
	if err != nil {
		return nil, err
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

// snapshotVars copies every variable of the model (weights, optimizer
// state, step counter, random state) to host memory.
func (m *Model) snapshotVars() (map[string]*tensors.Tensor, error) {
	snap := map[string]*tensors.Tensor{}
	for v := range m.store.IterVariables() {
		t, err := v.MustValue().LocalClone()
		if err != nil {
			return nil, err
		}
		snap[v.Path()] = t
	}
	return snap, nil
}

// restoreVars puts back a snapshot (nothing for nil).
func (m *Model) restoreVars(snap map[string]*tensors.Tensor) error {
	for v := range m.store.IterVariables() {
		if t, ok := snap[v.Path()]; ok {
			if err := v.SetValue(t); err != nil {
				return err
			}
		}
	}
	return nil
}
