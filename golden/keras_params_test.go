package golden_test

import (
	"testing"

	"github.com/pipe-ml/pipe/pipeline"
)

// TestKerasParamTotals: each shipped Keras workload has the parameter total
// that Keras gives the same model (each spec's comment says where the
// number comes from): trainable, and non-trainable (batch norm's moving
// statistics).
func TestKerasParamTotals(t *testing.T) {
	for _, c := range []struct {
		spec                    string
		trainable, nonTrainable int
	}{
		{"../specs/mnist_cnn.yaml", 40_124, 0},
		{"../specs/cifar10_cnn.yaml", 57_170, 0},
		{"../specs/mnist_lenet5.yaml", 61_706, 0},
		{"../specs/cifar10_vgg_bn.yaml", 551_722, 1_152},
		{"../specs/cifar10_resnet20.yaml", 273_066, 1_376},
		{"../specs/mnist_denoising_autoencoder.yaml", 178_001, 0},
		{"../specs/imdb_transformer.yaml", 657_758, 0},
		{"../specs/imdb_cnn_lstm.yaml", 2_638_895, 0},
		{"../specs/imdb_bidirectional_lstm.yaml", 2_658_945, 0},
		{"../specs/imdb_fasttext.yaml", 1_000_051, 0},
		{"../specs/mnist_irnn.yaml", 11_210, 0},
		// GLocal-K's TensorFlow code: per kernel layer W, u, v and b
		// (943x500 + 943x5 + 500x5 + 500, 500x500 + ..., 500x943 + ...),
		// and conv_kernel 1682x9; the fine-tuning pass reuses the weights.
		{"../specs/cf/ml100k_glocal_k.yaml", 1_229_511, 0},
	} {
		p, err := pipeline.Load(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got, state := p.Params(), p.NonTrainableParams(); got != c.trainable || state != c.nonTrainable {
			t.Errorf("%s: %d trainable and %d non-trainable params, Keras has %d and %d", c.spec, got, state, c.trainable, c.nonTrainable)
		}
	}
}
