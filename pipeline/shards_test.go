package pipeline

import (
	"math"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestShardsAddUp trains the course CNN with the batch in one piece and in
// three uneven parts (128 = 42 + 43 + 43): without dropout, whose masks are
// drawn per part, every step is the same computation up to the order of
// the sums, so the histories agree. The L2 penalty of a dense layer must
// count once, not once per part.
func TestShardsAddUp(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	history := func(shards string) map[string][]float64 {
		p, err := Load("../specs/mnist_cnn.yaml", "data.train_limit=512", "data.test_limit=128", "train.epochs=2",
			"train.optimizer={name: sgd, learning_rate: 0.05}", "model.layers[3].rate=0", "model.layers[6].rate=0",
			"model.layers[5].l2=0.1", "train.shards="+shards)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Train(p, Options{DataDir: data})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float64{}
		for i, n := range res.History.Names {
			out[n] = res.History.Values[i]
		}
		return out
	}
	whole, parts := history("1"), history("3")
	for name, want := range whole {
		for e, w := range want {
			if got := parts[name][e]; math.Abs(got-w) > 1e-4*max(1, math.Abs(w)) {
				t.Errorf("%s, epoch %d: %v with 3 shards, %v with 1", name, e+1, got, w)
			}
		}
	}
}
