package loaders

import "math"

func init() {
	Splits.Register("per_user", "A seeded fraction of each user's ratings held out (rounded, and never all of them), so every user is in both splits; users with fewer than min_ratings ratings keep all in train.",
		func() Splitter { return &PerUserSplit{Fraction: 0.3, Seed: 1} })
}

// PerUserSplit holds out a seeded fraction of each user's ratings.
type PerUserSplit struct {
	Fraction   float64 `pipe:"fraction,min=0,max=1" doc:"fraction of each user's ratings held out (rounded to the nearest count), strictly between 0 and 1"`
	Seed       int     `pipe:"seed" doc:"seed of the draw"`
	MinRatings int     `pipe:"min_ratings,min=0" doc:"users with fewer ratings keep all of them in train"`
}

func (s *PerUserSplit) Validate() error { return openFraction(s.Fraction) }

// HoldOut visits users in order of first appearance and holds out a
// random round(fraction*count) of each one's ratings, at most count-1 so
// that every user keeps a training rating to be predicted from.
func (s *PerUserSplit) HoldOut(in *SplitInput) ([]bool, error) {
	rng := in.Rand(s.Seed)
	isTest := make([]bool, len(in.Ratings))
	for _, g := range usersInOrder(in.Ratings) {
		if len(g) < s.MinRatings {
			continue
		}
		nTest := min(int(math.Round(s.Fraction*float64(len(g)))), len(g)-1)
		for _, j := range rng.Perm(len(g))[:nTest] {
			isTest[g[j]] = true
		}
	}
	return isTest, nil
}
