package loaders

import (
	"fmt"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
)

// Rating datasets are Datasets too: each example is one rating, X is the
// pair (user, item) as dense int32 indices (shape [2]) and Y the rating
// (float32, shape []). Dataset.Ratings says how many users and items there
// are, their external ids and the rating scale. The held-out split is made
// by the loader, seeded, so every method of a comparison sees the same one.

// RatingSplit holds the params that every ratings loader shares; loaders
// embed it in their config.
type RatingSplit struct {
	TestFraction float64 `pipe:"test_fraction,min=0,max=0.99" doc:"fraction of all ratings held out at random as the test split, when split is not given"`
	SplitSeed    int     `pipe:"split_seed" doc:"seed of the user sample and, when split is not given, of the random hold-out"`
	SampleUsers  int     `pipe:"sample_users,min=0" doc:"keep a random sample of this many users (0: all), as the course did with 1,000 Jester users"`
	// Split left out is the course's random hold-out of test_fraction, and
	// the cache key stays what it was.
	Split *SplitSpec `pipe:"split" doc:"how the test ratings are chosen, one of (with each kind's params and their defaults) {kind: random, fraction: 0.3, seed: 1}: a fraction of all ratings; {kind: per_user, fraction: 0.3, seed: 1, min_ratings: 0}: a fraction of each user's; {kind: leave_last_out, n: 1, min_ratings: 0}: each user's latest n by timestamp; {kind: kfold, k: 5, fold: 0, seed: 1}: fold fold of k; {kind: blocks, k: 5, fold: 0}: fold fold of k consecutive blocks in file order (ml-100k's u1..u5 as mku.sh cuts them: fold 0 is u1); {kind: given, train: FILE, test: FILE}: a published split's files, beside the loader's (train defaults to the loader's own file). Left out: random with test_fraction and split_seed"`
}

// Splitter is a loader whose test split its split: param chooses (the
// rating loaders, which embed RatingSplit): the only loaders that a
// spec's cv: can cross-validate.
type Splitter interface {
	SplitParams() *RatingSplit
}

// SplitParams are the loader's split params.
func (p *RatingSplit) SplitParams() *RatingSplit { return p }

// DefaultRatingSplit is the course's protocol: 30% of the ratings held out.
func DefaultRatingSplit() RatingSplit { return RatingSplit{TestFraction: 0.3, SplitSeed: 1} }

// validate checks the split against what the loader's file holds;
// timestamps says whether it has a timestamp column.
func (p RatingSplit) validate(timestamps bool) error {
	if p.Split == nil {
		return nil
	}
	if err := p.Split.Validate(); err != nil {
		return err
	}
	if p.TestFraction != DefaultRatingSplit().TestFraction {
		// Both would choose the test ratings; refuse rather than ignore one.
		return fmt.Errorf("test_fraction (%g) applies only without split:; give the fraction in the split ({kind: random, fraction: %g})", p.TestFraction, p.TestFraction)
	}
	if p.Split.Kind == "leave_last_out" && !timestamps {
		return fmt.Errorf("split leave_last_out needs a timestamp column, and this loader reads none")
	}
	return nil
}

// splitter builds the chosen split, or the default one.
func (p RatingSplit) splitter() splitter {
	if p.Split == nil {
		return &randomSplit{fraction: p.TestFraction, seed: p.SplitSeed}
	}
	return p.Split.splitter()
}

// kind names the split in messages.
func (p RatingSplit) kind() string {
	if p.Split == nil {
		return "random"
	}
	return p.Split.Kind
}

// Rating is one (user, item, value) triple with external ids, and its
// time where the file has a timestamp column (any unit: only its order is
// used).
type Rating struct {
	User, Item string
	Value      float32
	Time       int64
}

// BuildRatings samples users, indexes users and items densely (in order of
// first appearance) and holds out the test ratings as p says.
func (p RatingSplit) BuildRatings(all []Rating, scale [2]float32) (*data.Dataset, error) {
	return p.build(all, nil, false, scale)
}

