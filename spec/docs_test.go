package spec_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// TestReferenceTables: every row of every params table has its five
// cells, however the text of a cell reads (validation's type is
// "test | none | fraction").
func TestReferenceTables(t *testing.T) {
	unescaped := regexp.MustCompile(`(^|[^\\])\|`)
	for i, line := range strings.Split(spec.Reference(), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		if n := len(unescaped.FindAllString(line, -1)); n != 6 {
			t.Errorf("line %d has %d cell borders, want 6: %s", i+1, n, line)
		}
	}
}

// TestReferenceWording: kind names take their plural and article.
func TestReferenceWording(t *testing.T) {
	ref := spec.Reference()
	for _, bad := range []string{"## Losss", " a optimizer"} {
		if strings.Contains(ref, bad) {
			t.Errorf("the reference says %q", bad)
		}
	}
	for _, good := range []string{"## Losses", "| an optimizer |", "## Schedules", "| a loss |"} {
		if !strings.Contains(ref, good) {
			t.Errorf("the reference lacks %q", good)
		}
	}
	for kind, want := range map[string]string{"loss": "losses", "layer": "layers", "schedule": "schedules"} {
		if got := spec.Plural(kind); got != want {
			t.Errorf("Plural(%q) = %q, want %q", kind, got, want)
		}
	}
	for word, want := range map[string]string{"optimizer": "an", "loss": "a", "metric": "a"} {
		if got := spec.Article(word); got != want {
			t.Errorf("Article(%q) = %q, want %q", word, got, want)
		}
	}
}

// TestReferenceDefaults: the spec sections show the defaults that decoding
// fills in, including those of sections absent unless given.
func TestReferenceDefaults(t *testing.T) {
	ref := spec.Reference()
	for _, row := range []string{
		"| `batch_size` | integer | `32` |",
		"| `epochs` | integer | `1` |",
		"| `shards` | integer | `1` |",
		"| `validation` | test \\| none \\| fraction | `test` |",
		"| `backend` | string | `go` |",
		"| `monitor` | string | `val_loss` |",
		"| `train` | integer | `1024` |",
		"| `tolerance` | number | `0.0001` |",
		"| `seed` | integer | `0` |",
	} {
		if !strings.Contains(ref, row) {
			t.Errorf("the reference lacks the row %q", row)
		}
	}
	// What is documented is what a spec that leaves them out gets.
	s, err := spec.Parse("min.yaml", []byte("name: x\ndata: {loader: mnist}\nmodel: {input: {shape: [1]}, layers: [flatten]}\ntrain: {early_stopping: {}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.BatchSize != 32 || s.Train.Epochs != 1 || s.Train.Shards != 1 || s.Train.EarlyStopping.Monitor != "val_loss" || s.Golden.Train != 1024 {
		t.Errorf("decoded defaults differ from the documented ones: %+v, %+v", s.Train, s.Golden)
	}
}

// TestSections: nested mappings are sections of their own, in the
// reference and for Doc, by path or by last key.
func TestSections(t *testing.T) {
	var paths []string
	for _, s := range spec.Sections() {
		paths = append(paths, s.Path)
	}
	for _, want := range []string{"", "data", "model", "model.input", "train", "train.early_stopping", "report", "golden"} {
		if !strings.Contains(","+strings.Join(paths, ",")+",", ","+want+",") {
			t.Errorf("sections %q lack %q", paths, want)
		}
	}
	ref := spec.Reference()
	if !strings.Contains(ref, "### train.early_stopping\n") || !strings.Contains(ref, "[train.early_stopping](#trainearly_stopping)") {
		t.Errorf("the reference has no train.early_stopping section linked from train")
	}
	for name, want := range map[string][]string{
		"early_stopping":       {"train.early_stopping (spec section)", "`patience`", "`restore_best`"},
		"train.early_stopping": {"train.early_stopping (spec section)", "`monitor` | string | `val_loss`"},
		"train":                {"train (spec section)", "`batch_size` | integer | `32`"},
		"data":                 {"data (spec section)", "`train_limit`"},
		"spec":                 {"spec (spec section)", "`name` | string | required"},
		"dense":                {"dense (layer)", "`units`"},
	} {
		got, err := spec.Doc(name)
		if err != nil {
			t.Errorf("Doc(%q): %v", name, err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("Doc(%q) lacks %q:\n%s", name, w, got)
			}
		}
	}
	if _, err := spec.Doc("early_stoping"); err == nil || !strings.Contains(err.Error(), `did you mean "early_stopping"`) {
		t.Errorf("Doc(early_stoping): %v", err)
	}
}
