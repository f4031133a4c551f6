package serve_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/serve"
)

// TestServeRatings: a user's ratings get the items and predicted ratings
// `pipe predict` gives for the same ratings in a file, best first, cut at
// top; mistakes name the rating at fault.
func TestServeRatings(t *testing.T) {
	run := trained(t, "mf", "movielense", "../specs/cf/movielense_mf.yaml", "model.epochs=2", "model.factors=8")
	csv := filepath.Join(t.TempDir(), "me.csv")
	os.WriteFile(csv, []byte("item,rating\nStar Wars (1977),5\n\"Empire Strikes Back, The (1980)\",4.5\nFargo (1996),2\n"), 0o644)
	_, preds, err := pipeline.PredictRun(run, []string{csv}, nil, pipeline.Options{DataDir: testdata.Dir(t, "movielense")})
	if err != nil {
		t.Fatal(err)
	}
	want := preds[0]
	mine := map[string]any{"Star Wars (1977)": 5, "Empire Strikes Back, The (1980)": 4.5, "Fargo (1996)": 2}
	ts, _ := startServer(t, run, "movielense", 32, serve.DefaultConfig())
	code, got := post(t, ts.Client(), ts.URL, instancesBody(t,
		map[string]any{"ratings": mine, "top": 5},
		map[string]any{"ratings": mine},
		map[string]any{"ratings": mine, "top": 0}))
	if code != http.StatusOK || len(got.Predictions) != 3 {
		t.Fatalf("%d, %+v", code, got)
	}
	for i, n := range []int{5, 10, 1661} {
		p := got.Predictions[i]
		var items []string
		var ratings []float32
		for _, it := range p.Items {
			items, ratings = append(items, it.Item), append(ratings, it.Rating)
		}
		if !slices.Equal(items, want.Items[:n]) || !slices.Equal(ratings, want.Outputs[:n]) || p.Rated == nil || *p.Rated != 3 || p.Fallbacks == nil || *p.Fallbacks != want.Fallbacks {
			t.Errorf("instance %d: %d items %v; predict's first %d: %v %v", i, len(items), p.Items[:min(3, len(p.Items))], n, want.Items[:3], want.Outputs[:3])
		}
	}

	for _, c := range []struct {
		name, body string
		field, msg string
	}{
		{"unknown item", `{"instances": [{"ratings": {"Star Wars": 5}}]}`, "instances[0].ratings", `instances[0].ratings: item "Star Wars" is not an item of the dataset (did you mean "Star Wars (1977)"?)`},
		{"off the scale", `{"instances": [{"ratings": {"Fargo (1996)": 6}}]}`, "instances[0].ratings", `instances[0].ratings: rating 6 of item "Fargo (1996)" is outside the scale [1, 5]`},
		{"not a number", `{"instances": [{"ratings": {"Star Wars (1977)": 5}}, {"ratings": {"Fargo (1996)": "5"}}]}`, `instances[1].ratings["Fargo (1996)"]`, `instances[1].ratings["Fargo (1996)"]: want a number, got "5"`},
		{"no ratings", `{"instances": [{"ratings": {}}]}`, "instances[0].ratings", "instances[0].ratings: no ratings"},
		{"negative top", `{"instances": [{"ratings": {"Fargo (1996)": 4}, "top": -1}]}`, "instances[0].top", "instances[0].top: -1: want 0 (all items) or more"},
		{"top not an integer", `{"instances": [{"ratings": {"Fargo (1996)": 4}, "top": 1.5}]}`, "instances[0].top", "instances[0].top: want an integer, got a JSON number 1.5"},
		{"text", `{"instances": [{"text": "Fargo"}]}`, "instances[0]", `instances[0]: this model (movielense_mf) takes a user's ratings ("ratings": {item: rating}, and "top": N), not text`},
	} {
		code, got := post(t, ts.Client(), ts.URL, []byte(c.body))
		if code != http.StatusBadRequest || got.Field != c.field || !strings.HasPrefix(got.Error, c.msg) {
			t.Errorf("%s: %d field %q %q; want 400 field %q %q", c.name, code, got.Field, got.Error, c.field, c.msg)
		}
	}
	var info struct {
		Input struct {
			Kind  string
			Items int
			Scale []float32
		}
		Output struct {
			Kind string
			Top  int
		}
	}
	getJSON(t, ts.URL+"/v1/model", &info)
	if info.Input.Kind != "ratings" || info.Input.Items != 1664 || !slices.Equal(info.Input.Scale, []float32{1, 5}) || info.Output.Kind != "items" || info.Output.Top != 10 {
		t.Errorf("/v1/model: %+v", info)
	}
}
