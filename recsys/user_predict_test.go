package recsys_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

func goBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

// near reports whether got is want to within 1e-4.
func near(got float32, want float64) bool { return math.Abs(float64(got)-want) < 1e-4 }

// TestUserKNNPredictUserByHand: cosine, raw ratings, shrinkage 0.
//
//	     i0 i1 i2 i3 i4
//	A     5  3  4  .  .
//	B     1  5  2  2  .
//	C     4  .  5  .  .
//	new   5  3  .  .  .   (mean 4)
//
// The new user's similarities over co-rated items: A (i0, i1) 34/34 = 1;
// B (i0, i1) 20/sqrt(34*26) = 0.672673; C (i0) 20/sqrt(25*16) = 1.
// k 2: i2's neighbours are A and C, (4+5)/2 = 4.5; i3's only rater is B: 2;
// nobody rated i4: the user's mean, 4, a fallback. k 3 brings B into i2:
// (4 + 5 + 0.672673*2) / 2.672673 = 3.870766.
func TestUserKNNPredictUserByHand(t *testing.T) {
	train := ratingSplit(
		[3]float32{0, 0, 5}, [3]float32{0, 1, 3}, [3]float32{0, 2, 4},
		[3]float32{1, 0, 1}, [3]float32{1, 1, 5}, [3]float32{1, 2, 2}, [3]float32{1, 3, 2},
		[3]float32{2, 0, 4}, [3]float32{2, 2, 5},
	)
	info := &data.RatingInfo{Users: names(3), Items: names(5), Scale: [2]float32{1, 5}}
	user := map[int32]float32{0: 5, 1: 3}
	for _, c := range []struct {
		k    int
		want [3]float64 // i2, i3, i4
	}{{2, [3]float64{4.5, 2, 4}}, {3, [3]float64{3.870766, 2, 4}}} {
		m := &recsys.UserKNN{Similarity: "cosine", K: c.k, Normalize: "none", MinSupport: 1}
		f, _, err := m.Fit(&recsys.FitContext{Info: info}, train)
		if err != nil {
			t.Fatal(err)
		}
		pred, fallbacks, err := f.PredictUser(user)
		if err != nil {
			t.Fatal(err)
		}
		for x, want := range c.want {
			if !near(pred[x+2], want) {
				t.Errorf("k %d: item i%d predicted %.6f, want %.6f", c.k, x+2, pred[x+2], want)
			}
		}
		if fallbacks != 1 {
			t.Errorf("k %d: %d fallbacks, want 1 (i4)", c.k, fallbacks)
		}
	}
}

// randomRatings draws integer ratings 1..5 of nItems items by nUsers
// users, each pair rated with probability density.
// withNewUser is train plus user's ratings as one more training user
// (index nUsers), and that user's unrated items as (user, item) pairs:
// the fixture of the tests that compare PredictUser with Predict.
func withNewUser(train *data.Split, user map[int32]float32, nUsers, nItems int) (*data.Split, [][2]int32) {
	with := ratingSplit()
	with.X.Int, with.Y.Float = append(with.X.Int, train.X.Int...), append(with.Y.Float, train.Y.Float...)
	var unrated [][2]int32
	for i := range int32(nItems) {
		if r, ok := user[i]; ok {
			with.X.Int, with.Y.Float = append(with.X.Int, int32(nUsers), i), append(with.Y.Float, r)
		} else {
			unrated = append(unrated, [2]int32{int32(nUsers), i})
		}
	}
	return with, unrated
}

func randomRatings(seed uint64, nUsers, nItems int, density float64) *data.Split {
	rng := rand.New(rand.NewPCG(seed, 1))
	var triples [][3]float32
	for u := range nUsers {
		for i := range nItems {
			if rng.Float64() < density {
				triples = append(triples, [3]float32{float32(u), float32(i), float32(1 + rng.IntN(5))})
			}
		}
	}
	return ratingSplit(triples...)
}

