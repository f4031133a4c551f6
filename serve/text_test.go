package serve_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/serve"
)

// TestServeIMDB: reviews sent as text get the sentiment `pipe predict`
// gives for the same text in a file, to the bit with a model call each
// and within batchTolerance in one call; an image is refused.
func TestServeIMDB(t *testing.T) {
	run := trained(t, "imdb", "imdb", "../specs/imdb_lstm.yaml", "data.train_limit=128", "data.test_limit=64", "train.epochs=1")
	reviews := []string{
		"A wonderful film: brilliant acting, and a story I loved.<br /><br />See it.",
		"Dull, slow and far too long. The worst thing I have seen this year.",
		"Ángela's café scene — unforgettable!",
	}
	var paths []string
	for i, r := range reviews {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("review%d.txt", i))
		if err := os.WriteFile(path, []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	_, want, err := pipeline.PredictRun(run, paths, nil, pipeline.Options{DataDir: testdata.Dir(t, "imdb")})
	if err != nil {
		t.Fatal(err)
	}
	var instances []any
	for _, r := range reviews {
		instances = append(instances, map[string]any{"text": r})
	}
	for _, maxBatch := range []int{1, 32} {
		ts, pred := startServer(t, run, "imdb", maxBatch, serve.DefaultConfig())
		code, got := post(t, ts.Client(), ts.URL, instancesBody(t, instances...))
		if code != http.StatusOK || len(got.Predictions) != len(reviews) {
			t.Fatalf("max batch %d: %d, %+v", maxBatch, code, got)
		}
		for i, p := range got.Predictions {
			w := want[i].Outputs[0]
			wantClass, wantName := 0, "neg"
			if w >= 0.5 {
				wantClass, wantName = 1, "pos"
			}
			if p.Value == nil {
				t.Fatalf("max batch %d: review %d: no value in %+v", maxBatch, i, p)
			}
			d := maxDiff([]float32{*p.Value}, []float32{w})
			if (maxBatch == 1 && d != 0) || d > batchTolerance || p.Class == nil || *p.Class != wantClass || p.ClassName != wantName || p.Probabilities != nil {
				t.Errorf("max batch %d: review %d: %+v; predict gives %v", maxBatch, i, p, w)
			}
		}
		if calls, _ := pred.Stats(); (maxBatch == 1 && calls != 3) || (maxBatch == 32 && calls != 1) {
			t.Errorf("max batch %d: %d model calls for 3 reviews", maxBatch, calls)
		}
		if maxBatch == 1 {
			continue
		}
		code, got = post(t, ts.Client(), ts.URL, instancesBody(t, map[string]any{"text": "fine"}, map[string]any{"pixels": []float64{1, 2}}))
		if code != http.StatusBadRequest || got.Field != "instances[1]" || got.Error != `instances[1]: this model (imdb_lstm) takes a text ("text": the review), not pixels` {
			t.Errorf("pixels to a text model: %d %q %q", code, got.Field, got.Error)
		}
		var info struct {
			Input  struct{ Kind string }
			Output struct {
				Kind    string
				Classes []string
			}
		}
		getJSON(t, ts.URL+"/v1/model", &info)
		if info.Input.Kind != "text" || info.Output.Kind != "value" || len(info.Output.Classes) != 2 {
			t.Errorf("/v1/model: %+v", info)
		}
	}
}
