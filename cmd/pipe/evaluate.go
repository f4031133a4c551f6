package main

import (
	"fmt"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/spf13/cobra"
)

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
			fmt.Fprintf(cmd.OutOrStdout(), "%s: test", plan.Name)
			for _, m := range plan.Metrics {
				fmt.Fprintf(cmd.OutOrStdout(), " %s %.4f", m.Name, test[m.Name])
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
}