// TestUserKNNPredictUserMatchesPredict: a new user's predictions equal
// Predict's for the same ratings given as one more training user (who is
// never their own neighbour), for every similarity and normalisation.
func TestUserKNNPredictUserMatchesPredict(t *testing.T) {
	const nUsers, nItems = 40, 25
	train := randomRatings(3, nUsers, nItems, 0.4)
	user := map[int32]float32{0: 5, 3: 4, 4: 1, 7: 2, 11: 5, 20: 3}
	with, unrated := withNewUser(train, user, nUsers, nItems)
	scale := [2]float32{1, 5}
	for _, sim := range []string{"cosine", "pearson"} {
		for _, norm := range []string{"none", "center", "zscore"} {
			params := &recsys.UserKNN{Similarity: sim, K: 5, Normalize: norm, MinSupport: 2, Shrinkage: 3}
			without, _, err := params.Fit(&recsys.FitContext{Info: &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: scale}}, train)
			if err != nil {
				t.Fatal(err)
			}
			withUser, _, err := params.Fit(&recsys.FitContext{Info: &data.RatingInfo{Users: make([]string, nUsers+1), Items: names(nItems), Scale: scale}}, with)
			if err != nil {
				t.Fatal(err)
			}
			got, gotFallbacks, err := without.PredictUser(user)
			if err != nil {
				t.Fatal(err)
			}
			want, wantFallbacks, err := withUser.Predict(pairs(unrated...))
			if err != nil {
				t.Fatal(err)
			}
			for k, p := range unrated {
				if got[p[1]] != want[k] {
					t.Errorf("%s/%s: item %d: PredictUser %v, Predict %v", sim, norm, p[1], got[p[1]], want[k])
				}
			}
			if gotFallbacks != wantFallbacks {
				t.Errorf("%s/%s: %d fallbacks, Predict had %d", sim, norm, gotFallbacks, wantFallbacks)
			}
		}
	}
}

// mfState is a matrix_factorization state with one factor:
// q = (1, -1, 0.5, 2), bi = (0, 0, 0.5, 0), mu = mu, and no training
// ratings for i3; one training user, whose factors fold-in does not read.
func mfState(mu float64) map[string]*tensors.Tensor {
	return map[string]*tensors.Tensor{
		"p":            tensors.FromFlatDataAndDimensions([]float32{0.3}, 1, 1),
		"bu":           tensors.FromFlatDataAndDimensions([]float32{0.1}, 1),
		"q":            tensors.FromFlatDataAndDimensions([]float32{1, -1, 0.5, 2}, 4, 1),
		"bi":           tensors.FromFlatDataAndDimensions([]float32{0, 0, 0.5, 0}, 4),
		"mu":           tensors.FromScalar(mu),
		"item_ratings": tensors.FromFlatDataAndDimensions([]float32{3, 2, 1, 0}, 4),
	}
}

// TestMFFoldInByHand: a new user rates i0 5 and i1 1 (mean 3, sd 2). With
// the item side fixed, x = (p, b) solves (AᵀA + reg·n·I) x = Aᵀy for rows
// A = (q_i, 1) = (1, 1), (-1, 1), so AᵀA = 2I; reg 0.1 and n 2 make the
// ridge 0.2.
//
//	none (mu 3):     y = r - mu - bi = (2, -2); Aᵀy = (4, 0); p = 4/2.2, b = 0;
//	                 i2: 3 + 0.5 + 0.5p = 4.409091; i0: 3 + p = 4.818182
//	zscore (mu 0):   y = (r - 3)/2 = (1, -1); Aᵀy = (2, 0); p = 2/2.2;
//	                 i2: 3 + 2(0.5 + 0.5p) = 4.909091
//
// i3 had no training ratings: the user's mean, 3, a fallback.
func TestMFFoldInByHand(t *testing.T) {
	info := &data.RatingInfo{Users: names(1), Items: names(4), Scale: [2]float32{1, 5}}
	one := &data.Split{X: *pairs([2]int32{0, 0}), Y: data.Array{Float: []float32{4}}}
	user := map[int32]float32{0: 5, 1: 1}
	for _, c := range []struct {
		normalize string
		mu        float64
		want      [4]float64
	}{
		{"none", 3, [4]float64{3 + 4/2.2, 3 - 4/2.2, 3.5 + 2/2.2, 3}},
		{"zscore", 0, [4]float64{3 + 2*(2/2.2), 3 - 2*(2/2.2), 3 + 2*(0.5+1/2.2), 3}},
	} {
		m := &recsys.MatrixFactorization{Factors: 1, Biases: true, Regularization: 0.1, Normalize: c.normalize}
		f, err := m.Restore(info, one, mfState(c.mu))
		if err != nil {
			t.Fatal(err)
		}
		pred, fallbacks, err := f.PredictUser(user)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.want {
			if !near(pred[i], want) {
				t.Errorf("%s: item i%d predicted %.6f, want %.6f", c.normalize, i, pred[i], want)
			}
		}
		if fallbacks != 1 {
			t.Errorf("%s: %d fallbacks, want 1", c.normalize, fallbacks)
		}
	}
	m := &recsys.MatrixFactorization{Factors: 2, Biases: true, Normalize: "none"}
	if _, err := m.Restore(info, one, mfState(3)); err == nil || !strings.Contains(err.Error(), "the saved p has shape [1 1], the model and data want [1 2]") {
		t.Errorf("a state of another shape: %v", err)
	}
}

