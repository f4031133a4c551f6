package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/spec"
)

// memLoader gives a dataset loaded once, as its loader gave it: the raw
// examples that the test feeds ONNX Runtime are then the very ones the run
// trained and predicted on, and the slow loaders (the IMDB archive) read
// their files once.
type memLoader struct {
	loaders.Loader
	ds *data.Dataset
}

func (l *memLoader) Load(string) (*data.Dataset, error) {
	c := *l.ds // the transforms replace the splits, never their contents
	return &c, nil
}

// predictions are the rows of a run's predictions.arrow.
type predictions struct {
	prediction    []float32
	probabilities [][]float32
	classNames    []string
}

func readPredictions(t *testing.T, path string) predictions {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewFileReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var p predictions
	for i := range r.NumRecords() {
		rec, err := r.RecordBatch(i)
		if err != nil {
			t.Fatal(err)
		}
		s := rec.Schema()
		for c, f := range s.Fields() {
			switch f.Name {
			case "prediction":
				p.prediction = append(p.prediction, rec.Column(c).(*array.Float32).Float32Values()...)
			case "probabilities":
				col := rec.Column(c).(*array.FixedSizeList)
				vals := col.ListValues().(*array.Float32).Float32Values()
				k := len(vals) / col.Len()
				for row := range col.Len() {
					p.probabilities = append(p.probabilities, vals[row*k:(row+1)*k])
				}
				if v, ok := f.Metadata.GetValue("pipe.class_names"); ok {
					json.Unmarshal([]byte(v), &p.classNames)
				}
			}
		}
	}
	return p
}

// courseCases are the course models, the recurrent ones of the sequence
// specs (GRU, bidirectional LSTM, the IRNN's relu simple_rnn), the
// transformer (attention, layer normalisation, residual adds) and two graph
// models with batch normalisation (ResNet-20's residual adds, VGG's
// normalised stages), trained briefly on subsets.
var courseCases = []struct {
	spec      string
	overrides []string
}{
	{"mnist_cnn.yaml", []string{"data.train_limit=512", "data.test_limit=256"}},
	{"cifar10_cnn.yaml", []string{"data.train_limit=512", "data.test_limit=256"}},
	{"imdb_lstm.yaml", []string{"data.train_limit=256", "data.test_limit=128"}},
	{"cf/movielense_i_autorec.yaml", nil},
	{"imdb_gru.yaml", []string{"data.train_limit=256", "data.test_limit=128"}},
	{"imdb_bidirectional_lstm.yaml", []string{"data.train_limit=256", "data.test_limit=128"}},
	{"mnist_irnn.yaml", []string{"data.train_limit=256", "data.test_limit=128"}},
	{"imdb_transformer.yaml", []string{"data.train_limit=256", "data.test_limit=128"}},
	// Momentum 0.1 makes the moving statistics those of the last batches:
	// with Keras' 0.99 a few steps leave them near their start, and the
	// network's outputs saturate (the same probabilities, 0 and 1, for
	// every example, which would hide a wrong graph).
	{"cifar10_resnet20.yaml", []string{"data.train_limit=128", "data.test_limit=64",
		"model.layers[1]=" + fastBN, "model.blocks.residual.layers[1]=" + fastBN, "model.blocks.residual.layers[4]=" + fastBN,
		"model.blocks.downsample.layers[1]=" + fastBN, "model.blocks.downsample.layers[4]=" + fastBN}},
	{"cifar10_vgg_bn.yaml", []string{"data.train_limit=128", "data.test_limit=64",
		"model.blocks.stage.layers[1]=" + fastBN, "model.blocks.stage.layers[4]=" + fastBN, "model.layers[5]=" + fastBN}},
}

const fastBN = "{batch_normalization: {momentum: 0.1}}"

