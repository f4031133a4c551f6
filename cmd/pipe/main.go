// Command pipe runs declarative machine-learning experiments described in
// YAML specs. This file holds flags and wiring only; the work is done in
// the spec, loaders, ops, evaluators and pipeline packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

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

// run executes the command line with the process's stdin and returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, os.Stdin, stdout, stderr)
}

// runWith executes the command line and returns the exit code. A panic,
// which would be a bug in pipe, becomes one line on stderr rather than a
// stack trace.
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "pipe: internal error: %v\n", r)
			code = exitRuntime
		}
	}()
	root := newRoot(stdout, stderr, args)
	root.SetIn(stdin)
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
	var sweepStop sweepStopped
	switch {
	case errors.As(err, &sweepStop):
		return exitStopped
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
	args                                []string // the command line, for hints
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

func newRoot(stdout, stderr io.Writer, args []string) *cobra.Command {
	g := globalFlags{args: args}
	root := &cobra.Command{
		Use:           "pipe",
		Short:         "Declarative machine-learning pipelines on GoMLX",
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// With Args and RunE set, cobra hands an unknown command to
		// unknownCommand instead of failing with its own plain error (exit
		// 1, and a message over several lines).
		Args: cobra.ArbitraryArgs,
		RunE: unknownCommand,
		// Checks of the global flags that no command should start without.
		PersistentPreRunE: func(*cobra.Command, []string) error { return g.check() },
	}
	root.SetVersionTemplate("{{.Version}}\n")
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
	root.AddCommand(runCmd(&g), summaryCmd(&g), validateCmd(&g), testCmd(&g), compareCmd(&g), cacheCmd(&g), listCmd(), docCmd(), schemaCmd(), initCmd(), benchCmd(&g), evaluateCmd(&g), predictCmd(&g), versionCmd(), dataCmd(&g))
	root.AddCommand(runsCmd(&g), diffCmd(&g), serveCmd(&g), plotCmd(), exportCmd(&g), sweepCmd(&g), cvCmd(&g))
	usageArgs(root) // after every AddCommand: it wraps each command's argument check
	return root
}

// unknownCommand runs for the root command (and for a group such as
// cache) given arguments that name none of its subcommands: a bad command
// line, with the closest names when some are close. Without arguments it
// shows the help, as cobra would.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		// Close misspellings only ("runn", "vaildate", "lsit"); cobra sets
		// this default only where it suggests by itself.
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if near := cmd.SuggestionsFor(args[0]); len(near) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", quotedOr(near))
	}
	return usageError{fmt.Errorf("%s; `%s --help` lists the commands", msg, cmd.CommandPath())}
}

// quotedOr writes names as "a", "a" or "b", "a", "b" or "c".
func quotedOr(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// usageArgs makes every argument-count error of cmd and its subcommands a
// usage error (cobra's validators return plain errors, which would exit 1)
// that shows the command's usage line.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			var use usageError
			if err == nil || errors.As(err, &use) {
				return err
			}
			name := strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
			if !c.HasSubCommands() && len(args) > 0 && strings.HasPrefix(err.Error(), "unknown command") {
				// cobra.NoArgs calls an argument a command.
				err = fmt.Errorf("takes no arguments, got %q", args[0])
			}
			return usageError{fmt.Errorf("%s: %w; usage: %s", name, err, c.UseLine())}
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

// check rejects global flags that are wrong whatever the command: a --set
// without "=" (the value would be taken for a spec file) and a backend
// name pipe does not know.
func (g *globalFlags) check() error {
	for i, s := range g.sets {
		if strings.Contains(s, "=") {
			continue
		}
		hint := "PATH=VALUE, e.g. --set train.epochs=3"
		if s != "" {
			hint = s + "=VALUE"
			// The usual slip: `--set train.epochs 3` makes 3 an argument.
			if v, ok := valueAfterSet(g.args, i); ok {
				hint = s + "=" + v
			}
		}
		return usageError{fmt.Errorf("--set wants PATH=VALUE, got %q (write --set %s)", s, hint)}
	}
	if g.backend != "" {
		if err := pipeline.CheckBackendName(g.backend); err != nil {
			return usageError{fmt.Errorf("--backend: %w", err)}
		}
	}
	return nil
}

// valueAfterSet returns the word that follows the i-th `--set X` (or
// `--set=X`) in the command line args, when there is one and it is not a
// flag.
func valueAfterSet(args []string, i int) (string, bool) {
	n := 0
	for j, a := range args {
		if a == "--" {
			break
		}
		next := j + 2 // after --set X
		if strings.HasPrefix(a, "--set=") {
			next = j + 1
		} else if a != "--set" {
			continue
		}
		if n == i {
			if next < len(args) && !strings.HasPrefix(args[next], "-") {
				return args[next], true
			}
			return "", false
		}
		n++
	}
	return "", false
}

// specArgs requires at least one spec path.
func specArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("%s needs at least one spec file", cmd.Name())}
	}
	return nil
}
