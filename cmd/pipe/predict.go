package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/spf13/cobra"
)

func predictCmd(g *globalFlags) *cobra.Command {
	var top int
	var outDir string
	cmd := &cobra.Command{
		Use:   "predict RUN_DIR INPUT...",
		Short: "Apply a finished run's model to new inputs (images for mnist and cifar10, text reviews for imdb, a user's ratings for rating data) and print the prediction",
		Long: "Apply a finished run's model to new inputs and print the prediction: for a classifier (an image for mnist " +
			"or cifar10, a text review for imdb), the most probable class and the next ones (--top, default 3), each with its " +
			"probability, by name where the run recorded class names (e.g. digit.png: 7 (0.9812); then 1 (0.0101), 2 (0.0043)); " +
			"an input named - is read from stdin. An input of the wrong kind " +
			"(an image for a text model, text for an image model) is refused with what the run takes. For a run on rating data (U-AutoRec, user_knn, matrix_factorization, " +
			"rbm_cf by: user), each INPUT is one user's ratings, a CSV file of item,rating lines (an optional item,rating " +
			"header; items by their ids in the dataset, quoted when they hold a comma); pipe prints the items the user did " +
			"not rate with the highest predicted ratings, one item<TAB>rating line each. For a run that reconstructs images " +
			"(train.target: input, e.g. a denoising autoencoder), -o DIR is required: each input's reconstruction goes to DIR " +
			"as a PNG named for the input, and all of them to DIR/" + pipeline.ReconstructionsArrow + "; pipe never overwrites a file there.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 0 {
				return usageError{fmt.Errorf("--top must be at least 0, got %d", top)}
			}
			plan, preds, err := pipeline.PredictRun(args[0], args[1:], cmd.InOrStdin(), g.options())
			if err != nil {
				return err
			}
			if _, _, _, ok := plan.ReconstructsImages(); ok || outDir != "" {
				return writeReconstructions(cmd.OutOrStdout(), plan, preds, outDir)
			}
			var classes []string
			if run, err := rundir.Open(args[0]); err == nil {
				if classes, err = run.Classes(); err != nil {
					return err
				}
			}
			classTop := top
			if !cmd.Flags().Changed("top") {
				classTop = 3
			}
			out := cmd.OutOrStdout()
			for _, p := range preds {
				if p.Items != nil {
					printUserPrediction(out, p, top)
					continue
				}
				printClassPrediction(out, p, classes, classTop)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&top, "top", 10, "how many to print, best first (0: all): a classifier's most probable classes, or the items a user did not rate")
	cmd.Flags().StringVarP(&outDir, "output", "o", "", "folder for the reconstructions of a run that reconstructs images (made when missing; no file there is overwritten)")
	// One flag, two defaults: help says both rather than cobra's one number.
	cmd.Flags().Lookup("top").DefValue = "3 classes, 10 items"
	return cmd
}

// printUserPrediction prints a header line with the counts, then the top
// unrated items, one item<TAB>predicted rating line each.
func printUserPrediction(w io.Writer, p pipeline.Prediction, top int) {
	n := len(p.Items)
	if top > 0 {
		n = min(n, top)
	}
	fmt.Fprintf(w, "%s: %d ratings; top %d of the %d items not rated, by predicted rating", p.Input, p.Rated, n, len(p.Items))
	if p.Fallbacks > 0 {
		fmt.Fprintf(w, " (%d of the %d are the model's fallback, the user's mean)", p.Fallbacks, len(p.Items))
	}
	fmt.Fprintln(w, ":")
	for i := range n {
		fmt.Fprintf(w, "%s\t%.3f\n", p.Items[i], p.Outputs[i])
	}
}

// printClassPrediction prints a classifier's answer for one input: the
// most probable class, then the next ones up to top (0: all), each with
// its probability, named by classes (the run's class names; nil: "class
// i"). A single sigmoid output is the probability of the second class;
// without names it is printed as it is, a probability.
func printClassPrediction(w io.Writer, p pipeline.Prediction, classes []string, top int) {
	probs := p.Outputs
	if len(probs) == 1 {
		if len(classes) != 2 {
			fmt.Fprintf(w, "%s: %.4f\n", p.Input, probs[0])
			return
		}
		probs = []float32{1 - probs[0], probs[0]}
	}
	if len(classes) != len(probs) {
		classes = nil // names of another model's classes name nothing here
	}
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	// Most probable first; equals in class order, so the first is the
	// class the run's accuracy counts.
	slices.SortStableFunc(order, func(a, b int) int { return -cmp.Compare(probs[a], probs[b]) })
	if top > 0 {
		order = order[:min(top, len(order))]
	}
	name := func(c int) string {
		if classes != nil {
			return classes[c]
		}
		return fmt.Sprintf("class %d", c)
	}
	fmt.Fprintf(w, "%s: %s (%.4f)", p.Input, name(order[0]), probs[order[0]])
	rest := make([]string, len(order)-1)
	for i, c := range order[1:] {
		rest[i] = fmt.Sprintf("%s (%.4f)", name(c), probs[c])
	}
	if len(rest) > 0 {
		fmt.Fprintf(w, "; then %s", strings.Join(rest, ", "))
	}
	fmt.Fprintln(w)
}

// writeReconstructions writes an autoencoder's reconstructions into
// outDir and says where they went.
func writeReconstructions(w io.Writer, plan *pipeline.Plan, preds []pipeline.Prediction, outDir string) error {
	if _, _, _, ok := plan.ReconstructsImages(); !ok {
		return usageError{fmt.Errorf("-o is for runs that reconstruct images (train.target: input on image data); %s predicts classes or values, printed here", plan.Name)}
	}
	if outDir == "" {
		return usageError{fmt.Errorf("%s reconstructs images: give -o DIR, the folder for them", plan.Name)}
	}
	paths, err := plan.WriteReconstructions(outDir, preds)
	if err != nil {
		return err
	}
	for i, p := range preds {
		fmt.Fprintf(w, "%s: reconstruction in %s\n", p.Input, paths[i+1])
	}
	fmt.Fprintf(w, "%d reconstruction(s) as values in %s\n", len(preds), paths[0])
	return nil
}
