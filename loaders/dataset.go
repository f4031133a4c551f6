// Package loaders holds the dataset registry (mnist, ...) and the transforms
// that preprocess a loaded dataset (scale, reshape, one_hot).
package loaders

import (
	"fmt"

	"github.com/pipe-ml/pipe/spec"
)

// DType is the element type of an Array.
type DType string

const (
	Float32 DType = "float32"
	Int32   DType = "int32"
)

// Schema describes one column without its data: what validation and
// `pipe summary` know before anything is read.
type Schema struct {
	DType   DType
	Shape   []int // of one example
	Classes int   // for integer labels: how many classes; 0 otherwise
}

func (s Schema) String() string { return fmt.Sprintf("%s%v", s.DType, s.Shape) }

// Array is a column of examples stored contiguously, example after example.
// Exactly one of Float and Int holds data, as DType says.
//
// A ragged column (token sequences before padding) has Shape [-1] and
// Offsets: example i is elements Offsets[i]:Offsets[i+1].
type Array struct {
	Schema
	Float   []float32
	Int     []int32
	Offsets []int
}

// Ragged reports whether examples differ in length.
func (a *Array) Ragged() bool { return a.Offsets != nil }

// Size is the number of elements of one example.
func (a *Array) Size() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Len is the number of examples.
func (a *Array) Len() int {
	if a.Ragged() {
		return len(a.Offsets) - 1
	}
	if a.DType == Int32 {
		return len(a.Int) / max(a.Size(), 1)
	}
	return len(a.Float) / max(a.Size(), 1)
}

// Slice returns examples [from, to) sharing a's storage.
func (a *Array) Slice(from, to int) Array {
	out := Array{Schema: a.Schema}
	lo, hi := from*a.Size(), to*a.Size()
	if a.Ragged() {
		lo, hi = a.Offsets[from], a.Offsets[to]
		out.Offsets = make([]int, to-from+1)
		for i := range out.Offsets {
			out.Offsets[i] = a.Offsets[from+i] - lo
		}
	}
	if a.DType == Int32 {
		out.Int = a.Int[lo:hi]
	} else {
		out.Float = a.Float[lo:hi]
	}
	return out
}

// Split is the features and labels of one part of a dataset.
type Split struct {
	X, Y Array
}

// Len is the number of examples.
func (s *Split) Len() int { return s.X.Len() }

// Slice returns examples [from, to).
func (s *Split) Slice(from, to int) Split {
	return Split{X: s.X.Slice(from, to), Y: s.Y.Slice(from, to)}
}

// Dataset is what a loader yields.
type Dataset struct {
	Train, Test Split
	Classes     []string    // class names, when labels are classes
	Ratings     *RatingInfo // users, items and scale, for rating data (see ratings.go)
}

// Loader reads one dataset. Schemas must answer without touching data, so
// that `pipe validate` can check shapes through the whole spec.
type Loader interface {
	Schemas() (x, y Schema)
	Load(dataDir string) (*Dataset, error)
}

// Sourced is a loader that reads only the files of one folder under the
// data directory. pipe checksums that folder to key its cache of the loaded
// and preprocessed data; a loader that is not Sourced is never cached.
type Sourced interface {
	Folder() string
}

// Transform is one preprocessing step, applied to features or to labels.
type Transform interface {
	// Column is "x" or "y": which column the transform rewrites.
	Column() string
	// OutSchema is the schema after the transform, or an error naming why
	// the transform does not apply to in.
	OutSchema(in Schema) (Schema, error)
	// Apply transforms a column; an error names data that the declared
	// schema allowed but the transform cannot take (a label out of range).
	Apply(a Array) (Array, error)
}

// DatasetTransform is a preprocessing step that needs the whole dataset at
// once, such as turning rating triples into rating vectors. It is
// registered with the other transforms.
type DatasetTransform interface {
	OutSchemas(x, y Schema) (Schema, Schema, error)
	ApplyDataset(ds *Dataset) error
}

// Registries of loaders and transforms; components add themselves in init().
var (
	Loaders    = spec.NewRegistry("loader")
	Transforms = spec.NewRegistry("transform")
)

// Schemas returns the schemas of the data section after all transforms,
// or positioned errors for transforms that do not fit.
func Schemas(s *spec.Spec) (x, y Schema, errs spec.ErrorList) {
	x, y = s.Data.Loader.Config.(Loader).Schemas()
	for _, c := range s.Data.Transforms {
		if dt, ok := c.Config.(DatasetTransform); ok {
			nx, ny, err := dt.OutSchemas(x, y)
			if err != nil {
				errs = append(errs, &spec.Error{Pos: c.Pos, Path: c.Path, Msg: fmt.Sprintf("%s on examples %s -> %s: %v", c.Kind, x, y, err)})
				continue
			}
			x, y = nx, ny
			continue
		}
		t := c.Config.(Transform)
		col := &x
		if t.Column() == "y" {
			col = &y
		}
		out, err := t.OutSchema(*col)
		if err != nil {
			errs = append(errs, &spec.Error{Pos: c.Pos, Path: c.Path, Msg: fmt.Sprintf("%s on %s %s: %v", c.Kind, t.Column(), *col, err)})
			continue
		}
		*col = out
	}
	return x, y, errs
}

// Apply runs the transforms of s over both splits of ds, in place.
func Apply(s *spec.Spec, ds *Dataset) error {
	for _, c := range s.Data.Transforms {
		if dt, ok := c.Config.(DatasetTransform); ok {
			if err := dt.ApplyDataset(ds); err != nil {
				return fmt.Errorf("%s (%s): %w", c.Path, c.Kind, err)
			}
			continue
		}
		t := c.Config.(Transform)
		for _, split := range []*Split{&ds.Train, &ds.Test} {
			col := &split.X
			if t.Column() == "y" {
				col = &split.Y
			}
			out, err := t.Apply(*col)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", c.Path, c.Kind, err)
			}
			*col = out
		}
	}
	return nil
}
