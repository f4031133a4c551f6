package loaders

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Transforms.Register("standardize", "Subtracts the mean and divides by the standard deviation of the training split, per channel (the last axis: an image's colours) or per pixel (every feature apart, Keras' subtract_pixel_mean with a scale). The statistics come from the training split only (with train.validation: a fraction, the held-out part included) and are stored with the run (fitted.json), so pipe predict, serve and export apply the same numbers to new inputs.",
		func() Transform { return &Standardize{Per: "channel"} })
}

// Fitter is a column transform with numbers fitted on the training
// split: ApplyDataset fits them on the training examples, then applies
// them to both splits. Apply, on a new input at prediction, needs them
// fitted, or restored from what Fitted gave when the run was trained.
type Fitter interface {
	ColumnTransform
	FittedState
	// Fit fits the numbers on the training examples that each hands to
	// visit, a chunk of whole examples at a time and in order; it may call
	// each more than once (standardize makes two passes). A Fitter among a
	// spec's batch transforms is fitted so, on the stored data through the
	// transforms before it, a chunk at a time.
	Fit(each func(visit func(data.Array) error) error) error
}

// FittedState is a component (a Fitter, or a loader such as table) with
// numbers fitted on the training split, which a run stores.
type FittedState interface {
	// Fitted is the fitted state as JSON; nil before fitting.
	Fitted() json.RawMessage
	// Restore sets the state that Fitted gave.
	Restore(state json.RawMessage) error
}

// Standardize maps x to (x - mean) / std with the training split's
// statistics, per channel or per pixel.
type Standardize struct {
	Per string `pipe:"per,oneof=channel|pixel" doc:"channel: one mean and standard deviation per channel (the last axis), over every example and position; pixel: one per feature"`

	fit *standardFit // nil until fitted or restored
}

// standardFit is what Standardize learns, as fitted.json keeps it.
type standardFit struct {
	Per  string    `json:"per"`
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"` // population standard deviation; 1 where it is 0
}

func (*Standardize) Column() string { return "x" }
func (t *Standardize) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	return columnSchemas(t, x, y)
}

func (t *Standardize) OutSchema(in data.Schema) (data.Schema, error) {
	if in.DType != data.Float32 {
		return in, fmt.Errorf("needs float features, got %s: scale them first", in)
	}
	if len(in.Shape) == 0 || slices.Contains(in.Shape, -1) {
		return in, fmt.Errorf("needs examples of a fixed shape, got %s", in)
	}
	return in, nil
}

// width is the number of statistics: channels or features.
func (t *Standardize) width(shape []int) int {
	if t.Per == "pixel" {
		return data.Elements(shape)
	}
	return shape[len(shape)-1]
}

func (t *Standardize) ApplyDataset(ds *data.Dataset) error {
	if err := t.Fit(func(visit func(data.Array) error) error { return visit(ds.Train.X) }); err != nil {
		return err
	}
	return applyColumn(t, ds)
}

func (*Standardize) PerBatch() {}

// Fit takes the mean and population standard deviation of the examples,
// in float64, in two passes. Chunks hold whole examples, so element i of
// a chunk is statistic i%k, as in one array of them all.
func (t *Standardize) Fit(each func(visit func(data.Array) error) error) error {
	var k int
	var sum, sq []float64
	count := 0.0
	err := each(func(a data.Array) error {
		if sum == nil {
			k = t.width(a.Shape)
			sum, sq = make([]float64, k), make([]float64, k)
		}
		for i, v := range a.Float {
			sum[i%k] += float64(v)
		}
		count += float64(len(a.Float) / k)
		return nil
	})
	if err != nil {
		return err
	}
	if count == 0 {
		return fmt.Errorf("standardize: the training split has no examples to fit on")
	}
	mean := make([]float64, k)
	for j := range mean {
		mean[j] = sum[j] / count
	}
	err = each(func(a data.Array) error {
		for i, v := range a.Float {
			d := float64(v) - mean[i%k]
			sq[i%k] += d * d
		}
		return nil
	})
	if err != nil {
		return err
	}
	f := &standardFit{Per: t.Per, Mean: make([]float32, k), Std: make([]float32, k)}
	for j := range k {
		f.Mean[j], f.Std[j] = float32(mean[j]), 1
		if s := math.Sqrt(sq[j] / count); s > 0 {
			f.Std[j] = float32(s)
		}
	}
	t.fit = f
	return nil
}

func (t *Standardize) Apply(a data.Array) (data.Array, error) {
	if t.fit == nil {
		return a, fmt.Errorf("standardize has no fitted statistics (a run stores them in fitted.json)")
	}
	k := t.width(a.Shape)
	if k != len(t.fit.Mean) {
		return a, fmt.Errorf("standardize was fitted on %d %ss, the input has %d", len(t.fit.Mean), t.Per, k)
	}
	out := data.Array{Schema: a.Schema, Float: make([]float32, len(a.Float))}
	for i, v := range a.Float {
		out.Float[i] = (v - t.fit.Mean[i%k]) / t.fit.Std[i%k]
	}
	return out, nil
}

func (t *Standardize) Fitted() json.RawMessage {
	if t.fit == nil {
		return nil
	}
	b, _ := json.Marshal(t.fit)
	return b
}

func (t *Standardize) Restore(state json.RawMessage) error {
	var f standardFit
	if err := json.Unmarshal(state, &f); err != nil {
		return fmt.Errorf("standardize: %w", err)
	}
	if f.Per != t.Per || len(f.Mean) == 0 || len(f.Mean) != len(f.Std) {
		return fmt.Errorf("standardize: the stored statistics (per %s, %d means, %d deviations) are not those of per: %s", f.Per, len(f.Mean), len(f.Std), t.Per)
	}
	t.fit = &f
	return nil
}

// Stats are the fitted means and standard deviations (nil before
// fitting), for pipe export.
func (t *Standardize) Stats() (mean, std []float32) {
	if t.fit == nil {
		return nil, nil
	}
	return t.fit.Mean, t.fit.Std
}
