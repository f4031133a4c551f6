package loaders

import (
	"slices"
	"strings"
	"testing"
)

// TestSyntheticRatingsShape generates MovieLens 100K's shape and checks it
// against u.data's own numbers: 20 ratings at least per user, a heaviest
// user near u.data's 737, Σ n_i² near u.data's 16.8M, no
// pair twice, a 30% hold-out, and ratings on the star scale.
func TestSyntheticRatingsShape(t *testing.T) {
	l := &SyntheticRatings{Ratings: 100_000, Users: 943, Items: 1682, UserExponent: 0.05, ItemExponent: 0.82, Seed: 1, TestFraction: 0.3, SplitSeed: 1}
	ds, err := l.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Test.Len(); got != 30_000 || ds.Train.Len() != 70_000 {
		t.Fatalf("train %d, test %d ratings, want 70,000 and 30,000", ds.Train.Len(), got)
	}
	if len(ds.Ratings.Users) != 943 || len(ds.Ratings.Items) != 1682 {
		t.Fatalf("%d users, %d items", len(ds.Ratings.Users), len(ds.Ratings.Items))
	}
	perUser, perItem := make([]int, 943), make([]int, 1682)
	pairs := map[[2]int32]bool{}
	stars := map[float32]int{}
	for _, s := range []*struct {
		x []int32
		y []float32
	}{{ds.Train.X.Int, ds.Train.Y.Float}, {ds.Test.X.Int, ds.Test.Y.Float}} {
		for k, r := range s.y {
			u, i := s.x[2*k], s.x[2*k+1]
			if pairs[[2]int32{u, i}] {
				t.Fatalf("user %d rates item %d twice", u, i)
			}
			pairs[[2]int32{u, i}] = true
			perUser[u]++
			perItem[i]++
			stars[r]++
		}
	}
	if lo, hi := slices.Min(perUser), slices.Max(perUser); lo != 20 || hi < 600 || hi > 841 {
		t.Errorf("ratings per user from %d to %d, want 20 to about 737 as u.data, at most half the items", lo, hi)
	}
	var sq float64
	for _, c := range perItem {
		sq += float64(c) * float64(c)
	}
	if sq < 16.0e6 || sq > 17.6e6 {
		t.Errorf("Σ n_i² = %.3g, want within 5%% of u.data's 16.8M", sq)
	}
	for r, c := range stars {
		if r != 1 && r != 2 && r != 3 && r != 4 && r != 5 {
			t.Errorf("%d ratings of %g, off the star scale", c, r)
		}
	}
	if stars[4] < stars[1] || stars[3] < stars[1] {
		t.Errorf("stars %v: MovieLens' ratings are mostly 3 and 4", stars)
	}

	again, _ := l.Load("")
	if !slices.Equal(again.Train.X.Int, ds.Train.X.Int) || !slices.Equal(again.Test.Y.Float, ds.Test.Y.Float) {
		t.Error("the same seeds gave other ratings")
	}
	other := *l
	other.Seed = 2
	if o, _ := other.Load(""); slices.Equal(o.Train.X.Int, ds.Train.X.Int) {
		t.Error("another seed gave the same ratings")
	}
}

func TestSyntheticRatingsValidate(t *testing.T) {
	l := &SyntheticRatings{Ratings: 1001, Users: 10, Items: 200}
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "1001 ratings do not fit 10 users rating at most half of 200 items each (1000)") {
		t.Errorf("too many ratings: %v", err)
	}
	// At the cap every user rates exactly half the items.
	l.Ratings = 1000
	ds, err := l.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if n := ds.Train.Len() + ds.Test.Len(); n != 1000 {
		t.Errorf("%d ratings, want 1000", n)
	}
	// At the cap with the default exponents, whose least active user has
	// no weight beyond the least: every rating is dealt all the same.
	capped := &SyntheticRatings{Ratings: 2000, Users: 50, Items: 80, UserExponent: 0.05, ItemExponent: 0.82}
	if ds, err = capped.Load(""); err != nil {
		t.Fatal(err)
	}
	if n := ds.Train.Len() + ds.Test.Len(); n != 2000 {
		t.Errorf("%d ratings, want 2000", n)
	}
	// Fewer ratings than 20 a user: each user gets an equal share.
	small := &SyntheticRatings{Ratings: 50, Users: 10, Items: 40, UserExponent: 1, ItemExponent: 1}
	ds, err = small.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if n := ds.Train.Len() + ds.Test.Len(); n != 50 {
		t.Errorf("%d ratings, want 50", n)
	}
}
