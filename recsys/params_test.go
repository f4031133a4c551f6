package recsys_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
)

// TestParamCount: every registered rating model counts its trainable
// parameters; without data as a formula, with the data's sizes as the
// number (checked by hand), which is what the fitted model learned.
func TestParamCount(t *testing.T) {
	for _, name := range recsys.Models.Names() {
		e, _ := recsys.Models.Lookup(name)
		if _, ok := e.New().(recsys.ParamCounter); !ok {
			t.Errorf("%s does not count its parameters", name)
		}
	}
	if n, f := (&recsys.MatrixFactorization{Factors: 100, Biases: true}).ParamCount(nil); n != -1 || f != "(users + items) x 100 + users + items" {
		t.Errorf("matrix_factorization without data: %d, %q", n, f)
	}
	if n, f := (&recsys.RBMCF{By: "item", Hidden: 100}).ParamCount(nil); n != -1 || !strings.HasPrefix(f, "users x levels x 100 + users x levels + 100") {
		t.Errorf("rbm_cf without data: %d, %q", n, f)
	}
	if n, f := (&recsys.UserKNN{}).ParamCount(nil); n != 0 || !strings.Contains(f, "memory-based") {
		t.Errorf("user_knn without data: %d, %q", n, f)
	}

	const nUsers, nItems = 30, 12
	train := randomRatings(5, nUsers, nItems, 0.5)
	info := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: [2]float32{1, 5}}
	// Jester's continuous scale, cut into 21 levels by bins.
	jester := randomRatings(6, nUsers, nItems, 0.5)
	for k := range jester.Y.Float {
		jester.Y.Float[k] = (jester.Y.Float[k] - 3) * 4.5
	}
	jesterInfo := &data.RatingInfo{Users: names(nUsers), Items: names(nItems), Scale: [2]float32{-10, 10}}
	for _, c := range []struct {
		name  string
		model recsys.Recommender
		info  *data.RatingInfo
		train *data.Split
		want  int
	}{
		{"mf", &recsys.MatrixFactorization{Factors: 3, Epochs: 1, LearningRate: 0.01, Biases: true, Normalize: "none", BatchSize: 16, InitStd: 0.1}, info, train,
			(nUsers+nItems)*3 + nUsers + nItems},
		{"mf without biases", &recsys.MatrixFactorization{Factors: 4, Epochs: 1, LearningRate: 0.01, Normalize: "center", BatchSize: 16, InitStd: 0.1}, info, train,
			(nUsers + nItems) * 4},
		// by user: the entries are the 12 items; 5 levels (1..5), 6 hidden.
		{"rbm by user", &recsys.RBMCF{By: "user", Hidden: 6, CDSteps: 1, LearningRate: 0.05, Epochs: 1, BatchSize: 8}, info, train,
			nItems*5*6 + nItems*5 + 6},
		// by item: the entries are the 30 users; 21 bins.
		{"rbm by item, bins", &recsys.RBMCF{By: "item", Hidden: 4, CDSteps: 1, LearningRate: 0.05, Epochs: 1, BatchSize: 8, Bins: 21}, jesterInfo, jester,
			nUsers*21*4 + nUsers*21 + 4},
		{"knn", &recsys.UserKNN{Similarity: "cosine", K: 3, Normalize: "none", MinSupport: 1}, info, train, 0},
	} {
		n, _ := c.model.(recsys.ParamCounter).ParamCount(c.info)
		if n != c.want {
			t.Errorf("%s: ParamCount %d, want %d", c.name, n, c.want)
		}
		fitted, _, err := c.model.Fit(&recsys.FitContext{Info: c.info, Backend: goBackend(t), Seed: 1}, c.train)
		if err != nil {
			t.Fatal(c.name, err)
		}
		if got := fitted.(recsys.ParamCounted).TrainableParams(); got != c.want {
			t.Errorf("%s: the fitted model has %d trainable parameters, ParamCount says %d", c.name, got, c.want)
		}
	}
	// A scale the RBM cannot cut into levels without bins has no count.
	if n, _ := (&recsys.RBMCF{By: "user", Hidden: 4}).ParamCount(&data.RatingInfo{Users: names(2), Items: names(2), Scale: [2]float32{0.5, 5}}); n != -1 {
		t.Errorf("rbm_cf on a scale it refuses: %d", n)
	}
}
