package recsys_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/spec"
)

// The Surprise models' params decode from a spec beside their names;
// the bsl_ params left out keep their defaults, and bad values are
// positioned errors.
func TestSurpriseSpecsDecode(t *testing.T) {
	s, err := spec.Parse("cf.yaml", []byte(`name: ml_knn
data: {loader: ml100k, test_fraction: 0.2}
model:
  name: knn_baseline
  user_based: false
  similarity: pearson_baseline
  bsl_method: sgd
  bsl_learning_rate: 0.01
`))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := s.Model.Name.Config.(*recsys.KNN)
	want := recsys.NewKNN("baseline")
	want.UserBased, want.Similarity, want.BaselineOptions.Method, want.BaselineOptions.LearningRate = false, "pearson_baseline", "sgd", 0.01
	if !ok || *m != *want {
		t.Errorf("model %#v, want %#v", s.Model.Name.Config, want)
	}

	s, err = spec.Parse("cf.yaml", []byte(`name: ml_cc
data: {loader: ml100k}
model: {name: co_clustering, n_cltr_u: 5}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := s.Model.Name.Config.(*recsys.CoClustering); !ok || *c != (recsys.CoClustering{UserClusters: 5, ItemClusters: 3, Epochs: 20}) {
		t.Errorf("model %#v", s.Model.Name.Config)
	}

	_, err = spec.Parse("bad.yaml", []byte(`name: bad
data: {loader: ml100k}
model:
  name: knn_with_means
  similarity: pearsn
  bsl_method: lbfgs
`))
	for _, want := range []string{"bad.yaml:5", "model.similarity", `"pearson"`, "bad.yaml:6", "model.bsl_method"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v lack %q", err, want)
		}
	}
}
