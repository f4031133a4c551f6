package pipeline

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// TestEarlyStoppingRestoresBest trains with a learning rate so high that
// validation gets worse, and checks that the run stops and ends with the
// best epoch's weights.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	p, err := Load("../specs/mnist_cnn.yaml", "data.train_limit=1000", "data.test_limit=200", "train.epochs=10",
		"train.early_stopping={monitor: val_loss, patience: 1, restore_best: true}", "train.optimizer={name: sgd, learning_rate: 0.9}")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(p, Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	val := res.History.Series("val_loss")
	if len(val) == 10 {
		t.Fatalf("no early stop: %v", val)
	}
	best := math.Inf(1)
	for _, v := range val {
		best = math.Min(best, v)
	}
	if math.Abs(res.Test["loss"]-best) > 1e-9 {
		t.Errorf("final test loss %v, want the best epoch's %v (history %v)", res.Test["loss"], best, val)
	}
}

// TestDivergedLossKeepsLastEpoch makes the loss blow up in epoch 2 (a
// learning rate of 1e30 from then on) and checks that training stops there,
// names the epoch and step, and leaves the model as it was after epoch 1.
func TestDivergedLossKeepsLastEpoch(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	p, err := Load("../specs/mnist_cnn.yaml", "data.train_limit=512", "data.test_limit=128", "train.epochs=3",
		"train.optimizer={name: sgd, learning_rate: 0.1}")
	if err != nil {
		t.Fatal(err)
	}
	backend, ds := goBackendData(t, p, data)
	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(&ds.Train, &ds.Test, 3, FitOptions{Report: func(r EpochReport) {
		if r.Epoch == 1 {
			m.store.Scope("/train").GetVariable(lrScaleVar).SetValue(tensors.FromValue(float32(1e30)))
		}
	}})
	// Step 1 of epoch 2 measures the loss before its (huge) update; step 2
	// sees the result.
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "at epoch 2, step 2") {
		t.Fatalf("want a divergence at epoch 2, step 2: %v", err)
	}
	if len(h.Series("loss")) != 1 {
		t.Fatalf("history should hold epoch 1 only: %v", h.Values)
	}
	got, err := m.Evaluate(&ds.Test)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.Series("val_loss")[0]; got["loss"] != want {
		t.Errorf("the model after the divergence measures %v; after epoch 1 it measured %v", got["loss"], want)
	}
}