// build is BuildRatings for ratings read by a loader: fromTest marks the
// ratings of the given split's test file (nil for other splits) and
// timestamps says whether the ratings' Time is set.
func (p RatingSplit) build(all []Rating, fromTest []bool, timestamps bool, scale [2]float32) (*data.Dataset, error) {
	if len(all) == 0 {
		return nil, fmt.Errorf("no ratings")
	}
	split := p.splitter()
	// One stream serves the user sample and then, when its seed is the
	// same, the split: the course's protocol drew both from split_seed.
	rng := splitRand(p.SplitSeed)
	if p.SampleUsers > 0 {
		var users []string
		seen := map[string]bool{}
		for _, r := range all {
			if !seen[r.User] {
				seen[r.User] = true
				users = append(users, r.User)
			}
		}
		if p.SampleUsers > len(users) {
			return nil, fmt.Errorf("sample_users %d: the data has only %d users", p.SampleUsers, len(users))
		}
		rng.Shuffle(len(users), func(i, j int) { users[i], users[j] = users[j], users[i] })
		keep := map[string]bool{}
		for _, u := range users[:p.SampleUsers] {
			keep[u] = true
		}
		kept, keptTest := make([]Rating, 0, len(all)), []bool(nil)
		for i, r := range all {
			if keep[r.User] {
				kept = append(kept, r)
				if fromTest != nil {
					keptTest = append(keptTest, fromTest[i])
				}
			}
		}
		all, fromTest = kept, keptTest
	}
	isTest, err := split.holdOut(&splitInput{ratings: all, timestamps: timestamps, fromTest: fromTest, stream: rng, streamSeed: p.SplitSeed})
	if err != nil {
		return nil, err
	}
	if len(isTest) != len(all) {
		return nil, fmt.Errorf("split %s marked %d ratings of %d", p.kind(), len(isTest), len(all))
	}
	if p.Split != nil {
		// The course's random split may hold out nothing (test_fraction 0);
		// a chosen split that leaves one side empty is a mistake.
		switch n := count(isTest); {
		case n == 0:
			return nil, fmt.Errorf("split %s holds out no ratings of %d", p.kind(), len(all))
		case n == len(all):
			return nil, fmt.Errorf("split %s holds out all %d ratings, leaving none to train on", p.kind(), len(all))
		}
	}
	info := &data.RatingInfo{Scale: scale}
	userIdx, itemIdx := map[string]int32{}, map[string]int32{}
	index := func(m map[string]int32, ids *[]string, id string) int32 {
		i, ok := m[id]
		if !ok {
			i = int32(len(*ids))
			m[id] = i
			*ids = append(*ids, id)
		}
		return i
	}
	xs, ys := data.Schema{DType: data.Int32, Shape: []int{2}}, data.Schema{DType: data.Float32, Shape: []int{}}
	ds := &data.Dataset{Ratings: info}
	for _, split := range []*data.Split{&ds.Train, &ds.Test} {
		split.X, split.Y = data.Array{Schema: xs}, data.Array{Schema: ys}
	}
	for _, r := range all { // dense ids in file order, whatever the split
		index(userIdx, &info.Users, r.User)
		index(itemIdx, &info.Items, r.Item)
	}
	// Each split keeps file order, so the split does not depend on how the
	// file is sorted beyond what the split kind itself uses.
	for i, r := range all {
		split := &ds.Train
		if isTest[i] {
			split = &ds.Test
		}
		split.X.Int = append(split.X.Int, userIdx[r.User], itemIdx[r.Item])
		split.Y.Float = append(split.Y.Float, r.Value)
	}
	return ds, nil
}

// splitRand is the random stream of a split seed.
func splitRand(seed int) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0xca7)) }

func count(marks []bool) int {
	n := 0
	for _, m := range marks {
		if m {
			n++
		}
	}
	return n
}

// usersInOrder groups the indices of rs by user, users in order of first
// appearance and each user's ratings in file order: the unit of the
// per-user splits.
func usersInOrder(rs []Rating) [][]int {
	at := map[string]int{}
	var groups [][]int
	for i, r := range rs {
		g, ok := at[r.User]
		if !ok {
			g = len(groups)
			at[r.User] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}
