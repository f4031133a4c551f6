package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/sweep"
)

func sweepCmd(g *globalFlags) *cobra.Command {
	var grids, randoms []string
	var trials, jobs int
	var seed uint64
	var metric string
	cmd := &cobra.Command{
		Use:   "sweep SPEC",
		Short: "Run a spec over a grid or random draws of --set values, reusing runs already made; rank the trials by a validation series",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Every flag is checked before anything runs.
			m, err := sweep.ParseMetric(metric)
			if err != nil {
				return usageError{err}
			}
			var gs []sweep.Grid
			for _, s := range grids {
				g, err := sweep.ParseGrid(s)
				if err != nil {
					return usageError{err}
				}
				gs = append(gs, g)
			}
			var rs []sweep.Random
			for _, s := range randoms {
				r, err := sweep.ParseRandom(s)
				if err != nil {
					return usageError{err}
				}
				rs = append(rs, r)
			}
			switch {
			case len(gs) == 0 && len(rs) == 0:
				return usageError{fmt.Errorf("nothing to sweep: give --grid PATH=[v1,v2,...] or --random PATH=DIST")}
			case len(rs) > 0 && trials < 1:
				return usageError{fmt.Errorf("--random needs --trials N (N >= 1)")}
			case jobs < 1:
				return usageError{fmt.Errorf("--jobs %d: at least 1", jobs)}
			}
			ts := sweep.Trials(gs, rs, trials, seed)
			hasCV, err := sweep.HasCV(args[0], g.sets)
			if err != nil {
				return err
			}
			if hasCV {
				return g.nestedSweep(cmd, args[0], ts, jobs, m)
			}
			outs, err := g.runTrials(cmd, args[0], ts, jobs, nil)
			if err != nil {
				return err
			}
			order, err := sweep.Ranked(outs, m)
			if err != nil {
				return usageError{err}
			}
			if err := sweep.WriteTable(cmd.OutOrStdout(), outs, order, m); err != nil {
				return err
			}
			return failed(outs)
		},
	}
	cmd.Flags().StringArrayVar(&grids, "grid", nil, "PATH=[v1,v2,...]: try every value (repeatable: the product)")
	cmd.Flags().StringArrayVar(&randoms, "random", nil, "PATH=uniform(a,b), loguniform(a,b) or choice(v1,v2,...): draw a value per trial (repeatable)")
	cmd.Flags().IntVar(&trials, "trials", 0, "random trials (per grid point)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the random draws")
	cmd.Flags().IntVar(&jobs, "jobs", 1, "trials run at once, each a pipe run process with its share of the cores")
	cmd.Flags().StringVar(&metric, "metric", "val_loss", "the series that ranks the trials: val_NAME or train:NAME, last epoch; +NAME maximises, -NAME minimises (default: accuracy-like names maximised, others minimised)")
	return cmd
}

func cvCmd(g *globalFlags) *cobra.Command {
	var folds, jobs int
	cmd := &cobra.Command{
		Use:   "cv SPEC",
		Short: "Cross-validate a rating spec over k test folds (data.split kfold), reusing runs already made: each fold's test metrics, their mean and std",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if jobs < 1 {
				return usageError{fmt.Errorf("--jobs %d: at least 1", jobs)}
			}
			k := folds
			if !cmd.Flags().Changed("folds") {
				// The spec's cv.folds when it has a cv: section, else 5.
				hasCV, err := sweep.HasCV(args[0], g.sets)
				if err != nil {
					return err
				}
				if hasCV {
					k = 0
				}
			}
			return g.crossValidate(cmd, args[0], k, jobs)
		},
	}
	cmd.Flags().IntVar(&folds, "folds", 5, "number of test folds (default: the spec's cv.folds, else 5)")
	cmd.Flags().IntVar(&jobs, "jobs", 1, "folds run at once, each a pipe run process with its share of the cores")
	return cmd
}

// crossValidate is pipe cv, and pipe run of a spec with cv:: one run per
// test fold (k folds; 0: the spec's cv.folds), then each fold's test
// metrics with their mean and std.
func (g *globalFlags) crossValidate(cmd *cobra.Command, specPath string, k, jobs int) error {
	ts, err := cvFolds(specPath, g.sets, k)
	if err != nil {
		return err
	}
	label := func(i int) string { return fmt.Sprintf("fold %d of %d", i, len(ts)) }
	outs, err := g.runTrials(cmd, specPath, ts, jobs, label)
	if err != nil {
		return err
	}
	s, err := sweep.Summarize(outs)
	if err != nil {
		return err
	}
	return s.Write(cmd.OutOrStdout(), outs)
}

