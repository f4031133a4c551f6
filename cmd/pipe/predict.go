package main

import (
	"fmt"
	"io"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/spf13/cobra"
)

func predictCmd(g *globalFlags) *cobra.Command {
	var top int
	cmd := &cobra.Command{
		Use:   "predict RUN_DIR INPUT...",
		Short: "Apply a finished run's model to new inputs (images for mnist and cifar10, text reviews for imdb, a user's ratings for rating data) and print the prediction",
		Long: "Apply a finished run's model to new inputs and print the prediction: a class for an image (mnist, cifar10), " +
			"a probability for a text review (imdb); an input named - is read from stdin. An input of the wrong kind " +
			"(an image for a text model, text for an image model) is refused with what the run takes. For a run on rating data (U-AutoRec, user_knn, matrix_factorization, " +
			"rbm_cf by: user), each INPUT is one user's ratings, a CSV file of item,rating lines (an optional item,rating " +
			"header; items by their ids in the dataset, quoted when they hold a comma); pipe prints the items the user did " +
			"not rate with the highest predicted ratings, one item<TAB>rating line each.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 0 {
				return usageError{fmt.Errorf("--top must be at least 0, got %d", top)}
			}
			_, preds, err := pipeline.PredictRun(args[0], args[1:], cmd.InOrStdin(), g.options())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range preds {
				if p.Items != nil {
					printUserPrediction(out, p, top)
					continue
				}
				best := 0
				for i, v := range p.Outputs {
					if v > p.Outputs[best] {
						best = i
					}
				}
				if len(p.Outputs) > 1 {
					fmt.Fprintf(out, "%s: class %d (p=%.4f)\n", p.Input, best, p.Outputs[best])
				} else {
					fmt.Fprintf(out, "%s: %.4f\n", p.Input, p.Outputs[0])
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&top, "top", 10, "for a user's ratings: how many unrated items to print, best first (0: all)")
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
