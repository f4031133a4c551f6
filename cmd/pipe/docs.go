package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// listNames maps what `pipe list` accepts to registry kinds.
var listNames = map[string]string{
	"layers": "layer", "loaders": "loader", "transforms": "transform", "losses": "loss",
	"metrics": "metric", "models": "model", "optimizers": "optimizer",
}

func listCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list [layers|loaders|transforms|losses|metrics|models|optimizers]",
		Short: "List the registered components (all kinds without an argument)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds := spec.Kinds()
			if len(args) == 1 {
				kind, ok := listNames[args[0]]
				if !ok {
					return usageError{fmt.Errorf("unknown list %q (one of layers, loaders, transforms, losses, metrics, models, optimizers)", args[0])}
				}
				kinds = []string{kind}
			}
			for _, kind := range kinds {
				r := spec.RegistryFor(kind)
				fmt.Fprintf(cmd.OutOrStdout(), "%ss:\n", kind)
				for _, name := range r.Names() {
					e, _ := r.Lookup(name)
					fmt.Fprintf(cmd.OutOrStdout(), "  %-32s %s\n", name, firstSentence(e.Doc))
				}
			}
			return nil
		},
	}
}

func docCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "doc NAME | doc --all",
		Short: "Describe a component and its params, or print the whole reference (Markdown)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				fmt.Fprint(cmd.OutOrStdout(), spec.Reference())
				return nil
			}
			if len(args) != 1 {
				return usageError{errors.New("doc needs one component name, or --all")}
			}
			text, err := spec.Doc(args[0])
			if err != nil {
				return usageError{err}
			}
			fmt.Fprint(cmd.OutOrStdout(), text)
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "print the reference of every component (docs/reference.md)")
	return cmd
}

func schemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of specs (for yaml-language-server: # yaml-language-server: $schema=...)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := spec.JSONSchema()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
}

// starter is the spec `pipe init` writes: a small MNIST classifier that
// runs in a minute on a laptop, to edit from.
const starter = `# yaml-language-server: $schema=../docs/pipe.schema.json
name: %s
seed: 1
data:
  loader: mnist
  train_limit: 10000
  transforms:
    - scale: {divide: 255}
    - reshape: {shape: [28, 28, 1]}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 8, kernel: 3, activation: relu}
    - max_pool2d: {pool: 2}
    - flatten
    - dense: {units: 64, activation: relu}
    - dropout: {rate: 0.25}
    - dense: {units: 10, activation: softmax}
train:
  loss: categorical_crossentropy
  optimizer: {name: adam, learning_rate: 0.001}
  batch_size: 64
  epochs: 2
  validation: test
evaluate: [loss, accuracy]
`

func initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init FILE.yaml",
		Short: "Write a starter spec to edit (never overwrites a file)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			name := strings.TrimSuffix(strings.TrimSuffix(pathBase(path), ".yaml"), ".yml")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usageError{fmt.Errorf("%s exists; pipe init never overwrites a file", path)}
			} else if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(f, starter, name); err != nil {
				f.Close()
				os.Remove(path)
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; try: pipe summary %s && pipe run %s\n", path, path, path)
			return nil
		},
	}
}

func pathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// firstSentence is the doc up to the first full stop that ends a sentence
// (followed by a space and a capital letter), for one-line listings.
func firstSentence(doc string) string {
	for i := 0; i+2 < len(doc); i++ {
		if doc[i] == '.' && doc[i+1] == ' ' && doc[i+2] >= 'A' && doc[i+2] <= 'Z' {
			return doc[:i]
		}
	}
	return strings.TrimSuffix(doc, ".")
}

func evaluateCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "evaluate RUN_DIR",
		Short: "Measure a finished run's trained model (its checkpoint) on its spec's test data again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, test, err := pipeline.EvaluateRun(args[0], g.options())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: test", plan.Spec.Name)
			for _, m := range plan.Metrics {
				fmt.Fprintf(cmd.OutOrStdout(), " %s %.4f", m.Name, test[m.Name])
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
}

func predictCmd(g *globalFlags) *cobra.Command {
	var top int
	cmd := &cobra.Command{
		Use:   "predict RUN_DIR INPUT...",
		Short: "Apply a finished run's model to new inputs (images for mnist and cifar10, text reviews for imdb, a user's ratings for rating data) and print the prediction",
		Long: "Apply a finished run's model to new inputs and print the prediction: a class for an image (mnist, cifar10), " +
			"a probability for a text review (imdb). For a run on rating data (U-AutoRec, user_knn, matrix_factorization, " +
			"rbm_cf by: user), each INPUT is one user's ratings, a CSV file of item,rating lines (an optional item,rating " +
			"header; items by their ids in the dataset, quoted when they hold a comma); pipe prints the items the user did " +
			"not rate with the highest predicted ratings, one item<TAB>rating line each.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 0 {
				return usageError{fmt.Errorf("--top must be at least 0, got %d", top)}
			}
			_, preds, err := pipeline.PredictRun(args[0], args[1:], g.options())
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
