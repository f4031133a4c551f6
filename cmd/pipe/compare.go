package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/sweep"
)

func compareCmd(g *globalFlags) *cobra.Command {
	var metric, format string
	var rerun bool
	cmd := &cobra.Command{
		Use:   "compare SPEC...",
		Short: "One results table across specs: methods down, datasets across, the best of each column marked; a spec with cv: gives mean ± std over its folds or seeds (runs a spec that has no run of the same spec, data and pipe version)",
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
				hasCV, err := sweep.HasCV(path, g.sets)
				if err != nil {
					return err
				}
				if hasCV {
					// Folds or seeds: the cell is their mean ± std.
					if err := g.compareCV(cmd, t, plan, path, metric, rerun); err != nil {
						return err
					}
					continue
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

// compareCV is the cell of a spec with cv:: its folds (or seeded samples)
// run as pipe cv runs them, reusing the runs made with their keys, and
// the cell is their mean ± std. --rerun does not apply: pipe cv and pipe
// run of the spec reuse the same fold runs, and a second mechanism to
// redo them would be one too many (remove the runs to redo them).
func (g *globalFlags) compareCV(cmd *cobra.Command, t *evaluators.Table, plan *pipeline.Plan, path, metric string, rerun bool) error {
	if rerun {
		return usageError{fmt.Errorf("--rerun: %s has cv:, whose folds are reused by their keys as pipe cv reuses them; remove their runs to run them again", path)}
	}
	ts, err := cvFolds(path, g.sets, 0)
	if err != nil {
		return err
	}
	label := func(i int) string { return fmt.Sprintf("%s: fold %d of %d", plan.Name, i, len(ts)) }
	outs, err := g.runTrials(cmd, path, ts, 1, label)
	if err != nil {
		return err
	}
	s, err := sweep.Summarize(outs)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	i := slices.Index(s.Metrics, metric)
	if i < 0 {
		return fmt.Errorf("%s: its runs have no %s metric", path, metric)
	}
	t.SetSpread(plan.Report.Method, plan.Report.Dataset, s.Mean[i], s.Std[i], plan.Report.Row)
	return nil
}
