package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
)

// myRatings is one MovieLense user's ratings file: a header, and a title
// with a comma, quoted.
const myRatings = `item,rating
Star Wars (1977),5
"Empire Strikes Back, The (1980)",5
Fargo (1996),2
`

// writeFile writes text to a new file in a temporary folder.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkTop parses predict's answer for a user: the header line, then
// item<TAB>rating lines, best first, none of them rated in the input, all
// on the scale [lo, hi].
func checkTop(t *testing.T, out, header string, lines int, rated []string, lo, hi float64) {
	t.Helper()
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.Contains(rows[0], header) || len(rows) != lines+1 {
		t.Fatalf("want the header %q and %d lines, got:\n%s", header, lines, out)
	}
	prev := hi
	for _, row := range rows[1:] {
		item, rating, ok := strings.Cut(row, "\t")
		v, err := strconv.ParseFloat(rating, 64)
		if !ok || err != nil || v < lo || v > hi || v > prev {
			t.Errorf("line %q: want item<TAB>rating on [%g, %g], best first", row, lo, hi)
		}
		for _, r := range rated {
			if item == r {
				t.Errorf("%s was rated in the input, yet predicted", item)
			}
		}
		prev = v
	}
}

// TestPredictUserRatings trains U-AutoRec briefly (one epoch, 50 hidden
// units), then predicts for a user's ratings file; mistakes in the file
// are data errors naming file:line.
func TestPredictUserRatings(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	dir, _ := trainedRun(t, data, "../../specs/cf/movielense_u_autorec.yaml", "--set", "train.epochs=1", "--set", "model.layers[0].units=50")
	mine := writeFile(t, "mine.csv", myRatings)
	rated := []string{"Star Wars (1977)", "Empire Strikes Back, The (1980)", "Fargo (1996)"}
	code, out, stderr := pipeCmd(t, "predict", "--no-cache", "--data-dir", data, "--top", "5", dir, mine)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkTop(t, out, "mine.csv: 3 ratings; top 5 of the 1661 items not rated", 5, rated, 1, 5)
	code, out, stderr = pipeCmd(t, "predict", "--no-cache", "--data-dir", data, "--top", "0", dir, mine)
	if code != 0 {
		t.Fatalf("--top 0: exit %d: %s", code, stderr)
	}
	checkTop(t, out, "top 1661 of the 1661", 1661, rated, 1, 5)
	// The same ratings on stdin (-): the same answer; a mistake names stdin and the line.
	code, fromStdin, stderr := pipeCmdIn(t, myRatings, "predict", "--no-cache", "--data-dir", data, "--top", "0", dir, "-")
	if code != 0 || fromStdin != strings.Replace(out, mine, "stdin", 1) {
		t.Errorf("predict -: exit %d, %s; the output differs from the file's", code, stderr)
	}
	code, _, stderr = pipeCmdIn(t, "Fargo (1996),4\nStar Wars,5\n", "predict", "--no-cache", "--data-dir", data, dir, "-")
	if want := `stdin:2: item "Star Wars" is not an item of the dataset`; code != exitData || !strings.Contains(stderr, want) || strings.Contains(stderr, "pipe-stdin") {
		t.Errorf("a mistake on stdin: exit %d, %q; want %q", code, stderr, want)
	}

	for _, c := range []struct{ text, want string }{
		{"Fargo (1996),4\nStar Wars,5\n", `bad.csv:2: item "Star Wars" is not an item of the dataset (did you mean "Star Wars (1977)"?)`},
		{"Fargo (1996),6\n", `bad.csv:1: rating 6 of item "Fargo (1996)" is outside the scale [1, 5]`},
		{"Fargo (1996),4\nFargo (1996),3\n", `bad.csv:2: item "Fargo (1996)" is rated twice (first on line 1)`},
		{"Empire Strikes Back, The (1980),5\n", `bad.csv:1: 3 fields, want 2 (item,rating): quote an item that holds a comma`},
		{"user,item,rating\n", `bad.csv:1: 3 fields, want 2 (item,rating)`},
		{"title,stars\n", `bad.csv:1: header is ["title" "stars"], want item,rating`},
		{"item,rating\n", `bad.csv: no ratings`},
	} {
		code, _, stderr := pipeCmd(t, "predict", "--no-cache", "--data-dir", data, dir, writeFile(t, "bad.csv", c.text))
		if code != exitData || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "panic") {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", c.text, code, stderr, exitData, c.want)
		}
	}
}

// TestPredictRatingModels: a rating model's run keeps what predicting for a
// new user needs (matrix_factorization, rbm_cf by user: a checkpoint;
// user_knn: the training ratings, from the data), and predict ranks the
// items for a user's ratings.
func TestPredictRatingModels(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	mine := writeFile(t, "mine.csv", myRatings)
	rated := []string{"Star Wars (1977)", "Empire Strikes Back, The (1980)", "Fargo (1996)"}
	for _, c := range []struct {
		spec string
		sets []string
	}{
		{"movielense_mf", []string{"model.epochs=2", "model.factors=10"}},
		{"movielense_rbm_user", []string{"model.epochs=1", "model.hidden=10"}},
		{"movielense_knn_normalized", nil},
	} {
		var args []string
		for _, s := range c.sets {
			args = append(args, "--set", s)
		}
		dir, ran := trainedRun(t, data, "../../specs/cf/"+c.spec+".yaml", args...)
		// evaluate restores the fitted model and finds the run's test metrics.
		code, again, stderr := pipeCmd(t, "evaluate", "--no-cache", "--data-dir", data, dir)
		if want := strings.SplitN(ran, " (", 2)[0]; code != 0 || strings.TrimSpace(again) != strings.TrimSpace(want) {
			t.Errorf("%s: evaluate: exit %d, %q %s; the run said %q", c.spec, code, again, stderr, want)
		}
		code, out, stderr := pipeCmd(t, "predict", "--no-cache", "--data-dir", data, "--top", "3", dir, mine)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.spec, code, stderr)
		}
		checkTop(t, out, "mine.csv: 3 ratings; top 3 of the 1661 items not rated", 3, rated, 1, 5)
		if code, again, _ := pipeCmd(t, "predict", "--no-cache", "--data-dir", data, "--top", "3", dir, mine); code != 0 || again != out {
			t.Errorf("%s: a second predict printed %q, the first %q", c.spec, again, out)
		}
	}
}

// TestPredictUserRefused: models with no place for a new user, and runs
// without the saved model, are refused with why. The checks need no
// training: a run directory's spec.yaml is enough to reach them.
func TestPredictUserRefused(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	mine := writeFile(t, "mine.csv", myRatings)
	runWith := func(spec string) string {
		dir := t.TempDir()
		b, err := os.ReadFile("../../specs/cf/" + spec + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, c := range []struct {
		spec string
		code int
		want string
	}{
		{"movielense_i_autorec", exitUsage, "rating_matrix by: item (I-AutoRec) has one example per item"},
		{"movielense_rbm_item", exitUsage, "rbm_cf by: item has a visible unit per training user"},
		{"movielense_mf", exitRuntime, "has no checkpoint of the fitted model"},
	} {
		code, _, stderr := pipeCmd(t, "predict", "--no-cache", "--data-dir", data, runWith(c.spec), mine)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.spec, code, stderr, c.code, c.want)
		}
	}
	if code, _, stderr := pipeCmd(t, "predict", "--top", "-1", runWith("movielense_knn"), mine); code != exitUsage || !strings.Contains(stderr, "--top must be at least 0") {
		t.Errorf("--top -1: exit %d, %s", code, stderr)
	}
}
