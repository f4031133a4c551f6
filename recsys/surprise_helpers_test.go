package recsys_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// Helpers of the tests of the models that follow Surprise
// (normal_predictor, baseline_only, svd, svdpp, nmf): the tiny data sets,
// the order Surprise walks the ratings in, for the reference loops, and
// access to a fitted model's state.

// shuffledTiny is tinyRatings (see user_knn_test.go: users u0..u5, items
// i0..i4, u4 and i4 without ratings) with the users' ratings interleaved,
// so that Surprise's order (user by user in order of first appearance,
// each user's ratings in split order) differs from the split's: it is
// u2, u0, u3, u1, u5.
var shuffledTiny = ratingSplit(
	[3]float32{2, 3, 1}, [3]float32{0, 1, 3}, [3]float32{3, 0, 5}, [3]float32{2, 0, 1},
	[3]float32{1, 2, 3}, [3]float32{0, 0, 5}, [3]float32{5, 1, 5}, [3]float32{2, 2, 2},
	[3]float32{1, 0, 4}, [3]float32{3, 3, 4}, [3]float32{0, 2, 4}, [3]float32{1, 3, 5},
	[3]float32{2, 1, 5}, [3]float32{3, 1, 4}, [3]float32{1, 1, 2}, [3]float32{5, 0, 5},
)

func surpriseInfo() *data.RatingInfo {
	return &data.RatingInfo{Users: names(6), Items: names(5), Scale: [2]float32{1, 5}}
}

// rating is one training rating as the reference loops walk them.
type rating struct {
	u, i int32
	r    float64
}

// surpriseWalk is the order in which Surprise's Trainset.all_ratings()
// yields a split's ratings, built the obvious way: users in order of
// first appearance, each with its ratings in split order.
func surpriseWalk(s *data.Split) []rating {
	var users []int32
	for k := range s.Len() {
		if u := s.X.Int[2*k]; !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	var out []rating
	for _, u := range users {
		for k := range s.Len() {
			if s.X.Int[2*k] == u {
				out = append(out, rating{u, s.X.Int[2*k+1], float64(s.Y.Float[k])})
			}
		}
	}
	return out
}

// itemsOf lists the items each user rated in s, ascending.
func itemsOf(s *data.Split, nUsers int) [][]int32 {
	out := make([][]int32, nUsers)
	for k := range s.Len() {
		out[s.X.Int[2*k]] = append(out[s.X.Int[2*k]], s.X.Int[2*k+1])
	}
	for _, items := range out {
		slices.Sort(items)
	}
	return out
}

func meanRating(s *data.Split) float64 {
	var sum float64
	for _, v := range s.Y.Float {
		sum += float64(v)
	}
	return sum / float64(len(s.Y.Float))
}

// state returns a fitted model's saved state as float64 values by name.
func state(t *testing.T, f recsys.Fitted) map[string][]float64 {
	t.Helper()
	s, ok := f.(recsys.StateSaver)
	if !ok {
		t.Fatalf("%T saves no state", f)
	}
	ts, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for name, v := range ts {
		out[name] = tensors.MustCopyFlatData[float64](v)
	}
	return out
}

// closeAll reports the first value of got farther than tol from want.
func closeAll(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for k := range got {
		if math.Abs(got[k]-want[k]) > tol*max(1, math.Abs(want[k])) {
			t.Errorf("%s[%d] = %.12g, want %.12g", what, k, got[k], want[k])
			return
		}
	}
}

// allPairs is every (user, item) pair of the tiny data, users first.
func allPairs(nUsers, nItems int) *data.Array {
	var ps [][2]int32
	for u := range int32(nUsers) {
		for i := range int32(nItems) {
			ps = append(ps, [2]int32{u, i})
		}
	}
	return pairs(ps...)
}

func fitModel(t *testing.T, m recsys.Recommender, info *data.RatingInfo, train *data.Split, seed uint64) (recsys.Fitted, *data.History) {
	t.Helper()
	f, h, err := m.Fit(&recsys.FitContext{Info: info, Seed: seed}, train)
	if err != nil {
		t.Fatal(err)
	}
	return f, h
}

func predict(t *testing.T, f recsys.Fitted, x *data.Array) ([]float32, int) {
	t.Helper()
	pred, fb, err := f.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return pred, fb
}
