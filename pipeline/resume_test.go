package pipeline

import (
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/pipe-ml/pipe/rundir"
)

// resumePlan is the course CNN (dropout twice) with shards: 2, so that
// dropout draws per part, on a subset small enough for a test.
func resumePlan(t *testing.T) *Plan {
	t.Helper()
	p, err := Load("../specs/mnist_cnn.yaml", "data.train_limit=512", "data.test_limit=128", "train.epochs=4",
		"train.batch_size=64", "train.shards=2")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResumeRestoresRNGState saves a checkpoint whose random state
// differs from the seeded one and checks that a new model loading it for
// training gets the saved state, not the seed's, and keeps it out of
// training.
func TestResumeRestoresRNGState(t *testing.T) {
	p := resumePlan(t)
	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	seeded := m.store.GetVariable(rngStatePath).MustValue().Value()
	drawn, err := graph.RNGStateFromSeed(int64(p.Seed) + 1) // stands for the state after some steps
	if err != nil {
		t.Fatal(err)
	}
	if err := m.store.GetVariable(rngStatePath).SetValue(drawn); err != nil {
		t.Fatal(err)
	}
	want := drawn.Value()
	if reflect.DeepEqual(want, seeded) {
		t.Fatal("the test's saved state equals the seeded one")
	}
	dir := t.TempDir()
	if err := rundir.SaveCheckpoint(dir, m.store); err != nil {
		t.Fatal(err)
	}

	m2, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.loadTrainingState(&rundir.Run{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	v := m2.store.GetVariable(rngStatePath)
	if v == nil {
		t.Fatal("no random state after loading")
	}
	if got := v.MustValue().Value(); !reflect.DeepEqual(got, want) {
		t.Errorf("random state after loading %v, saved %v (seeded %v)", got, want, seeded)
	}
	if v.Trainable {
		t.Error("the loaded random state is trainable")
	}
}
