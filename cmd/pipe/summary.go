package main

import "github.com/spf13/cobra"

func summaryCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "summary SPEC...",
		Short: "Print the Keras-style layer table of each spec, without touching data",
		Args:  specArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, path := range args {
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				plan.WriteSummary(cmd.OutOrStdout())
			}
			return nil
		},
	}
}
