package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/sweep"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// interruptedError is a run stopped by Ctrl-C or SIGTERM, or by a loss
// that diverged; its whole epochs are saved.
type interruptedError struct {
	dir   string
	cause error
}

func (e interruptedError) Error() string {
	return fmt.Sprintf("%v: the finished epochs are saved in %s; continue with: pipe run --resume %s", e.cause, e.dir, e.dir)
}

func runCmd(g *globalFlags) *cobra.Command {
	var resumeDir string
	cmd := &cobra.Command{
		Use:   "run SPEC... | run --resume RUN_DIR",
		Short: "Train and evaluate each spec, writing a run directory per spec",
		Long: "Train and evaluate each spec, writing a run directory per spec. Ctrl-C (or SIGTERM) stops after the " +
			"current step and saves the run with its finished epochs; --resume continues such a run (or a finished " +
			"one, with more epochs given by --set train.epochs=N) in its own directory, which it replaces when done. " +
			"A spec with cv: runs once per test fold, as pipe cv does, and prints each fold's test metrics with their mean and std.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if resumeDir != "" {
				if len(args) > 0 {
					return usageError{fmt.Errorf("--resume takes the run directory, not a spec")}
				}
				// Not a run directory (a spec, a runs folder, a typo) is a
				// bad command line that lists the runs it could mean.
				run, err := rundir.Open(resumeDir)
				if err != nil {
					return err
				}
				args = []string{run.SpecPath()}
			} else if err := specArgs(cmd, args); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			for _, path := range args {
				if resumeDir == "" {
					// A spec with cv: runs once per test fold, as pipe cv.
					hasCV, err := sweep.HasCV(path, g.sets)
					if err != nil {
						return err
					}
					if hasCV {
						if err := g.crossValidate(cmd, path, 0, 1); err != nil {
							return err
						}
						continue
					}
				}
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				opt := g.options()
				opt.Context, opt.Resume = ctx, resumeDir
				if !g.quiet {
					opt.Log = cmd.OutOrStdout()
					if term.IsTerminal(int(os.Stderr.Fd())) {
						opt.Progress = os.Stderr
					}
				}
				res, err := pipeline.Run(plan, opt)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				if res.Interrupted {
					return interruptedError{res.Dir, res.Stopped}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: test", plan.Name)
				for _, m := range plan.Metrics {
					fmt.Fprintf(cmd.OutOrStdout(), " %s %.4f", m.Name, res.Test[m.Name])
				}
				fmt.Fprintf(cmd.OutOrStdout(), " (%.1fs) -> %s\n", res.Seconds, res.Dir)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&resumeDir, "resume", "", "continue the run in this directory")
	return cmd
}
