package golden_test

import (
	"flag"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/golden"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files from fresh runs")

// specs lists every shipped spec.
func specs(t *testing.T) []string {
	var paths []string
	err := filepath.WalkDir("../specs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil || len(paths) == 0 {
		t.Fatalf("no specs found under ../specs: %v", err)
	}
	return paths
}

// TestGolden runs every spec's golden run and compares it with its file in
// golden/ (`go test ./golden/ -update` rewrites them).
func TestGolden(t *testing.T) {
	data := testdata.Dir(t, ".")
	cache := t.TempDir()
	for _, path := range specs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, err := pipeline.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			diff, err := golden.Check(p, pipeline.Options{DataDir: data, CacheDir: cache}, ".", *update)
			if err != nil {
				t.Fatal(err)
			}
			if diff != "" {
				t.Errorf("%s moved from its golden file (-golden +now):\n%s", path, diff)
			}
		})
	}
}

// TestGoldenDeterministic: two golden runs give identical metrics.
func TestGoldenDeterministic(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	p, err := pipeline.Load("../specs/mnist_cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := golden.Produce(p, pipeline.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	b, err := golden.Produce(p, pipeline.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	a.Tolerance, b.Tolerance = 0, 0 // exact
	if d := golden.Diff(a, b); d != "" {
		t.Errorf("two golden runs differ:\n%s", d)
	}
}

// TestLayerChangeShowsInDiff widens a dense layer and checks that the diff
// names the layer and both parameter counts.
func TestLayerChangeShowsInDiff(t *testing.T) {
	s, err := spec.Load("../specs/mnist_cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	want := &golden.File{Layers: golden.Layers(p), Params: p.Params()}
	s.Model.Layers[5].Config.(*ops.Dense).Units = 129
	changed, err := pipeline.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	got := &golden.File{Layers: golden.Layers(changed), Params: changed.Params()}
	diff := golden.Diff(want, got)
	for _, w := range []string{`Name: "dense"`, "38528", "38829", "40124", "40435"} {
		if !strings.Contains(diff, w) {
			t.Errorf("diff lacks %q:\n%s", w, diff)
		}
	}
}
