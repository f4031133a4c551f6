package loaders

import "errors"

func init() {
	Splits.Register("given", "The split as published: a train file and a test file (e.g. MovieLens 100K's u1.base and u1.test), read in the loader's format; paths are relative to the folder of the loader's file, or absolute. A (user, item) pair in both files is an error.",
		func() Splitter { return &GivenSplit{} })
}

// GivenSplit reads the train and test ratings from two files.
type GivenSplit struct {
	Train string `pipe:"train" doc:"the training file (default: the loader's own file)"`
	Test  string `pipe:"test,required" doc:"the test file"`
}

func (s *GivenSplit) Validate() error {
	if s.Test == "" {
		return errors.New("split given needs a test file")
	}
	return nil
}

// HoldOut holds out what came from the test file: the loader reads both
// files and marks them (see ratingSource.load).
func (s *GivenSplit) HoldOut(in *SplitInput) ([]bool, error) {
	if in.FromTest == nil {
		return nil, errors.New("split given: the loader did not read the test file")
	}
	return in.FromTest, nil
}
