package pipeline

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
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

// TestResumeInterruptedMidEpoch interrupts training in the middle of epoch
// 2, resumes, interrupts the resumed run in the middle of its first epoch,
// resumes again, and checks that every epoch's metrics equal those of an
// uninterrupted run exactly: each interruption must roll the model, random
// state included, back to the end of the last whole epoch, also when that
// epoch was trained before the resume.
func TestResumeInterruptedMidEpoch(t *testing.T) {
	dataDir := testdata.Dir(t, "mnist")
	p := resumePlan(t)
	backend, ds := goBackendData(t, p, dataDir)
	const epochs = 4

	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Fit(&ds.Train, &ds.Test, epochs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}

	checkResume(t, p, backend, ds, want, 3, 2, nil)
}

// checkResume checks that interrupting and resuming training gives the
// uninterrupted run's history want: it trains a new model of p on ds,
// cancels it in epoch 2 after step steps (epoch 1 done), writes the
// interrupted run, and resumes from it in a new model; times times in
// all, each resumed run cancelled the same way and written over the
// run's directory, its epoch 1 trained before the resume. The last
// resumed model trains to want's end; its history must equal want series
// by series, bit for bit. loaded, when not nil, sees each model after it
// loaded the checkpoint to resume. checkResume returns the last model.
func checkResume(t *testing.T, p *Plan, backend compute.Backend, ds *data.Dataset, want *data.History, step, times int, loaded func(*Model)) *Model {
	t.Helper()
	epochs := len(want.Series(want.Names[0]))
	runs := t.TempDir()
	var m *Model
	var dir string
	for k := 0; k <= times; k++ {
		var err error
		if m, err = NewModel(p, backend); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o := FitOptions{}
		if k < times {
			o = FitOptions{Context: ctx, Step: func(r StepReport) {
				if r.Epoch == 2 && r.Done == step*p.Train.BatchSize {
					cancel()
				}
			}}
		}
		if dir != "" {
			run, err := rundir.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if o.Resume, err = resume(p, m, run); err != nil {
				t.Fatal(err)
			}
			if loaded != nil {
				loaded(m)
			}
		}
		h, err := m.Fit(&ds.Train, &ds.Test, epochs, o)
		if k == times {
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.Names, want.Names) {
				t.Fatalf("series %v, uninterrupted %v", h.Names, want.Names)
			}
			for i, name := range want.Names {
				// DeepEqual compares the float64s with ==: bit for bit, NaN aside.
				if !reflect.DeepEqual(h.Values[i], want.Values[i]) {
					t.Errorf("%s per epoch: resumed %d times %v, uninterrupted %v", name, times, h.Values[i], want.Values[i])
				}
			}
			break
		}
		if !errors.Is(err, ErrInterrupted) || len(h.Series("loss")) != 1 {
			t.Fatalf("run %d should stop in epoch 2, with epoch 1 done: %v, %v", k+1, err, h)
		}
		if dir, err = p.writeRun(Options{RunsDir: runs}, &Result{History: h, model: m, Interrupted: true, Stopped: err}, dir); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestResumeEarlyStoppingCount checks that a resumed run's early stopping
// counts the epochs without improvement of the epochs trained before, so
// that it stops at the epoch the uninterrupted run would.
func TestResumeEarlyStoppingCount(t *testing.T) {
	p, err := Load("../specs/mnist_cnn.yaml", "train.early_stopping={monitor: val_accuracy, patience: 3}")
	if err != nil {
		t.Fatal(err)
	}
	h := &data.History{}
	for _, v := range []float64{0.5, 0.7, 0.6, 0.7, 0.65} { // best 0.7 at epoch 2, then 3 without improvement
		h.Add("val_accuracy", v)
	}
	s := newStopper(p.Train.EarlyStopping, 1)
	epoch := s.replay(h)
	if epoch != 2 || s.best != data.Minimised("val_accuracy", 0.7) || s.wait != 3 {
		t.Errorf("after replay: best epoch %d (%v), wait %d; want 2 (%v), 3", epoch, s.best, s.wait, data.Minimised("val_accuracy", 0.7))
	}
}

// goBackendData opens the Go backend and p's preprocessed data (without a
// cache), both released when the test ends.
func goBackendData(t *testing.T, p *Plan, dataDir string) (compute.Backend, *data.Dataset) {
	t.Helper()
	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(backend.Finalize)
	ds, closer, err := p.Data(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
	return backend, ds
}
