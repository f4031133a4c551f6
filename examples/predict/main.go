// Command predict shows a finished run used from Go: it applies the run's
// saved model to new input files (images for mnist and cifar10 runs,
// review text for imdb runs, a user's item,rating CSV for rating runs) with
// pipeline.PredictRun and prints, per input, the predicted class and its
// probability, the model's value, or the user's best unrated items.
//
//	go run ./examples/train -runs runs              # prints run: DIR
//	go run ./examples/predict DIR digit.png ...     # 28x28 greyscale PNGs for mnist
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pipe-ml/pipe/pipeline"
)

func main() {
	dataDir := flag.String("data", "", "dataset directory, for inputs that need it (imdb's vocabulary; default $PIPE_DATA, then the user cache dir)")
	all := flag.Bool("all", false, "also print every output of the model (all class probabilities)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: predict [flags] RUN_DIR INPUT...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Args()[1:], *dataDir, *all); err != nil {
		fmt.Fprintln(os.Stderr, "predict:", err)
		os.Exit(1)
	}
}

func run(runDir string, inputs []string, dataDir string, all bool) error {
	// PredictRun reads the run's resolved spec.yaml and checkpoint, decodes
	// each input with the run's loader and applies the spec's feature
	// transforms (scale, reshape) before the model, as in training.
	plan, preds, err := pipeline.PredictRun(runDir, inputs, os.Stdin, pipeline.Options{DataDir: dataDir})
	if err != nil {
		return err
	}
	fmt.Printf("model %s, output shape %v\n", plan.Name, plan.Output())
	for _, p := range preds {
		if p.Items != nil {
			// A run on rating data: the input was one user's ratings, and
			// the items they did not rate come best first.
			fmt.Printf("%s: %d ratings; best of %d unrated items:\n", p.Input, p.Rated, len(p.Items))
			for i := range min(len(p.Items), 10) {
				fmt.Printf("  %s\t%.3f\n", p.Items[i], p.Outputs[i])
			}
			continue
		}
		if len(p.Outputs) == 1 {
			// One output: a probability (imdb's sentiment) or a value.
			fmt.Printf("%s: %.4f\n", p.Input, p.Outputs[0])
			continue
		}
		best := 0
		for i, v := range p.Outputs {
			if v > p.Outputs[best] {
				best = i
			}
		}
		fmt.Printf("%s: class %d (p=%.4f)", p.Input, best, p.Outputs[best])
		if all {
			for _, v := range p.Outputs {
				fmt.Printf(" %.4f", v)
			}
		}
		fmt.Println()
	}
	return nil
}
