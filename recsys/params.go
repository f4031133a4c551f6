package recsys

import (
	"fmt"
	"math"

	"github.com/pipe-ml/pipe/data"
)

// A rating model's size depends on the data: matrix factorisation has a
// factor vector per user and per item, the RBM a weight per entry, level
// and hidden unit. pipe summary reads no data, so it shows how the count
// follows from the data's sizes; a run knows the sizes and the number.

// ParamCounter is a rating model (its params) that says how many trainable
// parameters it fits.
type ParamCounter interface {
	// ParamCount returns the number of trainable parameters that the model
	// fits to rating data described by info, and the formula that gives
	// it from the data's sizes ("(users + items) x 100 + users + items").
	// n is -1 when it depends on sizes that info does not give: info nil,
	// or a rating scale the model cannot fit. Statistics computed from the
	// data rather than learned (means, standard deviations) do not count.
	ParamCount(info *data.RatingInfo) (n int, formula string)
}

// ParamCounted is a Fitted model that counts the trainable parameters it
// learned: what ParamCount gives for the data it was fitted to.
type ParamCounted interface {
	TrainableParams() int
}

func (p *MatrixFactorization) ParamCount(info *data.RatingInfo) (int, string) {
	formula := fmt.Sprintf("(users + items) x %d", p.Factors)
	if p.Biases {
		formula += " + users + items"
	}
	if info == nil {
		return -1, formula
	}
	n := (len(info.Users) + len(info.Items)) * p.Factors
	if p.Biases {
		n += len(info.Users) + len(info.Items)
	}
	return n, formula
}

// TrainableParams counts p and q, and bu and bi when they are learned
// (biases: true; otherwise they stay 0 and take no part).
func (m *mfModel) TrainableParams() int {
	n := len(m.p) + len(m.q)
	if m.Biases {
		n += len(m.bu) + len(m.bi)
	}
	return n
}

// ParamCount counts W (entries x levels x hidden), the visible biases
// (entries x levels) and the hidden biases, the entries being the items
// (by: user) or the users (by: item).
func (p *RBMCF) ParamCount(info *data.RatingInfo) (int, string) {
	entries := "items"
	if p.By == "item" {
		entries = "users"
	}
	levels, note := "levels", " (levels: one per integer of the rating scale)"
	if p.Bins != 0 {
		levels, note = fmt.Sprint(p.Bins), ""
	}
	formula := fmt.Sprintf("%s x %s x %d + %s x %s + %d%s", entries, levels, p.Hidden, entries, levels, p.Hidden, note)
	if info == nil {
		return -1, formula
	}
	k := rbmLevelCount(info.Scale, p.Bins)
	if k < 0 {
		return -1, formula
	}
	cols := len(info.Items)
	if p.By == "item" {
		cols = len(info.Users)
	}
	return cols*k*p.Hidden + cols*k + p.Hidden, formula
}

// rbmLevelCount is the number of rating levels that rbmModel.setLevels
// makes of scale with bins, or -1 where it refuses the scale.
func rbmLevelCount(scale [2]float32, bins int) int {
	lo, hi := float64(scale[0]), float64(scale[1])
	switch {
	case bins == 0 && lo == math.Round(lo) && hi == math.Round(hi) && hi > lo && hi-lo <= 254:
		return int(hi-lo) + 1
	case bins >= 2 && bins <= 255 && hi > lo:
		return bins
	}
	return -1
}

func (m *rbmModel) TrainableParams() int { return len(m.w) + len(m.bv) + len(m.bh) }

// ParamCount is 0 whatever the data: user_knn is memory-based, it learns
// nothing and rates from the training ratings it keeps.
func (p *UserKNN) ParamCount(*data.RatingInfo) (int, string) {
	return 0, "none: memory-based, it rates from the training ratings it keeps"
}

func (m *knnModel) TrainableParams() int { return 0 }
