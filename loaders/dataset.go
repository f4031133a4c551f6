// Package loaders holds the dataset registry (mnist, ...) and the transforms
// that preprocess a loaded dataset (scale, reshape, one_hot).
package loaders

import (
	"fmt"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Loader reads one dataset. Schemas must answer without touching data, so
// that `pipe validate` can check shapes through the whole spec.
type Loader interface {
	Schemas() (x, y data.Schema)
	Load(dataDir string) (*data.Dataset, error)
}

// Sourced is a loader that reads only the files of one folder under the
// data directory. pipe checksums that folder to key its cache of the loaded
// and preprocessed data; a loader that is not Sourced is never cached.
type Sourced interface {
	Folder() string
}

// Transform is one preprocessing step over a whole dataset, such as
// turning rating triples into rating vectors.
type Transform interface {
	// OutSchemas are the schemas of x and y after the step, or an error
	// naming why the step does not apply to them.
	OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error)
	// ApplyDataset rewrites both splits in place; an error names data that
	// the declared schema allowed but the step cannot take (a label out of
	// range).
	ApplyDataset(ds *data.Dataset) error
}

// ColumnTransform is a Transform that rewrites one column example by
// example, so that predict can apply it to a single new input. Its
// OutSchemas and ApplyDataset are columnSchemas and applyColumn.
type ColumnTransform interface {
	Transform
	// Column is "x" or "y": which column the transform rewrites.
	Column() string
	OutSchema(in data.Schema) (data.Schema, error)
	Apply(a data.Array) (data.Array, error)
}

// BatchTransform is a column transform that pipe may run on each batch
// instead of on the whole dataset: each example's output depends on that
// example alone (and on numbers fitted on the training split, for a
// Fitter), and is no smaller than its input. A spec's trailing batch
// transforms (scale, reshape, one_hot, standardize) leave the data in its
// stored dtype in the cache and in memory, uint8 pixels and int32 labels,
// and turn into floats only the examples of a batch (SplitSteps).
type BatchTransform interface {
	ColumnTransform
	// PerBatch marks the transform; it does nothing.
	PerBatch()
}

// SplitSteps is the index of the first of the steps' trailing batch
// transforms: steps[:i] run on the whole dataset, before the cache, and
// steps[i:] on each batch. len(steps) when the last step is none.
func SplitSteps(steps []Step) int {
	i := len(steps)
	for i > 0 {
		if _, ok := steps[i-1].Transform.(BatchTransform); !ok {
			break
		}
		i--
	}
	return i
}

// RatingHoldOut is a Transform whose examples are not the unit that
// train.validation: a fraction draws: a rating vector holds many ratings,
// and holding out whole vectors leaves the model nothing to predict them
// from, so their error says nothing of the test error, which is measured
// on ratings missing from vectors the model does see. It holds out ratings
// instead.
type RatingHoldOut interface {
	Transform
	// HoldOut draws a seeded fraction of the ratings in train (a split the
	// transform made) and returns train without them, in its inputs and
	// targets, and the validation split that scores exactly them.
	HoldOut(train data.Split, fraction float64, seed uint64) (rest, val data.Split)
}

// columnSchemas is OutSchemas of a column transform.
func columnSchemas(t ColumnTransform, x, y data.Schema) (data.Schema, data.Schema, error) {
	var err error
	if t.Column() == "y" {
		y, err = t.OutSchema(y)
	} else {
		x, err = t.OutSchema(x)
	}
	return x, y, err
}

// applyColumn is ApplyDataset of a column transform.
func applyColumn(t ColumnTransform, ds *data.Dataset) error {
	for _, split := range []*data.Split{&ds.Train, &ds.Test} {
		col := &split.X
		if t.Column() == "y" {
			col = &split.Y
		}
		out, err := t.Apply(*col)
		if err != nil {
			return err
		}
		*col = out
	}
	return nil
}

// Registries of loaders and transforms; components add themselves in init().
var (
	Loaders    = spec.NewRegistry[Loader]("loader")
	Transforms = spec.NewRegistry[Transform]("transform")
)

// Step is a built transform with the spec position it came from.
type Step struct {
	Transform
	Kind, Path string
	Pos        spec.Pos
}

// BuildSteps builds the transforms listed in a spec.
func BuildSteps(cs []spec.Component) ([]Step, spec.ErrorList) {
	var steps []Step
	var errs spec.ErrorList
	for _, c := range cs {
		t, err := Transforms.Build(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		steps = append(steps, Step{Transform: t, Kind: c.Kind, Path: c.Path, Pos: c.Pos})
	}
	return steps, errs
}

// Schemas returns the schemas after the steps, from the loader's x and y,
// or positioned errors for steps that do not fit.
func Schemas(x, y data.Schema, steps []Step) (data.Schema, data.Schema, spec.ErrorList) {
	var errs spec.ErrorList
	for _, s := range steps {
		nx, ny, err := s.OutSchemas(x, y)
		if err != nil {
			on := fmt.Sprintf("examples %s -> %s", x, y)
			if ct, ok := s.Transform.(ColumnTransform); ok {
				on = fmt.Sprintf("%s %s", ct.Column(), x)
				if ct.Column() == "y" {
					on = fmt.Sprintf("y %s", y)
				}
			}
			errs = append(errs, &spec.Error{Pos: s.Pos, Path: s.Path, Msg: fmt.Sprintf("%s on %s: %v", s.Kind, on, err)})
			continue
		}
		x, y = nx, ny
	}
	return x, y, errs
}

// ApplyColumn runs the steps that rewrite column col ("x" or "y") over
// a, examples of that column: a batch, or one input. Every step must be a
// ColumnTransform (batch transforms are).
func ApplyColumn(steps []Step, col string, a data.Array) (data.Array, error) {
	for _, s := range steps {
		t, ok := s.Transform.(ColumnTransform)
		if !ok {
			return a, fmt.Errorf("%s (%s) is no column transform", s.Path, s.Kind)
		}
		if t.Column() != col {
			continue
		}
		var err error
		if a, err = t.Apply(a); err != nil {
			return a, fmt.Errorf("%s (%s): %w", s.Path, s.Kind, err)
		}
	}
	return a, nil
}

// Apply runs the steps over both splits of ds, in place.
func Apply(steps []Step, ds *data.Dataset) error {
	for _, s := range steps {
		if err := s.ApplyDataset(ds); err != nil {
			return fmt.Errorf("%s (%s): %w", s.Path, s.Kind, err)
		}
	}
	return nil
}
