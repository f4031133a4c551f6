package spec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/spec"
)

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExtends: mappings merge key by key, lists are replaced whole, and an
// error in the base names the base file.
func TestExtends(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "base.yaml", good)
	child := write(t, dir, "child.yaml", "extends: base.yaml\nname: child\ntrain: {epochs: 3}\nevaluate: [loss]\n")
	s, err := spec.Load(child)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "child" || s.Train.Epochs != 3 || s.Train.Optimizer.Kind != "sgd" || s.Data.TrainLimit != 100 {
		t.Errorf("merge: name %q epochs %d optimizer %q limit %d", s.Name, s.Train.Epochs, s.Train.Optimizer.Kind, s.Data.TrainLimit)
	}
	if len(s.Evaluate) != 1 || s.Evaluate[0].Kind != "loss" {
		t.Errorf("lists are replaced whole: %v", s.Evaluate)
	}
	// The spec as given, which a run keeps: the base merged in, the
	// overrides applied, no extends: left, no defaults filled in.
	s, err = spec.Load(child, "train.epochs=5")
	if err != nil {
		t.Fatal(err)
	}
	src := string(s.Source)
	if !strings.Contains(src, "train_limit: 100") || !strings.Contains(src, "epochs: 5") || strings.Contains(src, "extends") || strings.Contains(src, "batch_size") {
		t.Errorf("source:\n%s", src)
	}

	write(t, dir, "badbase.yaml", strings.Replace(good, "units: 10", "units: -1", 1))
	_, err = spec.Load(write(t, dir, "c2.yaml", "extends: badbase.yaml\nname: c2\n"))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "badbase.yaml")+":13:22: model.layers[1].units: must be at least 1") {
		t.Errorf("an error in the base should name the base file and line: %v", err)
	}

	write(t, dir, "a.yaml", "extends: b.yaml\n")
	_, err = spec.Load(write(t, dir, "b.yaml", "extends: a.yaml\n"))
	if err == nil || !strings.Contains(err.Error(), "extends cycle") {
		t.Errorf("cycle: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	path := write(t, t.TempDir(), "s.yaml", good)
	s, err := spec.Load(path, "train.epochs=4", "model.layers[1].units=7", "model.layers[0].name=x", "train.optimizer.momentum=0.5")
	if err == nil || !strings.Contains(err.Error(), `model.layers[0].name`) {
		// flatten has no params: the override must be rejected, naming the field.
		t.Errorf("override into a param-less layer: %v", err)
	}
	s, err = spec.Load(path, "train.epochs=4", "model.layers[1].units=7", "train.optimizer.momentum=0.5", "data.transforms[0].scale.divide=2")
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Epochs != 4 || s.Model.Layers[1].Config.(*ops.Dense).Units != 7 {
		t.Errorf("overrides not applied: epochs %d", s.Train.Epochs)
	}
	for _, bad := range []string{"train.epochs", "nosuch.field=1", "model.layers[9].units=1", "train.epochs=[", "train..x=1"} {
		if _, err := spec.Load(path, bad); err == nil {
			t.Errorf("--set %s should fail", bad)
		}
	}
	_, err = spec.Load(path, "train.epochs=0")
	if err == nil || !strings.Contains(err.Error(), "s.yaml (--set): train.epochs: must be at least 1") {
		t.Errorf("an invalid override names --set and the field: %v", err)
	}
}

// TestExtendsMissingBase: a missing base is reported at the extends: that
// names it, in the spec that names it, so the user knows which line to fix.
func TestExtendsMissingBase(t *testing.T) {
	dir := t.TempDir()
	child := write(t, dir, "child.yaml", "name: child\nextends:   nope.yaml\n")
	_, err := spec.Load(child)
	list, ok := spec.AsList(err)
	if !ok || len(list) != 1 {
		t.Fatalf("want one positioned error, got %v", err)
	}
	want := child + ":2:12: extends: base spec " + filepath.Join(dir, "nope.yaml") + ": no such spec file"
	if got := list[0].Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// A base whose own base is missing: the base's extends: is at fault.
	mid := write(t, dir, "mid.yaml", "# a base\nextends: gone/deeper.yaml\n")
	_, err = spec.Load(write(t, dir, "top.yaml", "extends: mid.yaml\n"))
	want = mid + ":2:10: extends: base spec " + filepath.Join(dir, "gone", "deeper.yaml") + ": no such spec file"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}

	// The spec given to Load itself keeps its plain message.
	_, err = spec.Load(filepath.Join(dir, "absent.yaml"))
	if want := filepath.Join(dir, "absent.yaml") + ": no such spec file"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
