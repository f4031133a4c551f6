package recsys_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/spec"
)

// The rating loaders' split params (embedded RatingSplit) and the rating
// models' params decode from a spec beside their names, with defaults for
// what is left out and positioned errors for bad values.
func TestRatingSpecsDecode(t *testing.T) {
	s, err := spec.Parse("cf.yaml", []byte(`name: jester_knn
seed: 3
data:
  loader: jester5k
  sample_users: 1000
  split_seed: 5
model:
  name: user_knn
  normalize: zscore
  k: 50
`))
	if err != nil {
		t.Fatal(err)
	}
	l, ok := s.Data.Loader.Config.(*loaders.Jester5k)
	if !ok || l.SampleUsers != 1000 || l.SplitSeed != 5 || l.TestFraction != 0.3 {
		t.Errorf("loader %#v", s.Data.Loader.Config)
	}
	m, ok := s.Model.Name.Config.(*recsys.UserKNN)
	if !ok || m.K != 50 || m.Normalize != "zscore" || m.Similarity != "pearson" || m.Shrinkage != 25 {
		t.Errorf("model %#v", s.Model.Name.Config)
	}

	s, err = spec.Parse("cf.yaml", []byte(`name: ml_rbm
data: {loader: movielense, test_fraction: 0.2}
model: {name: rbm_cf, by: user, hidden: 50, cd_steps: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := s.Model.Name.Config.(*recsys.RBMCF)
	if !ok || r.By != "user" || r.Hidden != 50 || r.CDSteps != 3 || r.Epochs != 40 || r.LearningRate != 0.005 {
		t.Errorf("model %#v", s.Model.Name.Config)
	}
	if ml := s.Data.Loader.Config.(*loaders.MovieLense); ml.TestFraction != 0.2 || ml.SplitSeed != 1 {
		t.Errorf("loader %#v", ml)
	}

	_, err = spec.Parse("bad.yaml", []byte(`name: bad
data: {loader: ml100k, sample_users: -1}
model:
  name: user_knn
  normalize: scale
  k: 0
`))
	for _, want := range []string{"bad.yaml:2", "data.sample_users", "bad.yaml:5", "model.normalize", `"scale" is not supported`, "bad.yaml:6", "model.k"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v lack %q", err, want)
		}
	}
}
