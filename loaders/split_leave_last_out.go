package loaders

import (
	"errors"
	"slices"
)

// leaveLastOutSplit holds out each user's latest n ratings by timestamp,
// never all of a user's ratings; users with fewer than minRatings ratings
// keep all in train.
type leaveLastOutSplit struct {
	n, minRatings int
}

// holdOut orders each user's ratings by time, stably so that equal times
// keep file order (the later line is the later rating), and holds out the
// last min(n, count-1).
func (s *leaveLastOutSplit) holdOut(in *splitInput) ([]bool, error) {
	if !in.timestamps {
		return nil, errors.New("split leave_last_out needs a timestamp column")
	}
	isTest := make([]bool, len(in.ratings))
	for _, g := range usersInOrder(in.ratings) {
		if len(g) < s.minRatings {
			continue
		}
		slices.SortStableFunc(g, func(a, b int) int {
			ta, tb := in.ratings[a].Time, in.ratings[b].Time
			switch {
			case ta < tb:
				return -1
			case ta > tb:
				return 1
			}
			return 0
		})
		for _, i := range g[len(g)-min(s.n, len(g)-1):] {
			isTest[i] = true
		}
	}
	return isTest, nil
}
