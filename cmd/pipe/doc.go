package main

import (
	"errors"
	"fmt"

	"github.com/pipe-ml/pipe/spec"
	"github.com/spf13/cobra"
)

func docCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "doc NAME | doc --all",
		Short: "Describe a component or a spec section (train, train.early_stopping, data...) and its params, or print the whole reference (Markdown)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				fmt.Fprint(cmd.OutOrStdout(), spec.Reference())
				return nil
			}
			if len(args) != 1 {
				return usageError{errors.New("doc needs one component or spec section name (e.g. dense, train.early_stopping), or --all")}
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
