package main

import (
	"fmt"
	"strings"

	"github.com/pipe-ml/pipe/spec"
	"github.com/spf13/cobra"
)

// listNames maps what `pipe list` accepts, the plural of each registry
// kind linked into pipe (layers, losses, schedules...), to the kind. It is
// built from the registries, so that every section `pipe list` prints can
// be asked for alone.
func listNames() (names map[string]string, sorted []string) {
	names = map[string]string{}
	for _, kind := range spec.Kinds() {
		names[spec.Plural(kind)] = kind
		sorted = append(sorted, spec.Plural(kind))
	}
	return names, sorted
}

func listCmd() *cobra.Command {
	names, plurals := listNames()
	return &cobra.Command{
		Use:   "list [" + strings.Join(plurals, "|") + "]",
		Short: "List the registered components (all kinds without an argument)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds := spec.Kinds()
			if len(args) == 1 {
				kind, ok := names[args[0]]
				if !ok {
					return usageError{fmt.Errorf("unknown list %q%s", args[0], spec.DidYouMean(args[0], plurals))}
				}
				kinds = []string{kind}
			}
			for _, kind := range kinds {
				r := spec.RegistryFor(kind)
				fmt.Fprintf(cmd.OutOrStdout(), "%s:\n", spec.Plural(kind))
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
