package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/pipeline"
)

// errClosed answers predictions asked while the server shuts down.
var errClosed = errors.New("the server is shutting down")

// batcher queues the examples of concurrent requests and runs them
// together: one model call costs little more for 32 examples than for one
// (the Go backend spreads a batch over its cores), so under load requests
// share calls instead of waiting for each other's. A batch is flushed when
// it holds the predictor's MaxBatch examples, or when its first request
// has waited wait; a request never waits for more than the model call in
// progress and its own.
type batcher struct {
	pred *pipeline.Predictor
	max  int
	wait time.Duration
	jobs chan *job // unbuffered: a job sent is one the loop has taken
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// job is one request's examples and where its rows go.
type job struct {
	xs  []data.Array
	out chan jobResult // buffered: the loop never waits for a client that left
}

type jobResult struct {
	rows [][]float32
	err  error
}

func newBatcher(pred *pipeline.Predictor, wait time.Duration) *batcher {
	b := &batcher{pred: pred, max: max(pred.MaxBatch, 1), wait: wait, jobs: make(chan *job), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// submit queues xs and returns their outputs, one row per example in
// order, once their batch has run.
func (b *batcher) submit(ctx context.Context, xs []data.Array) ([][]float32, error) {
	j := &job{xs: xs, out: make(chan jobResult, 1)}
	select {
	case b.jobs <- j:
	case <-b.stop:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-j.out:
		return r.rows, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops taking jobs and returns when the batch in progress is
// answered.
func (b *batcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	var next *job // taken, but did not fit the previous batch
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-b.jobs:
			case <-b.stop:
				return
			}
		}
		batch, n := []*job{first}, len(first.xs)
		var timer *time.Timer
		var timeout <-chan time.Time
		if b.wait > 0 {
			timer = time.NewTimer(b.wait)
			timeout = timer.C
		}
	collect:
		for n < b.max {
			var j *job
			if timeout == nil { // no waiting: only the jobs already queued
				select {
				case j = <-b.jobs:
				default:
					break collect
				}
			} else {
				select {
				case j = <-b.jobs:
				case <-timeout:
					break collect
				case <-b.stop:
					break collect
				}
			}
			if n+len(j.xs) > b.max {
				next = j
				break collect
			}
			batch, n = append(batch, j), n+len(j.xs)
		}
		if timer != nil {
			timer.Stop()
		}
		b.flush(batch, n)
	}
}

// flush runs the examples of a batch through one model call (more when a
// single request holds more than MaxBatch) and hands each job its rows.
func (b *batcher) flush(batch []*job, n int) {
	xs := make([]data.Array, 0, n)
	for _, j := range batch {
		xs = append(xs, j.xs...)
	}
	rows, err := b.predict(xs)
	for _, j := range batch {
		if err != nil {
			j.out <- jobResult{err: err}
			continue
		}
		j.out <- jobResult{rows: rows[:len(j.xs):len(j.xs)]}
		rows = rows[len(j.xs):]
	}
}

// predict is Predict with a panic turned into an error: the loop serves
// every later request whatever one batch did.
func (b *batcher) predict(xs []data.Array) (rows [][]float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("model call: %v", r)
		}
	}()
	rows, err = b.pred.Predict(xs)
	if err == nil && len(rows) != len(xs) {
		err = fmt.Errorf("the model answered %d of %d examples", len(rows), len(xs))
	}
	return rows, err
}
