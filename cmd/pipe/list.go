package main

import (
	"fmt"
	"strings"

	"github.com/pipe-ml/pipe/spec"
	"github.com/spf13/cobra"
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
