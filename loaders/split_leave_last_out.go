package loaders

import (
	"errors"
	"slices"
)

func init() {
	Splits.Register("leave_last_out", "Each user's latest n ratings by timestamp held out (ties broken by file order: the later line is the later rating), never all of a user's ratings; users with fewer than min_ratings ratings keep all in train. Needs the loader's timestamp column.",
		func() Splitter { return &LeaveLastOutSplit{N: 1} })
}

// LeaveLastOutSplit holds out each user's latest ratings.
type LeaveLastOutSplit struct {
	N          int `pipe:"n,min=1" doc:"ratings held out per user"`
	MinRatings int `pipe:"min_ratings,min=0" doc:"users with fewer ratings keep all of them in train"`
}

// HoldOut orders each user's ratings by time, stably so that equal times
// keep file order, and holds out the last min(n, count-1).
func (s *LeaveLastOutSplit) HoldOut(in *SplitInput) ([]bool, error) {
	if !in.Timestamps {
		return nil, errors.New("split leave_last_out needs a timestamp column")
	}
	isTest := make([]bool, len(in.Ratings))
	for _, g := range usersInOrder(in.Ratings) {
		if len(g) < s.MinRatings {
			continue
		}
		slices.SortStableFunc(g, func(a, b int) int {
			ta, tb := in.Ratings[a].Time, in.Ratings[b].Time
			switch {
			case ta < tb:
				return -1
			case ta > tb:
				return 1
			}
			return 0
		})
		for _, i := range g[len(g)-min(s.N, len(g)-1):] {
			isTest[i] = true
		}
	}
	return isTest, nil
}