// TestStateRoundTrip: the fitted models' State, restored from fresh params
// equal to the fitted ones, predicts the same for a new user; and the RBM's
// new-user prediction is Predict's for a training user with those ratings.
func TestStateRoundTrip(t *testing.T) {
	const nUsers, nItems = 30, 12
	train := randomRatings(5, nUsers, nItems, 0.5)
	info := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: [2]float32{1, 5}}
	user := map[int32]float32{1: 4, 2: 5, 6: 1}
	models := map[string]func() recsys.Recommender{
		"matrix_factorization": func() recsys.Recommender {
			return &recsys.MatrixFactorization{Factors: 3, Epochs: 3, LearningRate: 0.01, Regularization: 0.05, Biases: true, Normalize: "center", BatchSize: 16, InitStd: 0.1}
		},
		"rbm_cf": func() recsys.Recommender {
			return &recsys.RBMCF{By: "user", Hidden: 6, CDSteps: 1, LearningRate: 0.05, Momentum: 0.5, Epochs: 3, BatchSize: 8}
		},
	}
	for name, build := range models {
		fitted, _, err := build().Fit(&recsys.FitContext{Info: info, Backend: goBackend(t), Seed: 1}, train)
		if err != nil {
			t.Fatal(name, err)
		}
		state, err := fitted.(recsys.StateSaver).State()
		if err != nil {
			t.Fatal(name, err)
		}
		restored, err := build().(recsys.Restorer).Restore(info, train, state)
		if err != nil {
			t.Fatal(name, err)
		}
		// The restored model scores (user, item) pairs as the fitted one:
		// what pipe evaluate measures.
		all := make([][2]int32, 0, nUsers*nItems)
		for u := range int32(nUsers) {
			for i := range int32(nItems) {
				all = append(all, [2]int32{u, i})
			}
		}
		wantPairs, wantFallbacks, err := fitted.Predict(pairs(all...))
		if err != nil {
			t.Fatal(name, err)
		}
		gotPairs, gotFallbacks, err := restored.Predict(pairs(all...))
		if err != nil {
			t.Fatal(name, err)
		}
		if !slices.Equal(gotPairs, wantPairs) || gotFallbacks != wantFallbacks {
			t.Errorf("%s: restored Predict differs from the fitted model's (%d vs %d fallbacks)", name, gotFallbacks, wantFallbacks)
		}
		want, _, err := fitted.PredictUser(user)
		if err != nil {
			t.Fatal(name, err)
		}
		got, _, err := restored.PredictUser(user)
		if err != nil {
			t.Fatal(name, err)
		}
		for i := range want {
			if got[i] != want[i] || got[i] < 1 || got[i] > 5 {
				t.Errorf("%s: item %d: restored %v, fitted %v", name, i, got[i], want[i])
			}
		}
	}
	// RBM: user 0's training ratings as a new user.
	rbm, _, err := models["rbm_cf"]().Fit(&recsys.FitContext{Info: info, Seed: 1}, train)
	if err != nil {
		t.Fatal(err)
	}
	own := map[int32]float32{}
	for k := range train.Y.Float {
		if train.X.Int[2*k] == 0 {
			own[train.X.Int[2*k+1]] = train.Y.Float[k]
		}
	}
	var others [][2]int32
	for i := range int32(nItems) {
		if _, ok := own[i]; !ok {
			others = append(others, [2]int32{0, i})
		}
	}
	got, _, err := rbm.PredictUser(own)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := rbm.Predict(pairs(others...))
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range others {
		if got[p[1]] != want[k] {
			t.Errorf("rbm_cf: item %d: PredictUser %v, Predict %v", p[1], got[p[1]], want[k])
		}
	}
}

