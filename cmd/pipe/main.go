// Command pipe runs declarative machine-learning experiments described in
// YAML specs. This file holds flags and wiring only; the work is done in
// the spec, loaders, ops, evaluators and pipeline packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitRuntime = 1   // training or evaluation failed, or an internal error
	exitUsage   = 2   // bad command line
	exitSpec    = 3   // the spec is invalid
	exitData    = 4   // data files missing or corrupt
	exitGolden  = 5   // pipe test: a result moved from its golden file
	exitStopped = 130 // interrupted (Ctrl-C, SIGTERM); finished epochs saved
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code. A panic, which
// would be a bug in pipe, becomes one line on stderr rather than a stack trace.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "pipe: internal error: %v\n", r)
			code = exitRuntime
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, describe(err))
	return exitCode(err)
}

// usageError marks command-line mistakes.
type usageError struct{ error }

func exitCode(err error) int {
	var data *loaders.DataError
	var use usageError
	var moved goldenError
	var stopped interruptedError
	var cannot *pipeline.PredictError
	switch {
	case errors.As(err, &stopped) && errors.Is(stopped.cause, pipeline.ErrDiverged):
		return exitRuntime
	case errors.As(err, &stopped):
		return exitStopped
	case errors.As(err, &use), errors.As(err, &cannot):
		return exitUsage
	case errors.As(err, &moved):
		return exitGolden
	case isSpecError(err):
		return exitSpec
	case errors.As(err, &data):
		return exitData
	}
	return exitRuntime
}

func isSpecError(err error) bool {
	_, ok := spec.AsList(err)
	var one *spec.Error
	return ok || errors.As(err, &one)
}

func describe(err error) string {
	if isSpecError(err) {
		return err.Error() // already file:line:col: path: message, one per line
	}
	return "pipe: " + err.Error()
}

type globalFlags struct {
	dataDir, backend, runsDir, cacheDir string
	quiet, noCache                      bool
	sets                                []string
}

// options are the pipeline options the flags give.
func (g *globalFlags) options() pipeline.Options {
	opt := pipeline.Options{DataDir: loaders.ResolveDataDir(g.dataDir), RunsDir: g.runsDir, Backend: g.backend}
	if !g.noCache {
		opt.CacheDir = pipeline.ResolveCacheDir(g.cacheDir)
	}
	return opt
}

// load reads a spec with the --set overrides.
func (g *globalFlags) load(path string) (*pipeline.Plan, error) {
	return pipeline.Load(path, g.sets...)
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:           "pipe",
		Short:         "Declarative machine-learning pipelines on GoMLX",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", "", "dataset directory (default $PIPE_DATA, then the user cache dir)")
	root.PersistentFlags().StringVar(&g.backend, "backend", "", "GoMLX backend: go (default), xla:cpu, xla:cuda; overrides the spec")
	root.PersistentFlags().StringVar(&g.runsDir, "runs-dir", "runs", "where run directories are written")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print only the result")
	root.PersistentFlags().StringVar(&g.cacheDir, "cache-dir", "", "cache of preprocessed data as Arrow files (default $PIPE_CACHE, then the user cache dir)")
	root.PersistentFlags().BoolVar(&g.noCache, "no-cache", false, "load and preprocess the data from its source files, without the cache")
	root.PersistentFlags().StringArrayVar(&g.sets, "set", nil, "override a spec field, e.g. --set train.epochs=3 --set model.layers[0].filters=8 (repeatable)")
	root.AddCommand(runCmd(&g), summaryCmd(&g), validateCmd(&g), testCmd(&g), compareCmd(&g), cacheCmd(&g), listCmd(), docCmd(), schemaCmd(), initCmd(), benchCmd(&g), evaluateCmd(&g), predictCmd(&g))
	return root
}

// specArgs requires at least one spec path.
func specArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("%s needs at least one spec file", cmd.Name())}
	}
	return nil
}

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
			"one, with more epochs given by --set train.epochs=N) into a new run directory.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if resumeDir != "" {
				if len(args) > 0 {
					return usageError{fmt.Errorf("--resume takes the run directory, not a spec")}
				}
				args = []string{filepath.Join(resumeDir, "spec.yaml")}
			} else if err := specArgs(cmd, args); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			for _, path := range args {
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
				fmt.Fprintf(cmd.OutOrStdout(), "%s: test", plan.Spec.Name)
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
