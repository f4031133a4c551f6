package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// dotSpec is a dot-product recommender on the two named inputs of rating
// data, with tables of different sizes so that swapped columns would show.
const dotSpec = `name: dot_cf
seed: 3
data:
  loader: ratings
  path: r.csv
  header: true
  user: user
  item: item
  rating: rating
  test_fraction: 0.25
model:
  inputs:
    - {name: user, shape: [1]}
    - {name: item, shape: [1]}
  layers:
    - embedding: {input_dim: 3, output_dim: 4}
      name: u
      inputs: [user]
    - flatten: {}
      name: uv
    - embedding: {input_dim: 5, output_dim: 4}
      name: v
      inputs: [item]
    - flatten: {}
      name: vv
    - dot: {axes: [1]}
      inputs: [uv, vv]
train:
  loss: mse
  optimizer: {name: adam, learning_rate: 0.05}
  batch_size: 4
  epochs: 30
evaluate: [rmse]
`

// ratingsDir writes a small rating file of 3 users and 5 items: every
// user rates every item, 3 + (u + i) % 3.
func ratingsDir(t *testing.T) string {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("user,item,rating\n")
	for u := range 3 {
		for i := range 5 {
			fmt.Fprintf(&b, "u%d,i%d,%d\n", u, i, 3+(u+i)%3)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dotPlan(t *testing.T, src string) *Plan {
	t.Helper()
	s, err := spec.Parse("dot_cf.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInputsWiredByName: the user input takes X's column 0 and the item
// input column 1, so the model's output for a pair is the dot product of
// the user's row of u's table and the item's row of v's.
func TestInputsWiredByName(t *testing.T) {
	dir := ratingsDir(t)
	p := dotPlan(t, dotSpec)
	if got := fmt.Sprint(p.Inputs); got != "[{user [1] 0 1} {item [1] 1 2}]" {
		t.Fatalf("inputs %v", got)
	}
	ds, closer, err := p.Data(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	backend, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	m, err := NewModel(p, backend)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Outputs(&ds.Train) // creates the tables
	if err != nil {
		t.Fatal(err)
	}
	u, v := varValues(t, m.store, "/u/embeddings"), varValues(t, m.store, "/v/embeddings")
	if len(u) != 3*4 || len(v) != 5*4 {
		t.Fatalf("tables of %d and %d values", len(u), len(v))
	}
	x := ds.Train.X.Int
	for k := range ds.Train.Len() {
		user, item := int(x[2*k]), int(x[2*k+1])
		want := 0.0
		for j := range 4 {
			want += float64(u[user*4+j]) * float64(v[item*4+j])
		}
		if math.Abs(float64(out[k])-want) > 1e-6 {
			t.Errorf("pair %d (user %d, item %d): output %g, dot of the rows %g", k, user, item, out[k], want)
		}
	}
}

// TestInputsTrainAndPredict: a model of two inputs trains (its loss
// falls), writes a run whose predictions are the test pairs' ratings, and
// pipe predict says what such a run cannot take.
func TestInputsTrainAndPredict(t *testing.T) {
	dir := ratingsDir(t)
	p := dotPlan(t, dotSpec)
	res, err := Run(p, Options{DataDir: dir, RunsDir: t.TempDir(), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	loss := res.History.Values[0]
	if !(loss[len(loss)-1] < loss[0]/2) {
		t.Errorf("loss went from %g to %g", loss[0], loss[len(loss)-1])
	}
	if res.Predictions == nil || len(res.Predictions.Prediction) != res.TestExamples || res.TestExamples == 0 {
		t.Fatalf("predictions %+v for %d test ratings", res.Predictions, res.TestExamples)
	}
	if rmse := res.Test["rmse"]; math.IsNaN(rmse) || rmse <= 0 {
		t.Errorf("test rmse %g", rmse)
	}
	csv := filepath.Join(t.TempDir(), "me.csv")
	os.WriteFile(csv, []byte("item,rating\ni1,5\n"), 0o644)
	_, _, err = PredictRun(res.Dir, []string{csv}, nil, Options{DataDir: dir})
	var pe *PredictError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "takes (user, item) pairs") {
		t.Errorf("predict on a user's ratings: %v", err)
	}
}

// TestInputsCompileErrors: the inputs are checked against the data with
// positions.
func TestInputsCompileErrors(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown loader input", "{name: item, shape: [1]}", "{name: movie, shape: [1]}",
			`dot_cf.yaml:14:14: model.inputs[1].name: loader ratings gives no input "movie" (valid: item, user); name one of its inputs or give columns: [from, to]`},
		{"columns past the end", "{name: item, shape: [1]}", "{name: movie, shape: [1], columns: [1, 3]}",
			`dot_cf.yaml:14:42: model.inputs[1].columns: columns [1, 3) of examples of shape [2]: the last axis has 2`},
		{"shape", "{name: item, shape: [1]}", "{name: item, shape: [2]}",
			`model.inputs[1].shape: input item takes columns [1, 2) of examples of shape [2]: shape [1], the model expects [2]`},
		{"transformed examples", "  test_fraction: 0.25\n", "  test_fraction: 0.25\n  transforms: [{rating_matrix: {by: user}}]\n",
			`model.inputs[0]: the transforms change the examples from the loader's, so its inputs ([user item]) no longer hold: give columns: [from, to]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(dotSpec, tc.from, tc.to, 1)
			if src == dotSpec {
				t.Fatal("the test's edit did not apply")
			}
			if strings.Contains(tc.to, "movie") {
				src = strings.Replace(src, "inputs: [item]", "inputs: [movie]", 1)
			}
			s, err := spec.Parse("dot_cf.yaml", []byte(src))
			if err == nil {
				_, err = Compile(s)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestNeuralCFSpecs: the shipped specs have the parameter counts their
// comments work out from Keras' formulas, and their summaries show one
// row per input.
func TestNeuralCFSpecs(t *testing.T) {
	for file, want := range map[string]int{
		"../specs/cf/movielense_keras_cf.yaml": 943*50 + 943*1 + 1664*50 + 1664*1,                                                 // 132,957
		"../specs/cf/movielense_neumf.yaml":    943*8 + 1664*8 + 943*32 + 1664*32 + 64*64 + 64 + 64*32 + 32 + 32*16 + 16 + 24 + 1, // 111,073
	} {
		p, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if p.Params() != want {
			t.Errorf("%s: %d params, want %d", file, p.Params(), want)
		}
		var b bytes.Buffer
		p.WriteSummary(&b)
		for _, row := range []string{" user (input_layer)           (None, 1)      0        -\n", " item (input_layer)           (None, 1)      0        -\n", "Total params: " + Thousands(want) + "\n"} {
			if !strings.Contains(b.String(), row) {
				t.Errorf("%s: summary has no row %q:\n%s", file, row, b.String())
			}
		}
	}
	// The first layer of each tower reads its input by name.
	p, _ := Load("../specs/cf/movielense_neumf.yaml")
	if st := p.Stages[0]; st.Name != "gmf_user" || len(st.From) != 1 || st.From[0] != 0 {
		t.Errorf("first stage %s reads %v, want gmf_user reading user (0)", st.Name, st.From)
	}
	var b bytes.Buffer
	p.WriteSummary(&b)
	if !strings.Contains(b.String(), "mlp_item (embedding)         (None, 1, 32)  53,248   item\n") {
		t.Errorf("summary:\n%s", b.String())
	}
	// Its rules, above, inside and below the table, are as wide as each other.
	lines := strings.Split(b.String(), "\n")
	var widths []int
	for _, l := range lines {
		if strings.Trim(l, "_=") == "" && l != "" {
			widths = append(widths, len(l))
		}
	}
	if len(widths) != 4 || slices.Min(widths) != slices.Max(widths) {
		t.Errorf("rules of widths %v:\n%s", widths, b.String())
	}
}
