package loaders

import "github.com/pipe-ml/pipe/data"

// Streamer is a loader that can write its dataset a record batch at a
// time, never holding it whole: data.stream builds its cache entry so.
type Streamer interface {
	Loader
	// LoadStream reads the dataset and gives it to out in batches of at
	// most rows examples, before the transforms: Begin with the size of
	// each split, then Write for each batch. It returns the class names.
	// The fitted state (FittedState) is set when it returns.
	LoadStream(dataDir string, rows int, out SplitSink) (classes []string, err error)
	// CannotStream names the loader param (relative to data) that keeps
	// this configuration from streaming, and why; "" when it streams.
	CannotStream() (param, why string)
}

// SplitSink receives a streamed dataset.
type SplitSink interface {
	Begin(trainRows, testRows int) error
	Write(test bool, s *data.Split) error
}
