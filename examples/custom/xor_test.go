package main

import (
	"slices"
	"testing"
)

// The same seed gives the same points; another seed, other points. A
// spec's results are reproducible only if its loader is.
func TestXORDeterministic(t *testing.T) {
	load := func(seed int) []float32 {
		ds, err := (&XOR{TrainSize: 50, TestSize: 10, Noise: 0.1, Seed: seed}).Load("")
		if err != nil {
			t.Fatal(err)
		}
		return slices.Concat(ds.Train.X.Float, ds.Test.X.Float)
	}
	if a, b := load(3), load(3); !slices.Equal(a, b) {
		t.Error("seed 3 gave different points on two loads")
	}
	if a, b := load(3), load(4); slices.Equal(a, b) {
		t.Error("seeds 3 and 4 gave the same points")
	}
}

// Without noise, the label is exactly XOR of the coordinates' signs, and
// the splits have the declared schemas and sizes.
func TestXORLabels(t *testing.T) {
	l := &XOR{TrainSize: 200, TestSize: 30, Seed: 1}
	ds, err := l.Load("")
	if err != nil {
		t.Fatal(err)
	}
	wantX, wantY := l.Schemas()
	ones := 0
	for _, s := range []struct {
		name string
		n    int
	}{{"train", 200}, {"test", 30}} {
		split := ds.Train
		if s.name == "test" {
			split = ds.Test
		}
		if split.Len() != s.n || split.Y.Len() != s.n || split.X.DType != wantX.DType || split.Y.Classes != wantY.Classes {
			t.Fatalf("%s: %d examples, %d labels, %s -> %s; want %d of %s -> %s", s.name, split.Len(), split.Y.Len(), split.X.Schema, split.Y.Schema, s.n, wantX, wantY)
		}
		for i, y := range split.Y.Int {
			a, b := split.X.Float[2*i], split.X.Float[2*i+1]
			if same := a*b > 0; same != (y == 1) {
				t.Errorf("%s example %d: (%v, %v) labelled %d", s.name, i, a, b, y)
			}
			ones += int(y)
		}
	}
	// Uniform points: about half the examples are in each class.
	if ones < 80 || ones > 150 {
		t.Errorf("%d of 230 examples in class 1; want about half", ones)
	}
}
