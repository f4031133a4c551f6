package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// TestCVValidationCarvedFromFoldTraining: with a kfold test split, as
// cv: runs each fold, train.validation: 0.1 is held out of the fold's
// training part: it never shares a rating with the test fold, the three
// parts hold every rating once, and the test folds partition the data.
// For rating data it is a seeded sample, not the file's last ratings.
func TestCVValidationCarvedFromFoldTraining(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("user,item,rating\n")
	const users, items = 12, 10
	for u := range users {
		for i := range items {
			fmt.Fprintf(&b, "u%d,i%d,%d\n", u, i, 1+(u*7+i*3)%5)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const k = 3
	inTest := map[[2]int32]int{}
	for fold := range k {
		src := strings.Replace(dotSpec, "  test_fraction: 0.25\n", fmt.Sprintf("  split: {kind: kfold, k: %d, fold: %d, seed: 5}\n", k, fold), 1)
		src = strings.Replace(src, "  epochs: 30\n", "  epochs: 1\n  validation: 0.1\n", 1)
		src = strings.Replace(src, "input_dim: 3", fmt.Sprintf("input_dim: %d", users), 1)
		src = strings.Replace(src, "input_dim: 5", fmt.Sprintf("input_dim: %d", items), 1)
		p := dotPlan(t, src)
		ds, closer, err := p.Data(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		train, val := p.fitSplits(ds)
		closer.Close()
		if val == nil || val == &ds.Test {
			t.Fatalf("fold %d: validation is not held out of the training part", fold)
		}
		// Dense indices within the fold; across folds, pairs are
		// compared by their external ids.
		name := func(x []int32, j int) [2]int32 {
			return [2]int32{x[2*j], x[2*j+1]}
		}
		seen := map[[2]int32]string{}
		add := func(part string, x []int32, n int) {
			for j := range n {
				pr := name(x, j)
				if prev, ok := seen[pr]; ok {
					t.Fatalf("fold %d: rating %v is in %s and %s", fold, pr, prev, part)
				}
				seen[pr] = part
			}
		}
		add("test", ds.Test.X.Int, ds.Test.Len())
		add("validation", val.X.Int, val.Len())
		add("train", train.X.Int, train.Len())
		if len(seen) != users*items {
			t.Errorf("fold %d: train, validation and test hold %d ratings, want %d", fold, len(seen), users*items)
		}
		part := ds.Train.Len()
		if want := int(float64(part) * 0.1); val.Len() != want || train.Len() != part-want {
			t.Errorf("fold %d: %d validation and %d training ratings of the fold's %d, want %d held out", fold, val.Len(), train.Len(), part, want)
		}
		// The file is sorted by user: the held-out ratings are a sample,
		// not the last users, whom training would never see.
		valUsers := map[int32]bool{}
		for j := range val.Len() {
			valUsers[val.X.Int[2*j]] = true
		}
		if len(valUsers) < 3 {
			t.Errorf("fold %d: the %d validation ratings are of %d users: the tail of the file, not a sample", fold, val.Len(), len(valUsers))
		}
		ids := ds.Ratings
		for j := range ds.Test.Len() {
			pr := name(ds.Test.X.Int, j)
			inTest[[2]int32{int32(idIndex(t, ids.Users[pr[0]])), int32(idIndex(t, ids.Items[pr[1]]))}]++
		}
	}
	if len(inTest) != users*items {
		t.Errorf("the %d test folds hold %d distinct ratings, want all %d", k, len(inTest), users*items)
	}
	for pr, n := range inTest {
		if n != 1 {
			t.Errorf("rating %v is in %d test folds", pr, n)
		}
	}
}

// idIndex turns "u7" or "i3" into 7 or 3.
func idIndex(t *testing.T, id string) int {
	var n int
	if _, err := fmt.Sscanf(id[1:], "%d", &n); err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	return n
}

// TestCVNeedsASplitLoader: cv: on a loader without split: is a spec
// error at cv (pipe validate finds it); on a rating loader it compiles.
func TestCVNeedsASplitLoader(t *testing.T) {
	s, err := spec.Load("../specs/mnist_cnn.yaml", "cv={folds: 3}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(s); err == nil || !strings.Contains(err.Error(), "cv: loader mnist takes no split:") {
		t.Errorf("cv: on mnist: %v, want a positioned error at cv", err)
	}
	p := dotPlan(t, dotSpec+"cv: {folds: 3}\n")
	if p == nil {
		t.Fatal("no plan")
	}
}
