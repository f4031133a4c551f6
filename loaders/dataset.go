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

// Apply runs the steps over both splits of ds, in place.
func Apply(steps []Step, ds *data.Dataset) error {
	for _, s := range steps {
		if err := s.ApplyDataset(ds); err != nil {
			return fmt.Errorf("%s (%s): %w", s.Path, s.Kind, err)
		}
	}
	return nil
}
