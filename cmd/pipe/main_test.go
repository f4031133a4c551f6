package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// pipeCmd runs the CLI in-process and returns its exit code and output.
func pipeCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// pipeCmdIn runs the CLI in-process with stdin as its standard input.
func pipeCmdIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runWith(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestBadSpecs checks that each malformed spec in testdata/bad is rejected
// with the spec exit code and a message naming file:line:col, the field
// path and what is wrong; and that no Go panic or stack trace leaks out.
func TestBadSpecs(t *testing.T) {
	cases := []struct {
		file string
		want []string // each a line (or part of one) of stderr
	}{
		{"invalid_yaml", []string{"invalid_yaml.yaml:4:4: invalid YAML: this line is indented deeper than the key above it", "   ^"}},
		{"empty", []string{"empty.yaml: the spec is empty"}},
		{"unknown_layer", []string{`unknown_layer.yaml:11:7: model.layers[0]: unknown layer "conv3d" (did you mean "conv1d" or "conv2d"?)`}},
		{"misspelled_key", []string{`misspelled_key.yaml:11:16: model.layers[0].filtrs: unknown field "filtrs" for layer conv2d (did you mean "filters"?)`}},
		{"wrong_type", []string{`wrong_type.yaml:14:22: model.layers[3].units: want an integer, got the string "ten"`}},
		{"negative_units", []string{"negative_units.yaml:14:22: model.layers[3].units: must be at least 1, got -5"}},
		{"unknown_loader", []string{`unknown_loader.yaml:3:11: data.loader: unknown loader "mnits" (did you mean "mnist"?)`}},
		{"dense_without_flatten", []string{"dense_without_flatten.yaml:13:7: model.layers[2]: layer dense on input shape (None, 12, 12, 3): dense needs a flat input", "add a flatten layer"}},
		{"pool_too_large", []string{"pool_too_large.yaml:12:7: model.layers[1]: layer max_pool2d on input shape (None, 24, 24, 3): pool 64 is larger than the 24x24 input"}},
		{"missing_train", []string{"missing_train.yaml:1:1: train.loss: a layer stack needs train.loss", "missing_train.yaml:1:1: train.optimizer: a layer stack needs train.optimizer"}},
		{"input_mismatch", []string{"input_mismatch.yaml:9:18: model.input.shape: the data gives examples of shape [28 28 1] after the transforms, the model expects [32 32 3]"}},
		{"bad_activation", []string{`bad_activation.yaml:11:51: model.layers[0].activation: "relux" is not supported (did you mean "relu" or "relu6"?)`}},
		{"unknown_top_key", []string{`unknown_top_key.yaml:20:1: epocs: unknown field "epocs"`}},
		{"loss_needs_one_hot", []string{"loss_needs_one_hot.yaml:15:9: train.loss: categorical_crossentropy: needs one-hot float labels", "add a one_hot transform"}},
		{"bad_validation", []string{"bad_validation.yaml:19:15: train.validation: want test, none or a fraction between 0 and 1, got 1.5"}},
		{"duplicate_key", []string{`duplicate_key.yaml:19:3: train.batch_size: duplicate key "batch_size"`}},
		{"two_documents", []string{"two_documents.yaml:20:1: a spec holds one YAML document"}},
		{"unknown_optimizer", []string{`unknown_optimizer.yaml:17:21: train.optimizer: unknown optimizer "adamm" (did you mean "adam"?)`}},
		{"several_errors", []string{ // every error of a spec, in file order
			`several_errors.yaml:12:29: model.layers[1].size: unknown field "size" for layer max_pool2d`,
			"several_errors.yaml:14:22: model.layers[3].units: must be at least 1, got 0"}},
		{"float_for_int", []string{"float_for_int.yaml:18:15: train.batch_size: want an integer, got 2.5"}},
		{"bad_kernel", []string{"bad_kernel.yaml:11:36: model.layers[0].kernel: want a positive integer or a list of two"}},
		{"scale_by_zero", []string{"scale_by_zero.yaml:5:7: data.transforms[0]: scale on x uint8[28 28]: divide must not be 0"}},
		{"huge_dense", []string{"huge_dense.yaml:14:7: model.layers[3]: training needs at least", "layer dense alone has 433,000,000,000 parameters"}},
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(cases) {
		t.Errorf("testdata/bad has %d specs, the table %d: every bad spec needs its expected message", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", c.file+".yaml")
			for _, cmd := range []string{"validate", "summary", "run"} {
				code, _, stderr := pipeCmd(t, cmd, path)
				if code != exitSpec {
					t.Errorf("pipe %s: exit code %d, want %d (spec error); stderr:\n%s", cmd, code, exitSpec, stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, filepath.Join("testdata", "bad", w)) && !strings.Contains(stderr, w) {
						t.Errorf("pipe %s: stderr lacks %q; got:\n%s", cmd, w, stderr)
					}
				}
				if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
					t.Errorf("pipe %s: a panic reached the user:\n%s", cmd, stderr)
				}
			}
		})
	}
}

