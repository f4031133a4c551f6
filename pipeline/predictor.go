package pipeline

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
)

// InputKind is what a run's model takes as one input.
type InputKind string

const (
	InputImage   InputKind = "image"   // a PNG or JPEG, or its raw pixels (mnist, cifar10)
	InputText    InputKind = "text"    // a review's text (imdb)
	InputRatings InputKind = "ratings" // one user's ratings, item -> rating (rating data)
)

// InputError is an input that the model cannot take: bad bytes, a wrong
// size, an unknown item. Field names the input (a file, a request field);
// a server answers it as the client's mistake.
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// inputErrorf is an InputError whose message starts with the field.
func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Err: fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))}
}

// Predictor is a finished run's model, loaded once, that answers many
// predictions: what `pipe serve` holds. Its inputs go through the same
// decoders and transforms as `pipe predict`'s, and its answers equal
// PredictRun's for the same inputs.
//
// Decode, FromPixels and UserRatings may be called from any goroutine;
// model calls (Predict, PredictUser) take turns, since one call already
// uses every core of the backend.
type Predictor struct {
	Plan     *Plan
	Dir      string      // the run directory
	Kind     InputKind   // what one input is
	Raw      data.Schema // one raw example as the loader gives it, before the transforms (an image's pixels)
	Width    int         // the model's outputs per example (layer stacks)
	Classes  []string    // class names from the run's predictions file; nil when it names none
	MaxBatch int         // examples per model call at most
	Warnings []string    // what was not loaded, for the server's log (unreadable class names)

	dataDir    string
	dec        loaders.InputDecoder
	transforms []loaders.ColumnTransform
	model      *Model     // layer stacks on image or text inputs
	users      *userModel // rating runs
	buckets    []int      // the batch sizes a model call is padded to

	mu                sync.Mutex // one model call at a time
	batches, examples atomic.Int64
}

// NewPredictor loads the model of the finished run in dir: a layer stack
// from its checkpoint, or a rating model as predict restores it (which
// loads the dataset for its items). maxBatch bounds the examples of one
// model call (at most the model's evaluation batch).
func NewPredictor(dir string, opt Options, maxBatch int) (*Predictor, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("the batch size must be at least 1, got %d", maxBatch)
	}
	run, p, err := OpenRun(dir)
	if err != nil {
		return nil, err
	}
	raw, _ := p.Loader.Schemas()
	pr := &Predictor{Plan: p, Dir: run.Dir, Raw: raw, dataDir: opt.DataDir}
	if p.RatingData() {
		pr.Kind = InputRatings
		if pr.users, err = p.loadUserModel(run, opt); err != nil {
			return nil, err
		}
		return pr, nil
	}
	dec, ok := p.Loader.(loaders.InputDecoder)
	switch {
	case !ok:
		return nil, &PredictError{fmt.Errorf("loader %s cannot decode inputs for predictions", p.LoaderName)}
	case raw.DType == data.Int32 && slices.Equal(raw.Shape, []int{-1}):
		pr.Kind = InputText
	case raw.DType == data.Uint8 || raw.DType == data.Float32:
		pr.Kind = InputImage
	default:
		return nil, &PredictError{fmt.Errorf("loader %s gives %s examples, neither an image nor a text", p.LoaderName, raw)}
	}
	if prep, ok := dec.(loaders.Preparer); ok {
		if err := prep.Prepare(opt.DataDir); err != nil {
			return nil, err
		}
	}
	pr.dec = dec
	pr.transforms = p.inputTransforms()
	if pr.model, err = p.loadModel(run, opt.Backend); err != nil {
		return nil, err
	}
	pr.Width = 1
	for _, d := range p.Output() {
		pr.Width *= d
	}
	// Outputs splits what exceeds the evaluation batch into calls of other
	// shapes; a model call stays within it so that its shapes stay few.
	pr.MaxBatch = min(maxBatch, pr.model.evalBatch())
	pr.buckets = batchBuckets(pr.MaxBatch)
	pr.Classes, err = arrowio.ReadClassNames(filepath.Join(run.Dir, rundir.PredictionsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		pr.Warnings = append(pr.Warnings, fmt.Sprintf("no class names: %v", err))
	}
	return pr, nil
}

// batchBuckets are the sizes a model call is padded to: powers of two up to
// max, and max. GoMLX compiles a graph for every input shape and keeps at
// most 32 per computation, so a call of any other size would compile a new
// graph, and after 32 sizes fail; padded, a server compiles a handful.
func batchBuckets(max int) []int {
	var b []int
	for n := 1; n < max; n *= 2 {
		b = append(b, n)
	}
	return append(b, max)
}

