package pipeline_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
)

// TestRatingSummaryWithoutData: pipe summary reads no data, so a rating
// model's table gives its parameter count as the formula in the data's
// sizes; a memory-based model says it has none.
func TestRatingSummaryWithoutData(t *testing.T) {
	for spec, want := range map[string][]string{
		"../specs/cf/movielense_mf.yaml": {
			"matrix_factorization (model) (users + items) x 100 + users + items\n",
			"Total params: (users + items) x 100 + users + items\n",
		},
		"../specs/cf/movielense_rbm_item.yaml": {
			"rbm_cf (model)              users x levels x 100 + users x levels + 100 (levels: one per integer of the rating scale)\n",
		},
		"../specs/cf/jester5k_knn.yaml": {
			"user_knn (model)            none: memory-based",
			"Total params: 0\n",
		},
	} {
		p, err := pipeline.Load(spec)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		p.WriteSummary(&b)
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: summary lacks %q:\n%s", spec, w, b.String())
			}
		}
	}
}

// TestRatingParamsAfterTraining: once a rating model is fitted, its
// parameter count is a number: matrix factorisation's (users + items) x
// factors + users + items for MovieLense's 943 users and 1,664 items, the
// same as ParamCount gives for the data's sizes; user_knn's 0.
func TestRatingParamsAfterTraining(t *testing.T) {
	dir := testdata.Dir(t, "movielense")
	for _, c := range []struct {
		spec string
		sets []string
		want int
	}{
		{"../specs/cf/movielense_mf.yaml", []string{"model.factors=5", "model.epochs=1"}, (943+1664)*5 + 943 + 1664},
		{"../specs/cf/movielense_knn.yaml", nil, 0},
	} {
		p, err := pipeline.Load(c.spec, append(c.sets, "data.train_limit=2000", "data.test_limit=200")...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := pipeline.Train(p, pipeline.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		if got := p.TrainedParams(res); got != c.want {
			t.Errorf("%s: %d trained params, want %d", c.spec, got, c.want)
		}
		ds, closer, err := p.Data(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := p.ParamCount(ds.Ratings)
		closer.Close()
		if n != c.want {
			t.Errorf("%s: ParamCount for the data's sizes %d, want %d", c.spec, n, c.want)
		}
		var b strings.Builder
		p.WriteTrainedSummary(&b, res)
		if want := "Total params: " + pipeline.Thousands(c.want) + "\n"; !strings.Contains(b.String(), want) {
			t.Errorf("%s: the run's summary lacks %q:\n%s", c.spec, want, b.String())
		}
	}
}
