package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
)

func compareCmd(g *globalFlags) *cobra.Command {
	var metric, format string
	var rerun bool
	cmd := &cobra.Command{
		Use:   "compare SPEC...",
		Short: "One results table across specs: methods down, datasets across (runs a spec that has no run yet)",
		Args:  specArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t := &evaluators.Table{}
			for _, path := range args {
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				_, test, err := rundir.Latest(g.runsDir, plan.Name)
				if err != nil || rerun {
					opt := g.options()
					if !g.quiet {
						opt.Log = cmd.ErrOrStderr()
					}
					res, err := pipeline.Run(plan, opt)
					if err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					test = res.Test
				}
				v, ok := test[metric]
				if !ok {
					return fmt.Errorf("%s: its runs have no %s metric", path, metric)
				}
				t.Set(plan.Report.Method, plan.Report.Dataset, v, plan.Report.Row)
			}
			if err := t.Write(cmd.OutOrStdout(), format, metric); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&metric, "metric", "rmse", "the test metric in each cell")
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or csv")
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run every spec again instead of reading its latest run")
	return cmd
}
