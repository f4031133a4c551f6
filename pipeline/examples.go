package pipeline

import (
	"math/rand/v2"
	"slices"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
)

// examples is a split as training and evaluation read it: whole in
// memory, or streamed from the cache a record batch at a time.
type examples interface {
	Len() int
	// batches gives the examples in batches of batch (the last may be
	// shorter): yield gets a split and the indices of one batch's
	// examples in it, valid during the call. With rng the order is that
	// epoch's shuffle, else the split's order. An error from yield ends
	// the loop and is returned.
	batches(batch int, rng *rand.Rand, epoch int, yield func(s *data.Split, idx []int) error) error
	// skip draws from rng what batches would draw for epoch, reading
	// nothing: a resumed run replays the epochs before it.
	skip(batch int, rng *rand.Rand, epoch int)
	// head is the first examples (at least one record batch), for plots.
	head() (*data.Split, error) // a copy, for a stream
	// labels is the y column of every example, in order.
	labels() (data.Array, error)
}

// memExamples is a split in memory: an epoch is one permutation of it,
// drawn from the plan's generator.
type memExamples struct{ s *data.Split }

func (m memExamples) Len() int { return m.s.Len() }

func (m memExamples) batches(batch int, rng *rand.Rand, _ int, yield func(*data.Split, []int) error) error {
	n := m.s.Len()
	var order []int
	if rng != nil {
		order = rng.Perm(n)
	} else {
		order = identity(n)
	}
	for from := 0; from < n; from += batch {
		if err := yield(m.s, order[from:min(from+batch, n)]); err != nil {
			return err
		}
	}
	return nil
}

func (m memExamples) skip(_ int, rng *rand.Rand, _ int) { rng.Perm(m.s.Len()) }
func (m memExamples) head() (*data.Split, error)        { return m.s, nil }
func (m memExamples) labels() (data.Array, error)       { return m.s.Y, nil }

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// streamExamples is a split read a record batch at a time. An epoch takes
// the batches in an order drawn from (seed, epoch), then, window by window
// of that order, copies the window's batches into memory in file order,
// unmapping each once copied (only the batch being copied is mapped), and draws a permutation of the window's examples
// from the plan's generator. Examples left over from a window's last full
// batch lead the next window, so every batch but the epoch's last is full.
// With one window covering the split the order is the in-memory one: the
// same generator draws one permutation of the split in file order.
type streamExamples struct {
	s      *arrowio.SplitStream
	seed   uint64
	window int
	lens   []int // examples of each batch read (train_limit and test_limit cut them)
	buf    data.Split
}

// limit keeps the first n examples (0: all).
func (e *streamExamples) limit(n int) {
	e.lens = e.lens[:0]
	left := e.s.Len()
	if n > 0 {
		left = min(n, left)
	}
	for i := range e.s.Batches() {
		if left == 0 {
			break
		}
		k := min(e.s.BatchLen(i), left)
		e.lens, left = append(e.lens, k), left-k
	}
}

func (e *streamExamples) Len() int {
	n := 0
	for _, k := range e.lens {
		n += k
	}
	return n
}

// batchOrder is the order of the record batches in epoch (file order
// without rng): its generator is its own, seeded with the epoch, so that
// the plan's generator draws only the windows' permutations.
func (e *streamExamples) batchOrder(rng *rand.Rand, epoch int) (order []int, window int) {
	if rng == nil {
		return identity(len(e.lens)), 1 // evaluation: a batch at a time
	}
	return rand.New(rand.NewPCG(e.seed, 0xba7c<<32|uint64(epoch))).Perm(len(e.lens)), max(e.window, 1)
}

func (e *streamExamples) batches(batch int, rng *rand.Rand, epoch int, yield func(*data.Split, []int) error) error {
	order, window := e.batchOrder(rng, epoch)
	x, y := e.s.Schemas()
	carry := data.Split{X: data.Array{Schema: x}, Y: data.Array{Schema: y}}
	for w := 0; w < len(order); w += window {
		ids := slices.Sorted(slices.Values(order[w:min(w+window, len(order))]))
		buf := &e.buf
		buf.X = data.Array{Schema: x, Float: buf.X.Float[:0], Int: buf.X.Int[:0]}
		buf.Y = data.Array{Schema: y, Float: buf.Y.Float[:0], Int: buf.Y.Int[:0]}
		appendExamples(buf, &carry, identity(carry.Len()))
		for _, i := range ids {
			b, err := e.s.Batch(i)
			if err != nil {
				return err
			}
			appendExamples(buf, &b, identity(e.lens[i]))
			if err := e.s.Release(i); err != nil {
				return err
			}
		}
		c, n := carry.Len(), buf.Len()
		idx := identity(n)
		if rng != nil {
			for k, v := range rng.Perm(n - c) {
				idx[c+k] = c + v
			}
		}
		full := n - n%batch
		if w+window >= len(order) {
			full = n // the epoch's last batch may be short
		}
		for from := 0; from < full; from += batch {
			if err := yield(buf, idx[from:min(from+batch, full)]); err != nil {
				return err
			}
		}
		carry = data.Split{X: data.Array{Schema: x}, Y: data.Array{Schema: y}}
		appendExamples(&carry, buf, idx[full:])
	}
	return nil
}

func (e *streamExamples) skip(batch int, rng *rand.Rand, epoch int) {
	order, window := e.batchOrder(rng, epoch)
	c := 0
	for w := 0; w < len(order); w += window {
		n := c
		for _, i := range order[w:min(w+window, len(order))] {
			n += e.lens[i]
		}
		rng.Perm(n - c)
		c = n % batch
	}
}

// each hands every record batch of the file to visit, in order, mapped
// only while visit runs.
func (e *streamExamples) each(visit func(*data.Split) error) error {
	for i := range e.s.Batches() {
		b, err := e.s.Batch(i)
		if err != nil {
			return err
		}
		err = visit(&b)
		if rerr := e.s.Release(i); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *streamExamples) head() (*data.Split, error) {
	b, err := e.s.Batch(0)
	if err != nil {
		return nil, err
	}
	x, y := e.s.Schemas()
	out := &data.Split{X: data.Array{Schema: x}, Y: data.Array{Schema: y}}
	appendExamples(out, &b, identity(e.lens[0]))
	return out, e.s.Release(0)
}

func (e *streamExamples) labels() (data.Array, error) {
	_, y := e.s.Schemas()
	out := data.Array{Schema: y}
	for i, k := range e.lens {
		b, err := e.s.Batch(i)
		if err != nil {
			return data.Array{}, err
		}
		out.Append(&b.Y, identity(k))
		if err := e.s.Release(i); err != nil {
			return data.Array{}, err
		}
	}
	return out, nil
}

// appendExamples appends examples idx of src to dst (of fixed shapes).
func appendExamples(dst, src *data.Split, idx []int) {
	dst.X.Append(&src.X, idx)
	dst.Y.Append(&src.Y, idx)
}
