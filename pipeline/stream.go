package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/spec"
)

// data.stream: a dataset too large for memory is read from its cache
// entry, whose splits are written in record batches of batch_rows
// examples, a record batch at a time, each batch memory-mapped on its own
// while it is copied (arrowio.SplitStream). Training copies a window of
// shuffle_window batches into memory and shuffles its examples;
// evaluation reads the test split in order, a batch at a time.

// checkStream rejects what a streamed dataset cannot do: the parts of
// pipe that need a whole split in memory.
func (p *Plan) checkStream(s *spec.Spec) spec.ErrorList {
	if p.Stream == nil {
		return nil
	}
	var errs spec.ErrorList
	if p.Recommender != nil {
		errs = append(errs, s.Errorf("data.stream", "a rating model (%s) is fitted on the whole rating matrix; stream applies to layer stacks", p.ModelName))
	}
	if p.Train.Validation.Split == "fraction" {
		errs = append(errs, s.Errorf("train.validation", "a held-out fraction of a streamed training split is not supported: use validation: test or none"))
	}
	for _, c := range []struct {
		name string
		s    data.Schema
	}{{"x", p.X}, {"y", p.Y}} {
		if slices.Contains(c.s.Shape, -1) {
			errs = append(errs, s.Errorf("data.stream", "streaming needs examples of a fixed shape; %s is %s after the transforms (pad sequences first)", c.name, c.s))
		}
	}
	if st, ok := p.Loader.(loaders.Streamer); ok {
		if param, why := st.CannotStream(); param != "" {
			errs = append(errs, s.Errorf("data."+param, "data.stream: %s", why))
		}
		for _, st := range p.Steps[:p.BatchFrom] {
			if _, fits := st.Transform.(loaders.Fitter); fits {
				errs = append(errs, s.Errorf(st.Path, "%s fits on the whole training split, which a streamed %s dataset never holds; the loader's own scaling (numeric features are z-scored) does it while streaming", st.Kind, p.LoaderName))
			} else if _, ok := st.Transform.(loaders.ColumnTransform); !ok {
				errs = append(errs, s.Errorf(st.Path, "%s transforms a whole dataset; a streamed %s dataset is transformed a record batch at a time", st.Kind, p.LoaderName))
			}
		}
	}
	return errs
}

// streamSet is a streamed dataset: its splits open on the cache entry.
type streamSet struct {
	train, test *streamExamples
	classes     []string
	files       closeAll
}

func (s *streamSet) Close() error { return s.files.Close() }

// streamData opens the plan's cache entry for streaming, building it
// first when it is missing or invalid: a loaders.Streamer writes it a
// record batch at a time; any other loader loads the dataset in memory
// once, and it is written in record batches for the runs that follow.
func (p *Plan) streamData(dataDir, cacheDir string) (*streamSet, error) {
	if cacheDir == "" {
		return nil, fmt.Errorf("%s: data.stream reads the dataset from the cache, and there is none (--cache-dir)", p.SpecFile())
	}
	key, id, ok, err := p.key(dataDir, cacheDir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: data.stream needs a cached dataset, and loader %s cannot be cached", p.SpecFile(), p.LoaderName)
	}
	entry := filepath.Join(cacheDir, id)
	stored := p.Steps[:p.BatchFrom] // the entry holds the data as they leave it; the rest run on each batch
	meta, err := checkEntry(entry, key)
	if err == nil {
		err = p.setFitted(stored, meta.Fitted)
	}
	if err != nil {
		if err := writeEntry(entry, key, p.fillStreamed(dataDir), func() map[string]json.RawMessage { return p.fittedState(stored) }); err != nil {
			return nil, err
		}
		if meta, err = checkEntry(entry, key); err != nil {
			return nil, err
		}
	}
	set := &streamSet{classes: meta.Classes}
	for name, ex := range map[string]**streamExamples{"train.arrow": &set.train, "test.arrow": &set.test} {
		s, err := arrowio.OpenSplitStream(filepath.Join(entry, name))
		if err != nil {
			set.Close()
			return nil, err
		}
		set.files = append(set.files, s)
		*ex = &streamExamples{s: s, seed: uint64(p.Seed), window: p.Stream.ShuffleWindow}
	}
	// Batch steps that learn from the training split (standardize) are
	// fitted on all of it, as in memory, a record batch at a time.
	if err := p.fitBatchStepsOn(set.train.each); err != nil {
		set.Close()
		return nil, &data.DataError{Path: p.SpecFile(), Err: err}
	}
	set.train.limit(p.TrainLimit)
	set.test.limit(p.TestLimit)
	sx, sy := set.train.s.Schemas()
	if x, _, _ := loaders.Schemas(sx, sy, p.batchSteps()); p.Input != nil && !slices.Equal(x.Shape, p.Input) {
		set.Close()
		return nil, spec.ErrorList{p.Errorf("model.input.shape", "the data gives examples of shape %v after the transforms, the model expects %v", x.Shape, p.Input)}
	}
	return set, nil
}

