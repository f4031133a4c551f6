// Command pipe runs declarative machine-learning experiments described in
// YAML specs. This file holds flags and wiring only; the work is done in
// the spec, loaders, ops, evaluators and pipeline packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
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
	var data *data.DataError
	var use usageError
	var moved goldenError
	var stopped interruptedError
	var cannot *pipeline.PredictError
	var notRun *rundir.NotRunError
	switch {
	case errors.As(err, &stopped) && errors.Is(stopped.cause, pipeline.ErrDiverged):
		return exitRuntime
	case errors.As(err, &stopped):
		return exitStopped
	case errors.As(err, &use), errors.As(err, &cannot), errors.As(err, &notRun):
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
	opt := pipeline.Options{DataDir: g.dataPath(), RunsDir: g.runsDir, Backend: g.backend}
	if !g.noCache {
		opt.CacheDir = g.cachePath()
	}
	return opt
}

// cachePath is the preprocessed-data cache: --cache-dir, then $PIPE_CACHE,
// then pipe's folder in the user cache dir.
func (g *globalFlags) cachePath() string { return data.UserDir(g.cacheDir, "PIPE_CACHE", "cache") }

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
	root.AddCommand(runCmd(&g), summaryCmd(&g), validateCmd(&g), testCmd(&g), compareCmd(&g), cacheCmd(&g), listCmd(), docCmd(), schemaCmd(), initCmd(), benchCmd(&g), evaluateCmd(&g), predictCmd(&g), dataCmd(&g), exportCmd(&g))
	return root
}

// specArgs requires at least one spec path.
func specArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("%s needs at least one spec file", cmd.Name())}
	}
	return nil
}
