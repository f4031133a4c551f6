package main

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/golden"
)

// goldenError reports specs whose results moved from their golden files.
type goldenError struct{ specs []string }

func (e goldenError) Error() string {
	return fmt.Sprintf("%d spec(s) moved from their golden files: %s", len(e.specs), strings.Join(e.specs, ", "))
}

func testCmd(g *globalFlags) *cobra.Command {
	var update bool
	var dir string
	cmd := &cobra.Command{
		Use:   "test [SPEC...]",
		Short: "Run each spec's golden run and compare it with its golden file (default: every spec under specs/)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				var err error
				if args, err = findSpecs("specs"); err != nil {
					return err
				}
			}
			var moved []string
			for _, path := range args {
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				diff, err := golden.Check(plan, g.options(), dir, update)
				switch {
				case err != nil:
					return fmt.Errorf("%s: %w", path, err)
				case update:
					fmt.Fprintf(cmd.OutOrStdout(), "updated %s\n", golden.Path(dir, plan.Name))
				case diff != "":
					moved = append(moved, path)
					fmt.Fprintf(cmd.OutOrStdout(), "FAIL %s: moved from %s (-golden +now):\n%s\n", path, golden.Path(dir, plan.Name), diff)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "ok   %s\n", path)
				}
			}
			if len(moved) > 0 {
				return goldenError{moved}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&update, "update", false, "rewrite the golden files from fresh runs")
	cmd.Flags().StringVar(&dir, "golden-dir", "golden", "directory of the golden files")
	return cmd
}

// findSpecs lists the .yaml files under dir, recursively.
func findSpecs(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			paths = append(paths, path)
		}
		return err
	})
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no specs under %s", dir)
	}
	return paths, usageErrorIf(err)
}

func usageErrorIf(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}
