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

// TestEvalBatch: evaluation batches are large for small layer outputs and
// shrink for wide convolutions, never below the training batch.
func TestEvalBatch(t *testing.T) {
	for _, c := range []struct {
		spec     string
		lo, hi   int
		override []string
	}{
		{"../specs/mnist_cnn.yaml", 500, 500, nil},
		{"../specs/cifar10_convnet.yaml", 64, 200, nil},
		{"../specs/cifar10_convnet.yaml", 300, 300, []string{"train.batch_size=300"}},
	} {
		p, err := Load(c.spec, c.override...)
		if err != nil {
			t.Fatal(err)
		}
		if b := (&Model{plan: p}).evalBatch(); b < c.lo || b > c.hi {
			t.Errorf("%s %v: evaluation batch %d, want %d..%d", c.spec, c.override, b, c.lo, c.hi)
		}
	}
}
