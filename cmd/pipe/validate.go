package main

import (
	"errors"
	"fmt"

	"github.com/pipe-ml/pipe/spec"
	"github.com/spf13/cobra"
)

func validateCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "validate SPEC...",
		Short: "Check specs (fields, names, shapes through the layer stack) without running anything",
		Args:  specArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var all spec.ErrorList
			var other []error
			for _, path := range args {
				_, err := g.load(path)
				if list, ok := spec.AsList(err); ok {
					all = append(all, list...)
				} else if err != nil {
					other = append(other, err)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
				}
			}
			if len(other) > 0 {
				return errors.Join(other...)
			}
			return all.Err()
		},
	}
}
