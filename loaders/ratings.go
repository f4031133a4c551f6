package loaders

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"

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
	TestFraction float64 `pipe:"test_fraction,min=0,max=0.99" doc:"fraction of all ratings held out at random as the test split"`
	SplitSeed    int     `pipe:"split_seed" doc:"seed of the held-out split (and of the user sample)"`
	SampleUsers  int     `pipe:"sample_users,min=0" doc:"keep a random sample of this many users (0: all), as the course did with 1,000 Jester users"`
}

// DefaultRatingSplit is the course's protocol: 30% of the ratings held out.
func DefaultRatingSplit() RatingSplit { return RatingSplit{TestFraction: 0.3, SplitSeed: 1} }

// load reads the ratings file of a loader's folder with read, then samples
// and splits them: the Load of every ratings loader.
func (p RatingSplit) load(dataDir, folder, file string, read func(path string, scale [2]float32) ([]Rating, error), scale [2]float32) (*data.Dataset, error) {
	dir, err := datasetDir(dataDir, folder)
	if err != nil {
		return nil, err
	}
	all, err := read(filepath.Join(dir, file), scale)
	if err != nil {
		return nil, err
	}
	return p.BuildRatings(all, scale)
}

// Rating is one (user, item, value) triple with external ids.
type Rating struct {
	User, Item string
	Value      float32
}

// BuildRatings samples users, indexes users and items densely (in order of
// first appearance) and holds out a seeded random fraction of the ratings.
func (p RatingSplit) BuildRatings(all []Rating, scale [2]float32) (*data.Dataset, error) {
	if len(all) == 0 {
		return nil, fmt.Errorf("no ratings")
	}
	rng := rand.New(rand.NewPCG(uint64(p.SplitSeed), 0xca7))
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
		all = slices.DeleteFunc(slices.Clone(all), func(r Rating) bool { return !keep[r.User] })
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
	order := rng.Perm(len(all))
	nTest := int(float64(len(all)) * p.TestFraction)
	xs, ys := data.Schema{DType: data.Int32, Shape: []int{2}}, data.Schema{DType: data.Float32, Shape: []int{}}
	ds := &data.Dataset{Ratings: info}
	for _, split := range []*data.Split{&ds.Train, &ds.Test} {
		split.X, split.Y = data.Array{Schema: xs}, data.Array{Schema: ys}
	}
	for _, r := range all { // dense ids in file order, whatever the split
		index(userIdx, &info.Users, r.User)
		index(itemIdx, &info.Items, r.Item)
	}
	// Test ratings are the first nTest of the permutation; each split keeps
	// file order, so the split does not depend on how the file is sorted
	// beyond the seed.
	isTest := make([]bool, len(all))
	for _, i := range order[:nTest] {
		isTest[i] = true
	}
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
