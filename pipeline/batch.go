package pipeline

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// A dataset stays in the dtype its loader stores it in, uint8 pixels and
// int32 labels, in the cache and in memory: the spec's trailing batch
// transforms (loaders.SplitSteps: scale, reshape, one_hot, standardize)
// run on each batch as it is copied out for the model, the same
// implementation that a whole dataset or one input to predict goes
// through. CIFAR-10's 60,000 images are then 184 MB of bytes instead of
// 737 MB of float32, and a one-hot label 4 bytes instead of 40. Training,
// evaluation, predictions, augmentation, bench and serving all take their
// batches from batch or batchColumn.

// batchSteps are the steps that run on each batch; none for a rating model,
// which fits on whole splits.
func (p *Plan) batchSteps() []loaders.Step { return p.Steps[p.BatchFrom:] }

// batch is examples idx of split as the model takes them: copied out in
// the split's dtype, then through the batch steps of each column.
func (p *Plan) batch(split *data.Split, idx []int) (x, y data.Array, err error) {
	if x, err = p.batchColumn(&split.X, "x", idx); err != nil {
		return x, y, err
	}
	y, err = p.batchColumn(&split.Y, "y", idx)
	return x, y, err
}

// batchColumn is examples idx of a, column col ("x" or "y") of a split,
// as the model takes them.
func (p *Plan) batchColumn(a *data.Array, col string, idx []int) (data.Array, error) {
	b, err := loaders.ApplyColumn(p.batchSteps(), col, a.Take(idx))
	if err != nil {
		return b, err
	}
	return floatBytes(b), nil
}

// modelSchema is what the model takes for examples of schema s: bytes
// that no transform turned into floats go in as float32 (the pixel values
// 0..255), since layers compute in float32.
func modelSchema(s data.Schema) data.Schema {
	if s.DType == data.Uint8 {
		s.DType = data.Float32
	}
	return s
}

// floatBytes is a as modelSchema has it.
func floatBytes(a data.Array) data.Array {
	if a.DType != data.Uint8 {
		return a
	}
	out := data.Array{Schema: modelSchema(a.Schema), Float: make([]float32, len(a.Bytes)), Offsets: a.Offsets}
	for i, v := range a.Bytes {
		out.Float[i] = float32(v)
	}
	return out
}

// tensorOf is the examples of a fixed-shape array (a batch) as a tensor
// with the batch axis first.
func tensorOf(a data.Array) *tensors.Tensor {
	dims := append([]int{a.Len()}, a.Shape...)
	if a.DType == data.Int32 {
		return tensors.FromFlatDataAndDimensions(a.Int, dims...)
	}
	return tensors.FromFlatDataAndDimensions(a.Float, dims...)
}

// fitChunk is how many examples a batch step is fitted on at a time: the
// floats of 4,096 CIFAR-10 images are 50 MB.
const fitChunk = 4096

// fitBatchSteps fits the batch steps that learn from the training split
// (standardize) on train, as stored, a chunk of examples at a time through
// the batch steps before each: the numbers a whole-dataset fit gives,
// without the dataset in floats.
func (p *Plan) fitBatchSteps(train *data.Split) error {
	return p.fitBatchStepsOn(func(visit func(*data.Split) error) error {
		for lo, n := 0, train.Len(); lo < n; lo += fitChunk {
			chunk := train.Slice(lo, min(lo+fitChunk, n))
			if err := visit(&chunk); err != nil {
				return err
			}
		}
		return nil
	})
}

// fitBatchStepsOn is fitBatchSteps on a training split that each hands to
// visit a chunk of whole examples at a time, in order: slices of a split
// in memory, or the record batches of a streamed one.
func (p *Plan) fitBatchStepsOn(each func(visit func(*data.Split) error) error) error {
	steps := p.batchSteps()
	for i, s := range steps {
		f, ok := s.Transform.(loaders.Fitter)
		if !ok {
			continue
		}
		err := f.Fit(func(visit func(data.Array) error) error {
			return each(func(chunk *data.Split) error {
				col := chunk.X
				if f.Column() == "y" {
					col = chunk.Y
				}
				a, err := loaders.ApplyColumn(steps[:i], f.Column(), col)
				if err != nil {
					return err
				}
				return visit(a)
			})
		})
		if err != nil {
			return fmt.Errorf("%s (%s): %w", s.Path, s.Kind, err)
		}
	}
	return nil
}

// checkLabels runs the batch steps of the label column over each split's
// labels, a few bytes an example, so that a label a step refuses (one_hot
// of a class out of range) is an error naming its example when the data
// is loaded, not in the middle of training. The features' batch steps
// (scale, reshape, standardize) refuse no values.
func (p *Plan) checkLabels(ds *data.Dataset) error {
	for _, split := range []*data.Split{&ds.Train, &ds.Test} {
		if _, err := loaders.ApplyColumn(p.batchSteps(), "y", split.Y); err != nil {
			return err
		}
	}
	return nil
}
