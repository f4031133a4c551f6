package optim

import (
	"math"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Schedules is the learning-rate schedule registry. A schedule gives the
// factor on the optimizer's learning rate for each epoch.
var Schedules = spec.NewRegistry[Schedule]("schedule")

func init() {
	Schedules.Register("step", "Multiplies the learning rate by factor every `every` epochs.",
		func() Schedule { return &StepSchedule{Every: 10, Factor: 0.5} })
	Schedules.Register("exponential", "Multiplies the learning rate by rate after each epoch.",
		func() Schedule { return &ExponentialSchedule{Rate: 0.95} })
	Schedules.Register("cosine", "Cosine decay from the learning rate to min_factor times it over the run's epochs.",
		func() Schedule { return &CosineSchedule{} })
	Schedules.Register("reduce_on_plateau", "Multiplies the learning rate by factor when the monitored metric has not improved for patience epochs, as Keras' ReduceLROnPlateau.",
		func() Schedule { return &PlateauSchedule{Monitor: "val_loss", Factor: 0.1, Patience: 5, MinFactor: 0} })
}

// Schedule gives the learning-rate scale of epoch (1-based) of epochs,
// knowing the history of the epochs before it.
type Schedule interface {
	Scale(epoch, epochs int, h *data.History) float64
}

// StepSchedule is a step decay.
type StepSchedule struct {
	Every  int     `pipe:"every,min=1" doc:"epochs between reductions"`
	Factor float64 `pipe:"factor,min=0,max=1" doc:"multiplier at each reduction"`
}

func (s *StepSchedule) Scale(epoch, _ int, _ *data.History) float64 {
	return math.Pow(s.Factor, float64((epoch-1)/s.Every))
}

// ExponentialSchedule is an exponential decay per epoch.
type ExponentialSchedule struct {
	Rate float64 `pipe:"rate,min=0,max=1" doc:"multiplier per epoch"`
}

func (s *ExponentialSchedule) Scale(epoch, _ int, _ *data.History) float64 {
	return math.Pow(s.Rate, float64(epoch-1))
}

// CosineSchedule is cosine decay over the run.
type CosineSchedule struct {
	MinFactor float64 `pipe:"min_factor,min=0,max=1" doc:"factor reached at the last epoch"`
}

func (s *CosineSchedule) Scale(epoch, epochs int, _ *data.History) float64 {
	if epochs <= 1 {
		return 1
	}
	return s.MinFactor + (1-s.MinFactor)*0.5*(1+math.Cos(math.Pi*float64(epoch-1)/float64(epochs-1)))
}

// PlateauSchedule reduces the rate when a metric stops improving.
type PlateauSchedule struct {
	Monitor   string  `pipe:"monitor" doc:"history series to watch"`
	Factor    float64 `pipe:"factor,min=0,max=1" doc:"multiplier at each reduction"`
	Patience  int     `pipe:"patience,min=0" doc:"epochs without improvement before a reduction"`
	MinFactor float64 `pipe:"min_factor,min=0,max=1" doc:"lowest factor"`
}

// Scale replays the history: it is a pure function of it, so a resumed
// or repeated run gets the same rates.
func (s *PlateauSchedule) Scale(epoch, _ int, h *data.History) float64 {
	values := h.Series(s.Monitor)
	factor, best, wait := 1.0, math.Inf(1), 0
	for _, v := range values[:min(epoch-1, len(values))] {
		v = data.Minimised(s.Monitor, v)
		if v < best {
			best, wait = v, 0
			continue
		}
		if wait++; wait > s.Patience {
			factor, wait = math.Max(factor*s.Factor, s.MinFactor), 0
		}
	}
	return factor
}

// Monitor is a schedule that watches a history series; compile checks
// that the series will exist.
type Monitor interface {
	Monitored() string
}

func (s *PlateauSchedule) Monitored() string { return s.Monitor }
