// Command train shows pipe used as a library: it loads a YAML spec with
// overrides (a small subset, one epoch, so that it finishes in seconds),
// trains it with pipeline.Run, which writes a run directory, and prints the
// test metrics from the result.
//
//	go run ./examples/train -h
//	go run ./examples/train -spec specs/mnist_cnn.yaml -epochs 2 -runs runs
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pipe-ml/pipe/pipeline"
)

// overrides collects repeated -set flags, as the CLI's --set.
type overrides []string

func (o *overrides) String() string     { return strings.Join(*o, " ") }
func (o *overrides) Set(v string) error { *o = append(*o, v); return nil }

func main() {
	specPath := flag.String("spec", "specs/mnist_cnn.yaml", "the spec to train (relative to the working directory)")
	trainLimit := flag.Int("train-limit", 2048, "train on the first N training examples (0: all)")
	testLimit := flag.Int("test-limit", 512, "evaluate on the first N test examples (0: all)")
	epochs := flag.Int("epochs", 1, "training epochs")
	runsDir := flag.String("runs", "", "parent of the run directory (default: a new temporary directory)")
	dataDir := flag.String("data", "", "dataset directory (default $PIPE_DATA, then the user cache dir)")
	var set overrides
	flag.Var(&set, "set", "override a spec field, PATH=VALUE as pipe run --set (repeatable; applied after the flags above)")
	flag.Parse()

	if err := run(*specPath, *runsDir, *dataDir, *trainLimit, *testLimit, *epochs, set); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(specPath, runsDir, dataDir string, trainLimit, testLimit, epochs int, set []string) error {
	// Overrides use the spec's own field paths: the same ones its errors
	// print, so a bad value is reported at "--set data.train_limit=...".
	over := append([]string{
		fmt.Sprintf("data.train_limit=%d", trainLimit),
		fmt.Sprintf("data.test_limit=%d", testLimit),
		fmt.Sprintf("train.epochs=%d", epochs),
	}, set...)
	plan, err := pipeline.Load(specPath, over...)
	if err != nil {
		return err // a spec.ErrorList: every problem, each with file:line:col
	}
	if runsDir == "" {
		if runsDir, err = os.MkdirTemp("", "pipe-runs-"); err != nil {
			return err
		}
	}
	res, err := pipeline.Run(plan, pipeline.Options{
		DataDir: dataDir,
		RunsDir: runsDir,
		Log:     os.Stderr, // one line per epoch; nil keeps training quiet
	})
	if err != nil {
		return err
	}
	fmt.Printf("run: %s\n", res.Dir)
	if res.Interrupted {
		// The run directory holds the whole epochs; Test is empty.
		return fmt.Errorf("training stopped early: %v", res.Stopped)
	}
	fmt.Printf("trained %s: %d test examples, %.1fs\n", plan.Name, res.TestExamples, res.Seconds)
	// Test holds the spec's evaluate: metrics by name; map order is random,
	// so print them sorted for output that diffs cleanly.
	for _, n := range slices.Sorted(maps.Keys(res.Test)) {
		fmt.Printf("test %s: %.4f\n", n, res.Test[n])
	}
	return nil
}