func TestMissingSpecFile(t *testing.T) {
	code, _, stderr := pipeCmd(t, "validate", "no/such/spec.yaml")
	if code != exitSpec || !strings.Contains(stderr, "no/such/spec.yaml: no such spec file") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestMissingDataDir(t *testing.T) {
	runs := t.TempDir()
	code, _, stderr := pipeCmd(t, "run", "--data-dir", filepath.Join(t.TempDir(), "nowhere"), "--runs-dir", runs, "testdata/good.yaml")
	if code != exitData {
		t.Errorf("exit code %d, want %d (data error); stderr: %s", code, exitData, stderr)
	}
	if !strings.Contains(stderr, "testdata/good.yaml") || !strings.Contains(stderr, "mnist data directory not found") || !strings.Contains(stderr, "PIPE_DATA") {
		t.Errorf("stderr should name the spec, the missing directory and how to set it: %s", stderr)
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Errorf("a failed run left files in the runs directory: %v", entries)
	}
}

func TestUsageErrors(t *testing.T) {
	if code, _, _ := pipeCmd(t, "run"); code != exitUsage {
		t.Errorf("run without spec: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := pipeCmd(t, "summary", "--no-such-flag", "x.yaml"); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, exitUsage)
	}
	if code, _, stderr := pipeCmd(t, "run", "--backend", "xla:cuda", "testdata/good.yaml"); code != exitRuntime || !strings.Contains(stderr, "-tags xla") {
		t.Errorf("missing xla backend: exit %d, stderr %q", code, stderr)
	}
}

// TestSummaryCourseModel checks the course CNN's table: the per-layer
// parameters Keras reports for it, and the total.
func TestSummaryCourseModel(t *testing.T) {
	code, out, stderr := pipeCmd(t, "summary", "../../specs/mnist_cnn.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := []string{
		"conv2d (conv2d)             (None, 24, 24, 3)         78",
		"conv2d_1 (conv2d)           (None, 20, 20, 3)         228",
		"max_pool2d (max_pool2d)     (None, 10, 10, 3)         0",
		"dropout (dropout)           (None, 10, 10, 3)         0",
		"flatten (flatten)           (None, 300)               0",
		"dense (dense)               (None, 128)               38,528",
		"dropout_1 (dropout)         (None, 128)               0",
		"dense_1 (dense)             (None, 10)                1,290",
		"Total params: 40,124",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
}

// TestBadData runs specs on corrupt or malformed data files (badData): each
// is a data error (exit 4) naming the file, and where it applies the line,
// and what is wrong; nothing is written.
func TestBadData(t *testing.T) {
	cases := []struct{ dir, spec, want string }{
		{"mnist_truncated", "testdata/good.yaml", "mnist/train-images-idx3-ubyte: truncated: header promises 47040000 bytes of data for [60000 28 28], file has 100"},
		{"mnist_bad_magic", "testdata/good.yaml", "mnist/train-images-idx3-ubyte: not an unsigned-byte IDX file of rank 3 (magic 00000903)"},
		{"mnist_missing_labels", "testdata/good.yaml", "mnist/train-labels-idx1-ubyte: file not found"},
		{"mnist_not_gzip", "testdata/good.yaml", "mnist/train-images-idx3-ubyte.gz: not a gzip file"},
		{"mnist_bad_label", "testdata/good.yaml", "mnist/train-labels-idx1-ubyte: label 200 of example 1 is not a digit"},
		{"cifar_wrong_size", "../../specs/cifar10_cnn.yaml", "data_batch_1.bin"},
		{"imdb_not_gzip", "testdata/imdb.yaml", "imdb/aclImdb_v1.tar.gz: not a gzip file"},
		{"jester_bad_header", "../../specs/cf/jester5k_knn.yaml", `jester5k/ratings.csv:1: header is ["a" "b" "c"], want user,item,rating`},
		{"jester_bad_rating", "../../specs/cf/jester5k_knn.yaml", `jester5k/ratings.csv:3: rating "abc" is not a finite number`},
		{"jester_out_of_scale", "../../specs/cf/jester5k_knn.yaml", "jester5k/ratings.csv:3: rating 42 is outside the scale [-10, 10]"},
		{"movielense_duplicate", "../../specs/cf/movielense_knn.yaml", `movielense/ratings.csv:3: duplicate rating of item "Toy Story (1995)" by user "1" (first on line 2)`},
		{"ml100k_bad_fields", "testdata/ml100k.yaml", "ml-100k/u.data:2: 3 tab-separated fields, want 4"},
	}
	if len(cases) != len(badData()) {
		t.Errorf("%d bad data folders, %d cases: each needs its expected message", len(badData()), len(cases))
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			runs := t.TempDir()
			code, _, stderr := pipeCmd(t, "run", "--no-cache", "--runs-dir", runs, "--data-dir", writeBadData(t, c.dir), c.spec)
			if code != exitData {
				t.Errorf("exit code %d, want %d (data error); stderr: %s", code, exitData, stderr)
			}
			if !strings.Contains(stderr, c.want) || !strings.Contains(stderr, c.spec) {
				t.Errorf("stderr should name the spec and contain %q; got %s", c.want, stderr)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("a panic reached the user: %s", stderr)
			}
			if entries, _ := os.ReadDir(runs); len(entries) != 0 {
				t.Errorf("a failed run wrote %v", entries)
			}
		})
	}
}

// TestEvaluateRun: `pipe evaluate RUN_DIR` measures the saved model and
// finds the test metrics the run reported.
func TestEvaluateRun(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	dir, out := trainedRun(t, data, "testdata/good.yaml", "--set", "data.train_limit=300", "--set", "data.test_limit=200")
	code, again, stderr := pipeCmd(t, "evaluate", "--no-cache", "--data-dir", data, dir)
	if code != 0 {
		t.Fatal(stderr)
	}
	if want := strings.SplitN(out, " (", 2)[0]; strings.TrimSpace(again) != want {
		t.Errorf("evaluate: %q, the run said %q", again, want)
	}
	if code, _, stderr := pipeCmd(t, "evaluate", t.TempDir()); code != exitUsage || !strings.Contains(stderr, "is not a run directory") {
		t.Errorf("evaluate of a folder that is no run: exit %d, %s", code, stderr)
	}
}

// TestPredict trains briefly, then predicts PNG digits written from the
// MNIST test set: a class for each; a wrong-size image is a data error.
func TestPredict(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	dir, _ := trainedRun(t, data, "testdata/good.yaml", "--set", "data.train_limit=2000", "--set", "data.test_limit=100", "--set", "train.epochs=2")
	ds, err := (&loaders.MNIST{}).Load(data)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(img.Pix, ds.Test.X.Bytes[:784])
	digit := filepath.Join(t.TempDir(), "seven.png")
	f, _ := os.Create(digit)
	png.Encode(f, img)
	f.Close()
	code, out, stderr := pipeCmd(t, "predict", dir, digit)
	// The first test digit is a 7, which two epochs on 2,000 digits learn;
	// then the next two classes, by MNIST's names (the digits), less probable.
	m := regexp.MustCompile(`^.*seven\.png: 7 \((\d\.\d{4})\); then ([0-9]) \((\d\.\d{4})\), ([0-9]) \((\d\.\d{4})\)\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] < m[3] || m[3] < m[5] || m[2] == "7" || m[4] == "7" || m[2] == m[4] {
		t.Fatalf("predict: exit %d, %q %s; want 7, then two other digits, less probable", code, out, stderr)
	}
	if code, one, _ := pipeCmd(t, "predict", "--top", "1", dir, digit); code != 0 || !strings.HasSuffix(one, "seven.png: 7 ("+m[1]+")\n") {
		t.Errorf("predict --top 1: exit %d, %q", code, one)
	}
	// The same image on stdin (-) gets the same answer.
	png7, _ := os.ReadFile(digit)
	code, fromStdin, stderr := pipeCmdIn(t, string(png7), "predict", dir, "-")
	if code != 0 || fromStdin != strings.Replace(out, digit, "stdin", 1) {
		t.Errorf("predict -: exit %d, %q %s; from the file: %q", code, fromStdin, stderr, out)
	}
	small := filepath.Join(t.TempDir(), "small.png")
	f, _ = os.Create(small)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 8, 8)))
	f.Close()
	if code, _, stderr := pipeCmd(t, "predict", "-o", t.TempDir(), dir, digit); code != exitUsage || !strings.Contains(stderr, "-o is for runs that reconstruct images") {
		t.Errorf("-o for a classifier: exit %d, %s", code, stderr)
	}
	if code, _, stderr := pipeCmd(t, "predict", dir, small); code != exitData || !strings.Contains(stderr, "image is 8x8, the model takes 28x28") {
		t.Errorf("a wrong-size image: exit %d, %s", code, stderr)
	}
}

// TestPredictReview runs the IMDB model briefly, then predicts a review
// from a text file: one sentiment probability.
func TestPredictReview(t *testing.T) {
	data := testdata.Dir(t, "imdb")
	dir, _ := trainedRun(t, data, "../../specs/imdb_lstm.yaml", "--set", "data.train_limit=128", "--set", "data.test_limit=64", "--set", "train.epochs=1")
	review := filepath.Join(t.TempDir(), "review.txt")
	os.WriteFile(review, []byte("A wonderful film: brilliant acting, and a story I loved.<br /><br />See it."), 0o644)
	code, out, stderr := pipeCmd(t, "predict", "--data-dir", data, dir, review)
	if code != 0 || !strings.HasPrefix(out, review+": ") {
		t.Fatalf("predict: exit %d, %q %s", code, out, stderr)
	}
	// The sentiment by the loader's class names, the likelier first, each
	// with its probability.
	var first, second string
	var p, q float64
	if _, err := fmt.Sscanf(strings.TrimPrefix(out, review+": "), "%s (%f); then %s (%f)", &first, &p, &second, &q); err != nil ||
		first+" "+second != "neg pos" && first+" "+second != "pos neg" || p < q || math.Abs(p+q-1) > 2e-4 {
		t.Errorf("want the sentiments with their probabilities, got %q", out)
	}
	// A binary classifier's report has the ROC AUC, over IMDB's classes.
	var r evaluators.ClassificationReport
	readJSON(t, dir, "report.json", &r)
	if r.ROCAUC == nil || *r.ROCAUC < 0 || *r.ROCAUC > 1 || !slices.Equal(r.Classes, []string{"neg", "pos"}) || r.Examples != 64 {
		t.Errorf("report.json: ROC AUC %v, classes %q, %d examples", r.ROCAUC, r.Classes, r.Examples)
	}
	// The same review on stdin (-), after another file: the same probability.
	text, _ := os.ReadFile(review)
	code, both, stderr := pipeCmdIn(t, string(text), "predict", "--data-dir", data, dir, review, "-")
	if code != 0 || both != out+strings.Replace(out, review, "stdin", 1) {
		t.Errorf("predict FILE -: exit %d, %q %s; from the file alone: %q", code, both, stderr, out)
	}
	// A photo is no review: refused, where it used to get a probability.
	var photo bytes.Buffer
	jpeg.Encode(&photo, image.NewGray(image.Rect(0, 0, 28, 28)), nil)
	code, out, stderr = pipeCmd(t, "predict", "--data-dir", data, dir, writeFile(t, "photo.jpg", photo.String()))
	if code != exitUsage || out != "" || !strings.Contains(stderr, "photo.jpg: a JPEG image, but the model takes a review, UTF-8 text") {
		t.Errorf("a JPEG for the IMDB model: exit %d, %q %s", code, out, stderr)
	}
}

// trainedRun runs spec quietly with the --set overrides sets and returns
// its run directory and what it printed.
func trainedRun(t *testing.T, data, spec string, sets ...string) (dir, out string) {
	t.Helper()
	args := append([]string{"run", "--quiet", "--no-cache", "--data-dir", data, "--runs-dir", t.TempDir(), spec}, sets...)
	code, out, stderr := pipeCmd(t, args...)
	if code != 0 {
		t.Fatal(stderr)
	}
	return strings.TrimSpace(out[strings.LastIndex(out, "-> ")+3:]), out
}
