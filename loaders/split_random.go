package loaders

import "fmt"

func init() {
	Splits.Register("random", "A seeded random fraction of all ratings held out: the course's protocol, and what test_fraction and split_seed choose when split is not given.",
		func() Splitter { return &RandomSplit{Fraction: 0.3, Seed: 1} })
}

// RandomSplit holds out a seeded random fraction of all ratings.
type RandomSplit struct {
	Fraction float64 `pipe:"fraction,min=0,max=1" doc:"fraction of the ratings held out, strictly between 0 and 1"`
	Seed     int     `pipe:"seed" doc:"seed of the draw (equal to split_seed: continues the user sample's stream, as the default split does)"`
}

func (s *RandomSplit) Validate() error { return openFraction(s.Fraction) }

// openFraction rejects the ends of [0, 1], which the tag range admits: a
// split that holds out nothing or everything is a mistake.
func openFraction(f float64) error {
	if f <= 0 || f >= 1 {
		return fmt.Errorf("fraction must be strictly between 0 and 1, got %g", f)
	}
	return nil
}

// HoldOut draws a permutation of all ratings and holds out its first
// int(n*fraction): the default split's algorithm, kept exactly so that
// the course's numbers do not move.
func (s *RandomSplit) HoldOut(in *SplitInput) ([]bool, error) {
	n := len(in.Ratings)
	order := in.Rand(s.Seed).Perm(n)
	isTest := make([]bool, n)
	for _, i := range order[:int(float64(n)*s.Fraction)] {
		isTest[i] = true
	}
	return isTest, nil
}
