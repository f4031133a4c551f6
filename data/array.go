// Package data holds the types every stage of pipe shares: arrays and their
// schemas, splits, datasets, rating info, the per-epoch history and the
// error that names a bad data file. It imports no other package of pipe:
// loaders produce these values, models and evaluators consume them.
package data

import (
	"fmt"
	"slices"
)

// DType is the element type of an Array.
type DType string

const (
	Float32 DType = "float32"
	Int32   DType = "int32"
	// Uint8 is how image loaders keep pixels (0..255): a quarter of the
	// memory of float32. A scale transform turns them into floats, batch by
	// batch (pipeline/batch.go).
	Uint8 DType = "uint8"
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
// Exactly one of Float, Int and Bytes holds data, as DType says.
//
// A ragged column (token sequences before padding) has Shape [-1] and
// Offsets: example i is elements Offsets[i]:Offsets[i+1].
type Array struct {
	Schema
	Float   []float32
	Int     []int32
	Bytes   []uint8
	Offsets []int
}

// Ragged reports whether examples differ in length.
func (a *Array) Ragged() bool { return a.Offsets != nil }

// Size is the number of elements of one example.
func (a *Array) Size() int { return Elements(a.Shape) }

// Elements is the number of values in a tensor of the given shape (1 for
// a scalar): the one place pipe multiplies out a shape.
func Elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of examples.
func (a *Array) Len() int {
	if a.Ragged() {
		return len(a.Offsets) - 1
	}
	return a.Values() / max(a.Size(), 1)
}

// Values is the number of elements held, in whichever slice DType names.
func (a *Array) Values() int {
	switch a.DType {
	case Int32:
		return len(a.Int)
	case Uint8:
		return len(a.Bytes)
	}
	return len(a.Float)
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
	switch a.DType {
	case Int32:
		out.Int = a.Int[lo:hi]
	case Uint8:
		out.Bytes = a.Bytes[lo:hi]
	default:
		out.Float = a.Float[lo:hi]
	}
	return out
}

// Take copies examples idx of a fixed-shape array, in that order, into
// an array of their own: a batch, or a sample of the examples.
func (a *Array) Take(idx []int) Array {
	out := Array{Schema: a.Schema}
	out.Append(a, idx)
	return out
}

// Append appends examples idx of the fixed-shape array src, in that order,
// to a (of src's dtype), reusing a's capacity: a window of streamed
// batches grows this way.
func (a *Array) Append(src *Array, idx []int) {
	n := src.Size()
	switch src.DType {
	case Int32:
		a.Int = appendTaken(a.Int, src.Int, idx, n)
	case Uint8:
		a.Bytes = appendTaken(a.Bytes, src.Bytes, idx, n)
	default:
		a.Float = appendTaken(a.Float, src.Float, idx, n)
	}
}

func appendTaken[T any](dst, s []T, idx []int, n int) []T {
	dst = slices.Grow(dst, len(idx)*n)
	for _, i := range idx {
		dst = append(dst, s[i*n:(i+1)*n]...)
	}
	return dst
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
