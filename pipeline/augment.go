package pipeline

import (
	"fmt"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/spec"
)

// Augmentation (train.augment) runs on the host, on the batch that each
// training step copies out of the split anyway, after its batch transforms
// (batch.go): a CIFAR-10 batch of 128 is 393,216 floats, a millisecond of
// flips and shifts against a step of a tenth of a second or more, and the
// dataset is never copied. In the graph
// it would need gathers (slow on the Go backend) and random state of its
// own in the checkpoint; on the host, a generator seeded by (seed, epoch,
// step) makes every step's draws a function of where it is, so a resumed
// run draws what the uninterrupted one would with nothing saved.

// compileAugment builds train.augment and checks that the examples are
// images, naming the spec position of each problem.
func (p *Plan) compileAugment(s *spec.Spec) spec.ErrorList {
	var errs spec.ErrorList
	if len(s.Train.Augment) == 0 {
		return nil
	}
	im, imErr := loaders.ImageOf(p.X)
	for _, c := range s.Train.Augment {
		a, err := loaders.Augmentations.Build(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if imErr != nil {
			errs = append(errs, &spec.Error{Pos: c.Pos, Path: c.Path, Msg: c.Kind + ": " + imErr.Error()})
			continue
		}
		p.Train.Augment = append(p.Train.Augment, a)
	}
	if p.InputInY {
		errs = append(errs, s.Errorf("train.augment", "augmentation would move the pixels of the input but not of its clean copy, the target of a model trained against its input with a noise transform"))
	}
	p.Train.image = im
	return errs
}

// augmentRand is the generator of one training step's augmentations.
func (p *Plan) augmentRand(epoch, step int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(p.Seed)^0xa06e_a06e_a06e_a06e, uint64(epoch)<<32|uint64(uint32(step))))
}

// trainOn trains on examples idx of train, the step-th step of epoch,
// augmented when train.augment says so.
func (m *Model) trainOn(train *data.Split, idx []int, epoch, step int) ([]float64, error) {
	x, y, err := m.plan.augmentedBatch(train, idx, m.plan.augmentRand(epoch, step))
	if err != nil {
		return nil, err
	}
	return m.stepOn(x, y)
}

// augmentedBatch is examples idx of split as the model takes them (batch),
// the images augmented with r's draws: after the data's transforms, on the
// batch's own copy, never the dataset.
func (p *Plan) augmentedBatch(split *data.Split, idx []int, r *rand.Rand) (x, y data.Array, err error) {
	if x, y, err = p.batch(split, idx); err == nil && len(p.Train.Augment) > 0 {
		loaders.Augment(p.Train.Augment, x.Float, p.Train.image, r)
	}
	return x, y, err
}

// augmentSamples is what augment.png shows: the first (up to) 8 training
// images, one a row, beside their copies augmented as a training step
// would, from a generator of their own (epoch 0); nil without
// train.augment. Both are drawn as the model sees them (after the data
// transforms), each channel stretched over the range of the images shown.
func (p *Plan) augmentSamples(train *data.Split) (*rundir.ImageGrid, error) {
	augs := p.Train.Augment
	n := min(8, train.Len())
	if len(augs) == 0 || n == 0 {
		return nil, nil
	}
	im := p.Train.image
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	original, _, err := p.batch(train, idx)
	if err != nil {
		return nil, err
	}
	augmented, _, err := p.augmentedBatch(train, idx, p.augmentRand(0, 0))
	if err != nil {
		return nil, err
	}
	size := im.H * im.W * im.C
	var shown [][]float32 // the originals, then the augmented copies
	for _, x := range [][]float32{original.Float, augmented.Float} {
		for i := range n {
			shown = append(shown, x[i*size:(i+1)*size])
		}
	}
	images, err := rundir.Stretched(im.H, im.W, im.C, shown...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rundir.AugmentPlot, err)
	}
	g := &rundir.ImageGrid{Columns: []string{"original", "augmented"}}
	for i := range n {
		g.Rows = append(g.Rows, []rundir.Image{images[i], images[n+i]})
	}
	return g, nil
}