// Close releases the model's dataset (rating runs) and backend.
func (pr *Predictor) Close() error {
	if pr.users != nil {
		return pr.users.Close()
	}
	if pr.model != nil {
		pr.model.backend.Finalize()
	}
	return nil
}

// Stats are how many model calls the Predictor made and how many examples
// they held (padding not counted): examples/batches is how well requests
// were batched.
func (pr *Predictor) Stats() (batches, examples int64) {
	return pr.batches.Load(), pr.examples.Load()
}

// RatingInfo is the items and rating scale of a rating run; nil otherwise.
func (pr *Predictor) RatingInfo() *data.RatingInfo {
	if pr.users == nil {
		return nil
	}
	return pr.users.info
}

// Decode turns one input's bytes (an image file's, a review's text) into
// an example for Predict, through the loader's decoder and the spec's
// transforms, as predict does with a file; field names the input in errors.
func (pr *Predictor) Decode(field string, b []byte) (data.Array, error) {
	if pr.dec == nil {
		return data.Array{}, inputErrorf(field, "this model takes %s, not bytes", pr.Kind)
	}
	if err := loaders.CheckInput(pr.dec.InputKind(), b); err != nil {
		return data.Array{}, &InputError{Field: field, Err: fmt.Errorf("%s: %w", field, err)}
	}
	x, err := pr.dec.DecodeInput(pr.dataDir, field, b)
	if err != nil {
		var de *data.DataError
		if errors.As(err, &de) && de.Path == field {
			return data.Array{}, &InputError{Field: field, Err: err}
		}
		return data.Array{}, err // the data directory, not the input
	}
	return pr.transform(field, x)
}

// FromPixels takes an image as its raw pixel values (0..255, the loader's
// shape, flattened row by row as the loader stores them) and returns an
// example for Predict; the same pixels as a PNG give the same example.
func (pr *Predictor) FromPixels(field string, px []float64) (data.Array, error) {
	if pr.Kind != InputImage {
		return data.Array{}, inputErrorf(field, "this model takes %s, not pixels", pr.Kind)
	}
	if n := shapeSize(pr.Raw.Shape); len(px) != n {
		return data.Array{}, inputErrorf(field, "%d values, the model takes %d (%s)", len(px), n, shapeText(pr.Raw.Shape))
	}
	x := data.Array{Schema: data.Schema{DType: pr.Raw.DType, Shape: slices.Clone(pr.Raw.Shape)}}
	for i, v := range px {
		if math.IsNaN(v) || v < 0 || v > 255 {
			return data.Array{}, inputErrorf(field, "value %d is %g, outside 0..255", i, v)
		}
		if pr.Raw.DType == data.Uint8 {
			// As a PNG's pixels are: whole levels.
			if v != math.Trunc(v) {
				return data.Array{}, inputErrorf(field, "value %d is %g, not a whole number 0..255", i, v)
			}
			x.Bytes = append(x.Bytes, uint8(v))
		} else {
			x.Float = append(x.Float, float32(v))
		}
	}
	return pr.transform(field, x)
}

// transform applies the spec's feature transforms to one decoded input and
// checks that it became one example of the model's input.
func (pr *Predictor) transform(field string, x data.Array) (data.Array, error) {
	x, err := loaders.ApplyToInput(pr.transforms, x)
	if err != nil {
		return data.Array{}, &InputError{Field: field, Err: fmt.Errorf("%s: %w", field, err)}
	}
	if err := pr.checkExample(x); err != nil {
		return data.Array{}, fmt.Errorf("%s: %w", field, err)
	}
	return x, nil
}

// checkExample: one example as the plan's data holds them (before its
// batch steps, which run on Predict's batches), so that Predict can put
// examples side by side.
func (pr *Predictor) checkExample(x data.Array) error {
	want := pr.Plan.StoredX
	n := shapeSize(want.Shape)
	got := x.Values()
	if x.DType != want.DType || x.Ragged() || !slices.Equal(x.Shape, want.Shape) || got != n {
		return fmt.Errorf("the transforms made a %s example of %d values, the model takes %s", x.Schema, got, want)
	}
	return nil
}

