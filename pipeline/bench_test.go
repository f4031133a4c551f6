package pipeline_test

import (
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/pipeline"
)

// TestPlanMultiplyAdds: the forward multiply-adds per example of two bench
// models, as PyTorch's reference counts them (bench/torch/reference.py).
func TestPlanMultiplyAdds(t *testing.T) {
	for _, c := range []struct {
		spec      string
		want      int64
		uncounted []string
	}{
		// 24·24·3·25 + 20·20·3·75 + 300·128 + 128·10
		{"../specs/mnist_cnn.yaml", 172880, []string{"max_pool2d", "dropout", "flatten"}},
		{"../specs/cifar10_resnet20.yaml", 41190016, []string{"activation", "add", "average_pool2d", "flatten"}},
		// 500·4·100·132 + 100
		{"../specs/imdb_lstm.yaml", 26400100, []string{"dropout"}},
	} {
		p, err := pipeline.Load(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, uncounted := p.MultiplyAdds()
		if got != c.want || !slices.Equal(uncounted, c.uncounted) {
			t.Errorf("%s: %d, not counted %v; want %d, %v", c.spec, got, uncounted, c.want, c.uncounted)
		}
	}
}

// TestBench runs each phase a fixed number of steps; no timing is checked.
func TestBench(t *testing.T) {
	p, err := pipeline.Load("../specs/mnist_cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	backend, err := pipeline.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Bench(p, backend, pipeline.BenchOptions{Batch: 4, Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Batch != 4 || res.Steps != 2 || res.SamplesPerS <= 0 || res.EvalPerS <= 0 || res.PredictPerS <= 0 || res.FirstStep <= 0 {
		t.Errorf("%+v", res)
	}
}

// TestBenchFit fits a rating model and a layer stack on a few synthetic
// ratings, as a point of pipe bench --curves does; no timing is checked.
func TestBenchFit(t *testing.T) {
	backend, err := pipeline.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	synthetic := []string{"data.loader=synthetic_ratings", "data.ratings=2000", "data.users=50", "data.items=80"}
	for _, c := range []struct {
		spec  string
		sets  []string
		train int
	}{
		{"../specs/cf/movielense_mf.yaml", []string{"model.epochs=2"}, 1400},
		{"../specs/cf/movielense_knn.yaml", nil, 1400},
		// One rating vector per item, over the 50 users.
		{"../specs/cf/movielense_i_autorec.yaml", []string{"train.epochs=1", "model.input.shape=[50]", "model.layers[1].dense.units=50"}, 80},
	} {
		p, err := pipeline.Load(c.spec, append(synthetic, c.sets...)...)
		if err != nil {
			t.Fatal(err)
		}
		cost, err := pipeline.BenchFit(p, backend, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if cost.Train != c.train || cost.Users != 50 || cost.Items != 80 || cost.Fit <= 0 || cost.Predict <= 0 || cost.Load <= 0 {
			t.Errorf("%s: %+v, want %d training examples of 50 users and 80 items", c.spec, cost, c.train)
		}
	}
}
