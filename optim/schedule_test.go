package optim

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

func TestSchedules(t *testing.T) {
	h := &data.History{}
	// val_loss: improves, then stalls for three epochs, improves, stalls.
	for _, v := range []float64{1.0, 0.8, 0.9, 0.85, 0.81, 0.7, 0.75, 0.72} {
		h.Add("val_loss", v)
	}
	cases := []struct {
		name  string
		s     Schedule
		epoch int
		want  float64
	}{
		{"step, first epoch", &StepSchedule{Every: 3, Factor: 0.5}, 1, 1},
		{"step, epoch 3 (still the first window)", &StepSchedule{Every: 3, Factor: 0.5}, 3, 1},
		{"step, epoch 7 (two reductions)", &StepSchedule{Every: 3, Factor: 0.5}, 7, 0.25},
		{"exponential, epoch 3", &ExponentialSchedule{Rate: 0.9}, 3, 0.81},
		{"cosine, first", &CosineSchedule{MinFactor: 0.1}, 1, 1},
		{"cosine, middle of 9", &CosineSchedule{MinFactor: 0.1}, 5, 0.55},
		{"cosine, last of 9", &CosineSchedule{MinFactor: 0.1}, 9, 0.1},
		// Best 0.8 at epoch 2; epochs 3, 4, 5 do not improve: with patience
		// 2 the third stall (after epoch 5) reduces, so epoch 6 runs at 0.5.
		{"plateau before the reduction", &PlateauSchedule{Monitor: "val_loss", Factor: 0.5, Patience: 2}, 5, 1},
		{"plateau after it", &PlateauSchedule{Monitor: "val_loss", Factor: 0.5, Patience: 2}, 6, 0.5},
		{"plateau floor", &PlateauSchedule{Monitor: "val_loss", Factor: 0.5, Patience: 0, MinFactor: 0.3}, 9, 0.3},
	}
	for _, c := range cases {
		if got := c.s.Scale(c.epoch, 9, h); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