// TestExportCourseModels trains each course model for one epoch on a subset,
// exports its run and checks that ONNX Runtime, given the raw test
// inputs, gives predictions.arrow's probabilities to 1e-4 and the same
// predicted class for every example.
func TestExportCourseModels(t *testing.T) {
	ort := newORT(t)
	for _, c := range courseCases {
		t.Run(c.spec, func(t *testing.T) {
			plan, err := pipeline.Load(filepath.Join("../specs", c.spec), append(c.overrides, "train.epochs=1")...)
			if err != nil {
				t.Fatal(err)
			}
			dataDir := testdata.Dir(t, plan.Loader.(loaders.Sourced).Folder())
			raw, err := plan.Loader.Load(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			plan.Loader = &memLoader{Loader: plan.Loader, ds: raw}
			res, err := pipeline.Run(plan, pipeline.Options{DataDir: dataDir, RunsDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			res.Close()
			checkRun(t, ort, res.Dir, dataDir, raw)
		})
	}
}

// shortRun loads a shipped spec with sets and runs it, returning its plan
// and run directory.
func shortRun(t *testing.T, file, dataDir string, sets ...string) (*pipeline.Plan, string) {
	t.Helper()
	plan, err := pipeline.Load(filepath.Join("../specs", file), sets...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Run(plan, pipeline.Options{DataDir: dataDir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	return plan, res.Dir
}

// TestExportTwoInputs exports short runs of NeuMF and the Keras CF model,
// graphs of two inputs (the user and item columns of the examples; Keras
// CF's dot), and checks ONNX Runtime's ratings of the test pairs against
// predictions.arrow, and the metadata's ids of the dense indices.
func TestExportTwoInputs(t *testing.T) {
	ort := newORT(t)
	dataDir := testdata.Dir(t, "movielense")
	for _, name := range []string{"movielense_neumf", "movielense_keras_cf"} {
		t.Run(name, func(t *testing.T) {
			plan, dir := shortRun(t, "cf/"+name+".yaml", dataDir, "data.train_limit=20000", "data.test_limit=2000", "train.epochs=1")
			if len(plan.Inputs) != 2 {
				t.Fatalf("%d inputs; the test needs two", len(plan.Inputs))
			}
			m := checkRun(t, ort, dir, dataDir, nil)
			ds, closer, err := plan.Data(dataDir, "")
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			for key, want := range map[string][]string{"pipe.user_ids": ds.Ratings.Users, "pipe.item_ids": ds.Ratings.Items} {
				var ids []string
				if err := json.Unmarshal([]byte(Metadata(m)[key]), &ids); err != nil || len(want) == 0 || !slices.Equal(ids, want) {
					t.Errorf("%s: %v, %d ids for %d", key, err, len(ids), len(want))
				}
			}
		})
	}
}

// TestExportDenoisingAutoencoder exports a short run of the Keras MNIST
// denoising autoencoder (reshape, conv2d_transpose; a noise transform and
// the clean target that the graph leaves out, as pipe predict does) and
// checks ONNX Runtime's reconstructions of raw test images against pipe's
// predictor on the same pixels.
func TestExportDenoisingAutoencoder(t *testing.T) {
	ort := newORT(t)
	dataDir := testdata.Dir(t, "mnist")
	plan, dir := shortRun(t, "mnist_denoising_autoencoder.yaml", dataDir, "data.train_limit=256", "data.test_limit=16", "train.epochs=1")
	m, err := ExportRun(dir, Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := plan.Loader.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	x := raw.Test.X.Slice(0, n)
	pr, err := pipeline.NewPredictor(dir, pipeline.Options{DataDir: dataDir}, n)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var examples []data.Array
	for i := range n {
		var px []float64
		for _, v := range x.Slice(i, i+1).Bytes {
			px = append(px, float64(v))
		}
		e, err := pr.FromPixels("x", px)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, e)
	}
	want, err := pr.Predict(examples)
	if err != nil {
		t.Fatal(err)
	}
	got := rows(ort.run(t, m, feeds(x))[0][outputName])
	if len(got) != n {
		t.Fatalf("ONNX Runtime gave %d rows for %d images", len(got), n)
	}
	var worst float64
	for i := range got {
		worst = max(worst, maxDiff(t, got[i], want[i]))
	}
	t.Logf("%d reconstructions of %d values, largest difference %.2g (%s)", n, len(want[0]), worst, Signature(m))
	if worst > 1e-5 {
		t.Errorf("ONNX Runtime and pipe's reconstructions differ by %g (more than 1e-5)", worst)
	}
}

// TestExportGLocalK exports a short GLocal-K run (kernel_dense, the global
// kernel convolution, shared layers, two outputs) and checks ONNX
// Runtime's y_glocal on the training rating matrix against
// predictions.arrow's reconstruction, and y_pretrained's shape.
func TestExportGLocalK(t *testing.T) {
	ort := newORT(t)
	dataDir := testdata.Dir(t, "ml-100k")
	plan, dir := shortRun(t, "cf/ml100k_glocal_k.yaml", dataDir, "train.phases=[{epochs: 2, outputs: [pretrained]}, {epochs: 2, outputs: [glocal]}]")
	m, err := ExportRun(dir, Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := plan.Loader.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaders.Apply(plan.Steps, raw); err != nil { // the graph takes rating_matrix's matrix
		t.Fatal(err)
	}
	want := readPredictions(t, filepath.Join(dir, rundir.PredictionsFile)).probabilities
	out := ort.run(t, m, feeds(raw.Test.X))[0]
	got, pre := out["y_glocal"], out["y_pretrained"]
	if len(want) != 1 || !slices.Equal(got.Dims, []int{1, 1682, 943}) || !slices.Equal(pre.Dims, got.Dims) {
		t.Fatalf("outputs %v and %v, %d predictions; want one matrix 1682 x 943 each", got.Dims, pre.Dims, len(want))
	}
	d := maxDiff(t, got.Data, want[0])
	lo, hi := slices.Min(want[0]), slices.Max(want[0])
	t.Logf("GLocal-K: %d ratings in [%.2f, %.2f], largest difference from predictions.arrow %.2g (%s)", len(got.Data), lo, hi, d, Signature(m))
	if hi-lo < 0.5 {
		t.Errorf("the reconstruction's ratings lie in [%g, %g]: too short a run to check the graph", lo, hi)
	}
	if d > 1e-4 {
		t.Errorf("ONNX Runtime differs from predictions.arrow by %g, more than 1e-4", d)
	}
}

// TestExportMatrixFactorization exports a short matrix factorisation run and
// checks ONNX Runtime's ratings on the test pairs, fallbacks included,
// against predictions.arrow.
func TestExportMatrixFactorization(t *testing.T) {
	ort := newORT(t)
	dataDir := testdata.Dir(t, "movielense")
	plan, err := pipeline.Load("../specs/cf/movielense_mf.yaml", "data.train_limit=10000", "data.test_limit=3000", "model.epochs=2")
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Run(plan, pipeline.Options{DataDir: dataDir, RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	if res.Fallbacks == 0 {
		t.Fatal("no test pair needed a fallback: the test would not cover them")
	}
	m := checkRun(t, ort, res.Dir, dataDir, nil)
	ds, closer, err := plan.Data(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	var ids []string
	if err := json.Unmarshal([]byte(Metadata(m)["pipe.user_ids"]), &ids); err != nil || !slices.Equal(ids, ds.Ratings.Users) {
		t.Errorf("pipe.user_ids: %v, %d ids for %d users", err, len(ids), len(ds.Ratings.Users))
	}
}

// TestExportRunDir checks the export of a run of one's own, named by
// PIPE_ONNX_CHECK_RUN, on its whole test split (skipped when unset):
//
//	PIPE_ONNX_CHECK_RUN=runs/mnist_cnn/<timestamp> go test ./onnx -run TestExportRunDir -v
func TestExportRunDir(t *testing.T) {
	dir := os.Getenv("PIPE_ONNX_CHECK_RUN")
	if dir == "" {
		t.Skip("PIPE_ONNX_CHECK_RUN is not set")
	}
	ort := newORT(t)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // a path from the module root, as the README gives it
	}
	_, plan, err := pipeline.OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, ort, dir, testdata.Dir(t, plan.Loader.(loaders.Sourced).Folder()), nil)
}

// checkRun exports the run in dir and compares ONNX Runtime's outputs on
// the raw test inputs (raw: the loader's dataset, loaded from dataDir when
// nil) with the run's predictions.arrow: to 1e-4, and the same predicted
// class for every example of a classifier. It returns the model.
func checkRun(t *testing.T, ort *ortRunner, dir, dataDir string, raw *data.Dataset) *onnxpb.ModelProto {
	t.Helper()
	_, plan, err := pipeline.OpenRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ExportRun(dir, Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	want := readPredictions(t, filepath.Join(dir, rundir.PredictionsFile))
	n := len(want.prediction)
	if n == 0 {
		t.Fatal("predictions.arrow has no rows")
	}
	if plan.Recommender != nil {
		checkRatings(t, ort, m, plan, dataDir, want.prediction)
		return m
	}
	regression := len(want.probabilities) == 0 // one value per example, as NeuMF's rating
	if !regression && len(want.probabilities) != n {
		t.Fatalf("predictions.arrow has %d predictions and %d rows of probabilities", n, len(want.probabilities))
	}
	if got := Metadata(m)["pipe.class_names"]; len(want.classNames) > 0 && got != jsonList(want.classNames) {
		t.Errorf("metadata pipe.class_names %s, want %s", got, jsonList(want.classNames))
	}
	if raw == nil {
		if raw, err = plan.Loader.Load(dataDir); err != nil {
			t.Fatal(err)
		}
	}
	x := raw.Test.X
	if plan.RatingData() { // AutoRec: the graph takes rating_matrix's vectors
		c := *raw
		if err := loaders.Apply(plan.Steps, &c); err != nil {
			t.Fatal(err)
		}
		x = c.Test.X
	}
	x = x.Slice(0, n)
	var runs []map[string]ortFeed
	if x.Ragged() {
		runs = feeds(x)
		// Also (the first 256 of) the subset as one batch, padded at the
		// front with 0 to its longest sequence, as the README says a
		// caller pads one.
		runs = append(runs, frontPadded(x.Slice(0, min(n, 256)))...)
	} else {
		for from := 0; from < n; from += 500 { // batches of 500 keep the runtime's tensors small
			runs = append(runs, feeds(x.Slice(from, min(from+500, n)))...)
		}
	}
	outs := ort.run(t, m, runs)
	var got [][]float64 // one row per example
	for _, o := range outs[:len(outs)-btoi(x.Ragged())] {
		got = append(got, rows(o[outputName])...)
	}
	if x.Ragged() {
		batch := rows(outs[len(outs)-1][outputName])
		if d := rowsDiff(batch, got[:len(batch)]); d > 1e-5 {
			t.Errorf("the front-padded batch differs from the single sequences by %g", d)
		}
	}
	if len(got) != n {
		t.Fatalf("ONNX Runtime gave %d rows for %d examples", len(got), n)
	}
	var worst float64
	if regression {
		for i, row := range got {
			if len(row) != 1 {
				t.Fatalf("example %d: ONNX Runtime gave %d values, predictions.arrow one", i, len(row))
			}
			worst = max(worst, abs(row[0]-float64(want.prediction[i])))
		}
		t.Logf("%s: %d examples, largest difference from predictions.arrow %.2g (%s)", plan.Name, n, worst, Signature(m))
		if worst > 1e-4 {
			t.Errorf("ONNX Runtime differs from predictions.arrow by %g, more than 1e-4", worst)
		}
		return m
	}
	for i, row := range got {
		probs, class := row, argmax64(row)
		if len(row) == 1 { // one sigmoid: predictions.arrow has [1-p, p]
			probs, class = []float64{1 - row[0], row[0]}, btoi(row[0] >= 0.5)
		}
		worst = max(worst, maxDiff(t, probs, want.probabilities[i]))
		if float32(class) != want.prediction[i] {
			t.Errorf("example %d: ONNX Runtime predicts %d, pipe %v", i, class, want.prediction[i])
		}
	}
	t.Logf("%s: %d examples, largest difference from predictions.arrow %.2g (%s)", plan.Name, n, worst, Signature(m))
	if worst > 1e-4 {
		t.Errorf("ONNX Runtime differs from predictions.arrow by %g, more than 1e-4", worst)
	}
	if s := spread(want.probabilities); s < 1e-3 {
		t.Errorf("pipe's probabilities differ between examples by at most %g: saturated outputs would hide a wrong graph", s)
	}
	return m
}

// checkRatings compares a rating model's ONNX ratings of the test pairs
// with predictions.arrow's.
func checkRatings(t *testing.T, ort *ortRunner, m *onnxpb.ModelProto, plan *pipeline.Plan, dataDir string, want []float32) {
	t.Helper()
	ds, closer, err := plan.Data(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	pairs := ds.Test.X.Int
	n := len(pairs) / 2
	users, items := make([]int32, n), make([]int32, n)
	for k := range n {
		users[k], items[k] = pairs[2*k], pairs[2*k+1]
	}
	out := ort.run(t, m, []map[string]ortFeed{{"user": intFeed(users, n), "item": intFeed(items, n)}})
	d := maxDiff(t, out[0]["rating"].Data, want)
	t.Logf("%s: %d test ratings: largest difference %.2g (%s)", plan.Name, n, d, Signature(m))
	if d > 1e-4 {
		t.Errorf("ONNX Runtime's ratings differ from predictions.arrow by %g, more than 1e-4", d)
	}
}

// TestExportRefusedRatingModels: user_knn and rbm_cf runs say they cannot
// be exported, at model.name, before reading any data.
func TestExportRefusedRatingModels(t *testing.T) {
	for _, name := range []string{"movielense_knn", "movielense_rbm_user"} {
		src, err := os.ReadFile(filepath.Join("../specs/cf", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir() // a run directory needs only its spec to be opened
		if err := os.WriteFile(filepath.Join(dir, rundir.SpecFile), src, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ExportRun(dir, Options{DataDir: filepath.Join(dir, "no data")})
		var u *UnsupportedError
		var se *spec.Error
		if m != nil || !errors.As(err, &u) || !errors.As(err, &se) || !strings.Contains(err.Error(), "model.name") || !strings.Contains(err.Error(), "cannot be exported to ONNX") {
			t.Errorf("%s: got %v, want a positioned UnsupportedError", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// rows splits an output [N, ...] into one row per example.
func rows(o ortOutput) [][]float64 {
	n := o.Dims[0]
	w := len(o.Data) / max(n, 1)
	out := make([][]float64, n)
	for i := range out {
		out[i] = o.Data[i*w : (i+1)*w]
	}
	return out
}

func rowsDiff(a, b [][]float64) float64 {
	if len(a) != len(b) {
		return float64(len(a) - len(b))
	}
	var d float64
	for i := range a {
		for j := range a[i] {
			d = max(d, abs(a[i][j]-b[i][j]))
		}
	}
	return d
}

func abs(x float64) float64 { return max(x, -x) }

// spread is the largest difference of one column of rows between two rows.
func spread(rows [][]float32) float64 {
	var s float64
	for c := range rows[0] {
		lo, hi := rows[0][c], rows[0][c]
		for _, r := range rows {
			lo, hi = min(lo, r[c]), max(hi, r[c])
		}
		s = max(s, float64(hi-lo))
	}
	return s
}

// frontPadded is a ragged column as one batch, each sequence padded at the
// front with 0 to the longest.
func frontPadded(a data.Array) []map[string]ortFeed {
	longest := 0
	for i := range a.Len() {
		longest = max(longest, a.Offsets[i+1]-a.Offsets[i])
	}
	batch := make([]int32, a.Len()*longest)
	for i := range a.Len() {
		seq := a.Int[a.Offsets[i]:a.Offsets[i+1]]
		copy(batch[(i+1)*longest-len(seq):], seq)
	}
	return []map[string]ortFeed{{inputName: intFeed(batch, a.Len(), longest)}}
}

func argmax64(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
