package loaders

// randomSplit holds out a seeded random fraction of all ratings: the
// course's protocol, and what test_fraction and split_seed choose when no
// split is given.
type randomSplit struct {
	fraction float64
	seed     int
}

// holdOut draws a permutation of all ratings and holds out its first
// int(n*fraction): the default split's algorithm, kept exactly so that
// the course's numbers do not move.
func (s *randomSplit) holdOut(in *splitInput) ([]bool, error) {
	n := len(in.ratings)
	order := in.rand(s.seed).Perm(n)
	isTest := make([]bool, n)
	for _, i := range order[:int(float64(n)*s.fraction)] {
		isTest[i] = true
	}
	return isTest, nil
}