// cvFolds are sweep.Folds with their errors sorted: a spec error (cv: on
// a loader without split:) stays one; a spec without split: or a bad
// --folds is a usage error.
func cvFolds(specPath string, sets []string, k int) ([]sweep.Trial, error) {
	ts, err := sweep.Folds(specPath, sets, k)
	var noSplit *sweep.NoSplitError
	switch {
	case errors.As(err, &noSplit):
		return nil, usageError{err}
	case err != nil && isSpecError(err):
		return nil, err
	case err != nil:
		return nil, usageError{err}
	}
	return ts, nil
}

// nestedSweep is pipe sweep on a spec with cv:: the trials run inside
// each test fold, each fold chooses its best trial by m (a validation or
// training series, never a test metric), and the chosen trials' test
// metrics are reported per fold with their mean and std.
func (g *globalFlags) nestedSweep(cmd *cobra.Command, specPath string, ts []sweep.Trial, jobs int, m sweep.Metric) error {
	if err := sweep.CheckNested(specPath, g.sets, m); err != nil {
		return usageError{err}
	}
	folds, err := cvFolds(specPath, g.sets, 0)
	if err != nil {
		return err
	}
	all := sweep.Nested(folds, ts)
	label := func(i int) string {
		return fmt.Sprintf("fold %d of %d, trial %d/%d", i/len(ts), len(folds), i%len(ts)+1, len(ts))
	}
	outs, err := g.runTrials(cmd, specPath, all, jobs, label)
	if err != nil {
		return err
	}
	chosen, choices, err := sweep.ChooseInFolds(outs, len(folds), m)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	for f, c := range choices {
		fmt.Fprintf(w, "fold %d: chose trial %d (%s) by %s: %s %.4f\n", f, c.Trial+1,
			strings.Join(ts[c.Trial].Sets(), " "), m, m.Series, c.Value)
	}
	fmt.Fprintln(w)
	s, err := sweep.Summarize(chosen)
	if err != nil {
		return err
	}
	if err := s.Write(w, chosen); err != nil {
		return err
	}
	return failed(outs)
}

// runTrials runs the trials as child pipe run processes of this same
// binary (so their run keys, which hold pipe's version, are the ones
// computed here), with the global flags passed on.
func (g *globalFlags) runTrials(cmd *cobra.Command, specPath string, ts []sweep.Trial, jobs int, label func(int) string) ([]sweep.Outcome, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	popt := g.options()
	base := []string{"run", "--quiet", "--runs-dir", popt.RunsDir, "--data-dir", popt.DataDir}
	if g.backend != "" {
		base = append(base, "--backend", g.backend)
	}
	if popt.CacheDir != "" {
		base = append(base, "--cache-dir", popt.CacheDir)
	} else {
		base = append(base, "--no-cache")
	}
	opt := sweep.Options{
		Spec: specPath, Sets: g.sets, Pipeline: popt, Jobs: jobs, Label: label,
		Command: func(ctx context.Context, sets []string) *exec.Cmd {
			a := append(append([]string(nil), base...), specPath)
			for _, s := range sets {
				a = append(a, "--set", s)
			}
			return exec.CommandContext(ctx, exe, a...)
		},
	}
	if !g.quiet {
		opt.Log = cmd.ErrOrStderr()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	outs, err := sweep.Run(ctx, ts, opt)
	if err != nil && ctx.Err() != nil {
		return nil, sweepStopped{}
	}
	return outs, err
}

// failed is an error when a trial failed (after the table, which shows
// which).
func failed(outs []sweep.Outcome) error {
	n := 0
	for _, o := range outs {
		if o.Err != nil {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%d of %d trials failed", n, len(outs))
	}
	return nil
}

// sweepStopped is a sweep stopped by Ctrl-C or SIGTERM: exit 130, like
// pipe run. The trials that finished are saved as runs and reused by the
// same command run again.
type sweepStopped struct{}

func (sweepStopped) Error() string {
	return "interrupted; the finished trials are saved as runs: the same command again reuses them and runs the rest"
}