// fillStreamed writes the splits of a streamed entry into a folder.
func (p *Plan) fillStreamed(dataDir string) func(tmp string) (*data.Dataset, error) {
	rows := p.Stream.BatchRows
	return func(tmp string) (*data.Dataset, error) {
		if st, ok := p.Loader.(loaders.Streamer); ok {
			out := &splitFiles{dir: tmp, x: p.StoredX, y: p.StoredY, steps: p.Steps[:p.BatchFrom]}
			classes, err := st.LoadStream(dataDir, rows, out)
			if err == nil {
				err = out.close()
			}
			if err != nil {
				out.abort()
				return nil, err
			}
			return &data.Dataset{Classes: classes}, nil
		}
		ds, err := p.load(dataDir)
		if err != nil {
			return nil, err
		}
		for name, split := range map[string]*data.Split{"train.arrow": &ds.Train, "test.arrow": &ds.Test} {
			w, err := arrowio.NewSplitWriter(filepath.Join(tmp, name), split.X.Schema, split.Y.Schema, split.Len())
			if err != nil {
				return nil, err
			}
			for from := 0; from < split.Len(); from += rows {
				b := split.Slice(from, min(from+rows, split.Len()))
				if err := w.Write(&b); err != nil {
					return nil, err
				}
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
		}
		return ds, nil
	}
}

// splitFiles is the loaders.SplitSink of a streamed entry: it applies the
// plan's (per-example) transforms to each batch and writes it.
type splitFiles struct {
	dir   string
	x, y  data.Schema
	steps []loaders.Step
	w     [2]*arrowio.SplitWriter
}

func (f *splitFiles) Begin(trainRows, testRows int) error {
	for i, c := range []struct {
		name string
		rows int
	}{{"train.arrow", trainRows}, {"test.arrow", testRows}} {
		var err error
		if f.w[i], err = arrowio.NewSplitWriter(filepath.Join(f.dir, c.name), f.x, f.y, c.rows); err != nil {
			return err
		}
	}
	return nil
}

func (f *splitFiles) Write(test bool, s *data.Split) error {
	ds := &data.Dataset{Train: *s, Test: s.Slice(0, 0)}
	if err := loaders.Apply(f.steps, ds); err != nil {
		return err
	}
	w := f.w[0]
	if test {
		w = f.w[1]
	}
	if w == nil {
		return errors.New("a batch written before Begin")
	}
	return w.Write(&ds.Train)
}

func (f *splitFiles) close() error {
	var errs []error
	for _, w := range f.w {
		if w != nil {
			errs = append(errs, w.Close())
		}
	}
	f.w = [2]*arrowio.SplitWriter{}
	return errors.Join(errs...)
}

// abort closes what is open; the folder is removed by the caller.
func (f *splitFiles) abort() { f.close() }