// TestNewUsersRefused: models that have no place for a new user say so,
// and so does the fitted model.
func TestNewUsersRefused(t *testing.T) {
	m := &recsys.RBMCF{By: "item", Hidden: 4, CDSteps: 1, LearningRate: 0.05, Momentum: 0.5, Epochs: 1, BatchSize: 8}
	if err := m.NewUsers(); err == nil || !strings.Contains(err.Error(), "needs by: user") {
		t.Errorf("rbm_cf by item: %v", err)
	}
	const nUsers, nItems = 10, 6
	info := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: [2]float32{1, 5}}
	f, _, err := m.Fit(&recsys.FitContext{Info: info, Seed: 1}, randomRatings(2, nUsers, nItems, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.PredictUser(map[int32]float32{0: 1}); err == nil || !strings.Contains(err.Error(), "needs by: user") {
		t.Errorf("rbm_cf by item predicted for a new user: %v", err)
	}
}

// TestFitLeavesParams: fitting (and restoring) returns a new model and
// leaves the params as they were, so a spec never changes by being run.
func TestFitLeavesParams(t *testing.T) {
	const nUsers, nItems = 20, 10
	train := randomRatings(4, nUsers, nItems, 0.5)
	info := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: [2]float32{1, 5}}
	val := randomRatings(6, nUsers, nItems, 0.2)
	for _, params := range []recsys.Recommender{
		&recsys.UserKNN{Similarity: "pearson", K: 5, Normalize: "zscore", MinSupport: 1, Shrinkage: 2},
		&recsys.MatrixFactorization{Factors: 3, Epochs: 2, LearningRate: 0.01, Regularization: 0.05, Biases: true, Normalize: "zscore", BatchSize: 16, InitStd: 0.1},
		&recsys.RBMCF{By: "user", Hidden: 5, CDSteps: 2, LearningRate: 0.05, Momentum: 0.5, WeightDecay: 0.01, Epochs: 2, BatchSize: 4},
	} {
		before := reflect.ValueOf(params).Elem().Interface()
		fitted, _, err := params.Fit(&recsys.FitContext{Info: info, Backend: goBackend(t), Seed: 3, Val: val}, train)
		if err != nil {
			t.Fatalf("%T: %v", params, err)
		}
		if after := reflect.ValueOf(params).Elem().Interface(); !reflect.DeepEqual(after, before) {
			t.Errorf("Fit changed the params from %+v to %+v", before, after)
		}
		if _, _, err := fitted.Predict(pairs([2]int32{0, 0}, [2]int32{1, 2})); err != nil {
			t.Errorf("%T: %v", params, err)
		}
		s, ok := fitted.(recsys.StateSaver)
		if !ok {
			continue
		}
		state, err := s.State()
		if err != nil {
			t.Fatalf("%T: %v", params, err)
		}
		if _, err := params.(recsys.Restorer).Restore(info, train, state); err != nil {
			t.Fatalf("%T: %v", params, err)
		}
		if after := reflect.ValueOf(params).Elem().Interface(); !reflect.DeepEqual(after, before) {
			t.Errorf("Restore changed the params from %+v to %+v", before, after)
		}
	}
}
