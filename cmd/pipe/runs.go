package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/rundir"
)

func runsCmd(g *globalFlags) *cobra.Command {
	var all, asJSON, asCSV bool
	var sortBy string
	cmd := &cobra.Command{
		Use:   "runs [SPEC...|--all]",
		Short: "A table of runs: date, the params that differ, test metrics, time, status (rm and gc remove runs)",
		Long: `A table of the runs of the given specs (spec files, or spec names), or of
every run under --runs-dir with --all, newest first: name, date, the spec
fields whose values differ among the listed runs of the same spec, as
the spec file gave them (path=value, as --set takes them on the spec
file; a run's source.yaml), the final test metrics, the training time,
whether the run finished, and its directory.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usageError{errors.New("runs takes spec files (or names) or --all, not both")}
			case !all && len(args) == 0:
				return usageError{fmt.Errorf("runs needs spec files (or names), or --all for every run under %s", g.runsDir)}
			}
			if asJSON && asCSV {
				return usageError{errors.New("--json and --csv exclude each other")}
			}
			dirs, err := listedRuns(g, all, args)
			if err != nil {
				return err
			}
			l := rundir.List(dirs)
			for _, err := range l.Unreadable {
				fmt.Fprintf(cmd.ErrOrStderr(), "pipe: skipped a run: %v\n", err)
			}
			if sortBy != "" && len(l.Runs) > 0 {
				if err := l.Sort(sortBy); err != nil {
					return usageError{err}
				}
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return l.WriteJSON(out)
			case asCSV:
				return l.WriteCSV(out)
			case len(l.Runs) == 0:
				fmt.Fprintf(out, "no runs under %s\n", g.runsDir)
				return nil
			}
			return l.WriteTable(out)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every run under --runs-dir")
	cmd.Flags().StringVar(&sortBy, "sort", "", "order by a metric, ascending (rmse) or descending (-val_accuracy); a test metric or one of the last epoch")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print CSV")
	cmd.AddCommand(runsRmCmd(g), runsGCCmd(g))
	return cmd
}

// listedRuns are the run directories to list: every run under --runs-dir,
// or those of each spec; a spec is a file (its name read from it, with
// --set applied) or a spec name with a folder under --runs-dir.
func listedRuns(g *globalFlags, all bool, args []string) ([]string, error) {
	if all {
		dirs, err := rundir.Find(g.runsDir)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return dirs, err
	}
	var dirs []string
	for _, arg := range args {
		name := arg
		if st, err := os.Stat(arg); err == nil && !st.IsDir() {
			plan, err := g.load(arg)
			if err != nil {
				return nil, err
			}
			name = plan.Name
		} else if st, err := os.Stat(filepath.Join(g.runsDir, arg)); err != nil || !st.IsDir() {
			return nil, usageError{fmt.Errorf("%s: no such spec file, and no runs of a spec of that name under %s", arg, g.runsDir)}
		}
		found, err := rundir.Find(filepath.Join(g.runsDir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, d := range found {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, nil
}

func runsRmCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rm RUN_DIR...",
		Short: "Remove run directories (each must be a run under --runs-dir)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("runs rm needs at least one run directory")}
			}
			if err := rundir.Remove(g.runsDir, args); err != nil {
				return err
			}
			for _, d := range args {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", d)
			}
			return nil
		},
	}
}

func runsGCCmd(g *globalFlags) *cobra.Command {
	var keep int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Keep the newest N finished runs of each key (same spec, data and pipe version), remove the others",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("runs gc takes no arguments (it looks at every run under --runs-dir), got %q", args[0])}
			}
			if keep < 1 {
				return usageError{fmt.Errorf("--keep %d: keep at least 1 run per key (pipe runs rm removes runs by name)", keep)}
			}
			c, err := rundir.GC(g.runsDir, keep, dryRun)
			if c != nil {
				verb := "removed"
				if dryRun {
					verb = "would remove"
				}
				out := cmd.OutOrStdout()
				for _, d := range c.Removed {
					fmt.Fprintf(out, "%s %s\n", verb, d)
				}
				fmt.Fprintf(out, "%s %s (%s), kept %d", verb, runsCount(len(c.Removed)), megabytes(c.Bytes), c.Kept)
				if c.NoKey > 0 {
					fmt.Fprintf(out, "; left alone %s without a %s (made before runs recorded their key)", runsCount(c.NoKey), rundir.KeyFile)
				}
				fmt.Fprintln(out)
			}
			return err
		},
	}
	cmd.Flags().IntVar(&keep, "keep", 1, "finished runs to keep per key, newest first")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be removed, remove nothing")
	return cmd
}

// runsCount is "1 run", "2 runs".
func runsCount(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d runs", n)
}

// megabytes writes a size for people.
func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