// Predict runs examples (from Decode or FromPixels) through the model and
// returns each one's outputs (Width values). Up to MaxBatch examples go
// through one model call, padded to the next batch bucket.
func (pr *Predictor) Predict(xs []data.Array) ([][]float32, error) {
	if pr.model == nil {
		return nil, fmt.Errorf("this model takes %s, not examples", pr.Kind)
	}
	for i, x := range xs {
		if err := pr.checkExample(x); err != nil {
			return nil, fmt.Errorf("example %d: %w", i, err)
		}
	}
	out := make([][]float32, 0, len(xs))
	for from := 0; from < len(xs); from += pr.MaxBatch {
		rows, err := pr.call(xs[from:min(from+pr.MaxBatch, len(xs))])
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// call is one model call on at most MaxBatch examples. Rows of a batch do
// not mix (no layer looks across examples once dropout is off), so the
// zero rows of padding change nothing in the others.
func (pr *Predictor) call(xs []data.Array) (rows [][]float32, err error) {
	size := pr.buckets[len(pr.buckets)-1]
	for _, b := range pr.buckets {
		if b >= len(xs) {
			size = b
			break
		}
	}
	n := shapeSize(pr.Plan.StoredX.Shape)
	x := data.Array{Schema: pr.Plan.StoredX}
	switch x.DType {
	case data.Int32:
		x.Int = padded(xs, n, size, func(e data.Array) []int32 { return e.Int })
	case data.Uint8:
		x.Bytes = padded(xs, n, size, func(e data.Array) []uint8 { return e.Bytes })
	default:
		x.Float = padded(xs, n, size, func(e data.Array) []float32 { return e.Float })
	}
	// A label column of the right length, unused by Outputs.
	split := data.Split{X: x, Y: data.Array{Schema: data.Schema{DType: data.Float32}, Float: make([]float32, size)}}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	defer func() {
		// GoMLX reports some failures by panic: an error for the caller.
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("model call: %v", r)
		}
	}()
	o, err := pr.model.Outputs(&split)
	if err != nil {
		return nil, err
	}
	if len(o) != size*pr.Width {
		return nil, fmt.Errorf("the model gave %d outputs for %d examples of %d", len(o), size, pr.Width)
	}
	pr.batches.Add(1)
	pr.examples.Add(int64(len(xs)))
	rows = make([][]float32, len(xs))
	for i := range rows {
		rows[i] = o[i*pr.Width : (i+1)*pr.Width : (i+1)*pr.Width]
	}
	return rows, nil
}

// Warm makes one model call of every batch bucket, so that graphs are
// compiled before the first request rather than during it.
func (pr *Predictor) Warm() error {
	if pr.model == nil {
		return nil
	}
	n := shapeSize(pr.Plan.StoredX.Shape)
	zero := data.Array{Schema: pr.Plan.StoredX}
	switch zero.DType {
	case data.Int32:
		zero.Int = make([]int32, n)
	case data.Uint8:
		zero.Bytes = make([]uint8, n)
	default:
		zero.Float = make([]float32, n)
	}
	for _, b := range pr.buckets {
		xs := make([]data.Array, b)
		for i := range xs {
			xs[i] = zero
		}
		if _, err := pr.call(xs); err != nil {
			return err
		}
	}
	// Warming is not serving: the counts start at zero.
	pr.batches.Store(0)
	pr.examples.Store(0)
	return nil
}

// UserRatings checks a user's ratings (item id -> rating) for PredictUser;
// field names them in errors.
func (pr *Predictor) UserRatings(field string, ratings map[string]float64) (map[int32]float32, error) {
	if pr.users == nil {
		return nil, inputErrorf(field, "this model takes %s, not a user's ratings", pr.Kind)
	}
	r, err := loaders.UserRatings(field, ratings, pr.users.info)
	if err != nil {
		return nil, &InputError{Field: field, Err: err}
	}
	return r, nil
}

// PredictUser returns the items the user did not rate, best first, with
// their predicted ratings, as predict does for a ratings file.
func (pr *Predictor) PredictUser(field string, ratings map[int32]float32) (p Prediction, err error) {
	if pr.users == nil {
		return Prediction{}, inputErrorf(field, "this model takes %s, not a user's ratings", pr.Kind)
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			p, err = Prediction{}, fmt.Errorf("model call: %v", r)
		}
	}()
	p, err = pr.users.rank(field, ratings)
	if err == nil {
		pr.batches.Add(1)
		pr.examples.Add(1)
	}
	return p, err
}

// padded puts the values of examples xs (n each) side by side, followed
// by zeros up to size examples.
func padded[T any](xs []data.Array, n, size int, values func(data.Array) []T) []T {
	out := make([]T, 0, size*n)
	for _, e := range xs {
		out = append(out, values(e)...)
	}
	return out[:size*n]
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// shapeText writes a shape as 28x28.
func shapeText(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}
