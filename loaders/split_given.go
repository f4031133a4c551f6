package loaders

import "errors"

// givenSplit is a split as published: a train file and a test file (e.g.
// MovieLens 100K's u1.base and u1.test), read in the loader's format
// (ratingSource.load reads them); a (user, item) pair in both is an error.
type givenSplit struct {
	train, test string // "" train: the loader's own file
}

// holdOut holds out what came from the test file.
func (s *givenSplit) holdOut(in *splitInput) ([]bool, error) {
	if in.fromTest == nil {
		return nil, errors.New("split given: the loader did not read the test file")
	}
	return in.fromTest, nil
}
