// Package golden records what each spec produces — its layer table and the
// metrics of a short deterministic run — in reviewable YAML files, and
// compares a fresh run against them, so a change to pipe that moves a
// result is caught with a readable diff.
package golden

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/pipe-ml/pipe/pipeline"
)

// File is one spec's golden record: golden/<spec name>.golden.yaml.
type File struct {
	Spec      string             `yaml:"spec"`
	Run       Run                `yaml:"run"`
	Layers    []Layer            `yaml:"layers"`
	Params    int                `yaml:"params"`
	History   map[string]Series  `yaml:"history"` // per-epoch metrics of the golden run
	Test      map[string]float64 `yaml:"test"`    // final metrics on the golden test subset
	Tolerance float64            `yaml:"tolerance"`
}

// Run is the golden run's size.
type Run struct {
	Seed   int `yaml:"seed"`
	Train  int `yaml:"train"`
	Test   int `yaml:"test"`
	Epochs int `yaml:"epochs"`
}

// Layer is one row of the layer table; compared exactly.
type Layer struct {
	Name   string `yaml:"name"`
	Kind   string `yaml:"kind"`
	Output []int  `yaml:"output,flow"`
	Params int    `yaml:"params"`
}

// Series is one metric's values per epoch.
type Series []float64

// Produce runs the spec's golden run and records it.
func Produce(p *pipeline.Plan, opt pipeline.Options) (*File, error) {
	g := p.GoldenRun()
	res, err := pipeline.Train(g, opt)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	f := &File{
		Spec:      p.Name,
		Run:       Run{Seed: g.Seed, Train: g.TrainLimit, Test: g.TestLimit, Epochs: g.Train.Epochs},
		Layers:    Layers(p),
		Params:    p.TrainedParams(res), // a rating model's depends on the data: what it learned
		History:   map[string]Series{},
		Test:      res.Test,
		Tolerance: p.Golden.Tolerance,
	}
	for i, name := range res.History.Names {
		f.History[name] = res.History.Values[i]
	}
	return f, nil
}

// Layers is the plan's layer table.
func Layers(p *pipeline.Plan) []Layer {
	rows := make([]Layer, len(p.Stages))
	for i, s := range p.Stages {
		rows[i] = Layer{Name: s.Name, Kind: s.Kind, Output: s.Out, Params: s.NParams}
	}
	return rows
}

// Diff compares a fresh record with the golden one: layers, shapes and
// parameter counts exactly, metrics within the golden file's tolerance.
// It returns "" when they agree, else a go-cmp diff (-golden +now).
func Diff(want, got *File) string {
	tol := want.Tolerance
	approx := cmp.Comparer(func(a, b float64) bool {
		return a == b || math.Abs(a-b) <= tol || math.IsNaN(a) && math.IsNaN(b)
	})
	return cmp.Diff(want, got, approx)
}

// Path is where the golden file of the spec called name lives in dir.
func Path(dir, name string) string { return filepath.Join(dir, name+".golden.yaml") }

// Read loads a golden file.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// Write stores f at path through a temporary file and a rename, so an
// interrupted update never leaves a half-written golden file.
func Write(path string, f *File) error {
	b, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	header := []byte("# Written by `pipe test --update` from a run of the spec; review changes like code.\n")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".golden-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(append(header, b...)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Check runs the spec's golden run and compares it with its golden file in
// dir; with update it rewrites the file instead. It returns the diff ("" when
// equal) and an error when the run or the file could not be read.
func Check(p *pipeline.Plan, opt pipeline.Options, dir string, update bool) (string, error) {
	got, err := Produce(p, opt)
	if err != nil {
		return "", err
	}
	path := Path(dir, p.Name)
	if update {
		return "", Write(path, got)
	}
	want, err := Read(path)
	if os.IsNotExist(err) {
		return "", fmt.Errorf("%s: no golden file; create it with `pipe test --update %s`", path, p.SpecFile())
	} else if err != nil {
		return "", err
	}
	return Diff(want, got), nil
}
