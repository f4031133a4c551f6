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
		Short: "One results table across specs: methods down, datasets across (runs a spec that has no run of the same spec, data and pipe version)",
		Args:  specArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "markdown" && format != "csv" {
				// Said before any spec runs, not after.
				return usageError{fmt.Errorf("unknown format %q (markdown or csv)", format)}
			}
			t := &evaluators.Table{}
			for _, path := range args {
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				opt := g.options()
				if !g.quiet {
					opt.Log = cmd.ErrOrStderr()
				}
				var test map[string]float64
				var from string
				if !rerun {
					// Only a run made from exactly this spec (after
					// extends and --set), data and build of pipe stands
					// for it; any other runs the spec.
					key, err := plan.RunKey(opt)
					if err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					run, metrics, k, err := rundir.LatestWithKey(g.runsDir, plan.Name, key.Key)
					if err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					if run != nil {
						test, from = metrics, fmt.Sprintf("%s, made %s", run.Dir, k.Created.Format(rundir.DateLayout))
						if opt.Log != nil {
							fmt.Fprintf(opt.Log, "%s: reusing %s (same spec, data and pipe version)\n", plan.Name, run.Dir)
						}
					}
				}
				if test == nil {
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
				if from != "" {
					t.SetFrom(plan.Report.Method, plan.Report.Dataset, v, plan.Report.Row, from)
				} else {
					t.Set(plan.Report.Method, plan.Report.Dataset, v, plan.Report.Row)
				}
			}
			if err := t.Write(cmd.OutOrStdout(), format, metric); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&metric, "metric", "rmse", "the test metric in each cell")
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or csv")
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run every spec again instead of reusing an earlier run of the same spec, data and pipe version")
	return cmd
}
