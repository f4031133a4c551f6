package loaders

import "math"

// perUserSplit holds out a seeded fraction of each user's ratings, so
// that every user is in both splits; users with fewer than minRatings
// ratings keep all in train.
type perUserSplit struct {
	fraction   float64
	seed       int
	minRatings int
}

// holdOut visits users in order of first appearance and holds out a
// random round(fraction*count) of each one's ratings, at most count-1 so
// that every user keeps a training rating to be predicted from.
func (s *perUserSplit) holdOut(in *splitInput) ([]bool, error) {
	rng := in.rand(s.seed)
	isTest := make([]bool, len(in.ratings))
	for _, g := range usersInOrder(in.ratings) {
		if len(g) < s.minRatings {
			continue
		}
		nTest := min(int(math.Round(s.fraction*float64(len(g)))), len(g)-1)
		for _, j := range rng.Perm(len(g))[:nTest] {
			isTest[g[j]] = true
		}
	}
	return isTest, nil
}
