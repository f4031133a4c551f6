package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/pipeline"
)

func compareCmd(g *globalFlags) *cobra.Command {
	var metric, format string
	var rerun bool
	cmd := &cobra.Command{
		Use:   "compare SPEC...",
		Short: "One results table across specs: methods down, datasets across (runs a spec that has no run yet)",
		Args:  specArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t := &table{}
			for _, path := range args {
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				test, err := latestTest(g.runsDir, plan.Spec.Name)
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
				method, dataset := plan.Spec.Report.Method, plan.Spec.Report.Dataset
				if method == "" {
					method = plan.Spec.Name
				}
				if dataset == "" {
					dataset = plan.Spec.Data.Loader.Kind
				}
				t.set(method, dataset, v, plan.Spec.Report.Row)
			}
			return t.write(cmd.OutOrStdout(), format, metric)
		},
	}
	cmd.Flags().StringVar(&metric, "metric", "rmse", "the test metric in each cell")
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or csv")
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run every spec again instead of reading its latest run")
	return cmd
}

// latestTest reads the test metrics of the newest complete run of a spec.
// Run directories are named by timestamp, so the newest sorts last;
// unfinished ones are hidden (.partial-*) and skipped.
func latestTest(runsDir, name string) (map[string]float64, error) {
	entries, err := os.ReadDir(filepath.Join(runsDir, name))
	if err != nil {
		return nil, err
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(runsDir, name, e.Name(), "metrics.json"))
		if err != nil {
			continue
		}
		var m struct {
			Test map[string]float64 `json:"test"`
		}
		if json.Unmarshal(b, &m) == nil && m.Test != nil {
			return m.Test, nil
		}
	}
	return nil, fmt.Errorf("no complete run of %s", name)
}

// table holds one value per (method, dataset), in order of first appearance.
type table struct {
	methods, datasets []string
	cells             map[[2]string]float64
	rank              map[string]int // report.row of a method; 0 sorts last
}

func (t *table) set(method, dataset string, v float64, row int) {
	if t.cells == nil {
		t.cells, t.rank = map[[2]string]float64{}, map[string]int{}
	}
	if !slices.Contains(t.methods, method) {
		t.methods = append(t.methods, method)
	}
	if row > 0 && (t.rank[method] == 0 || row < t.rank[method]) {
		t.rank[method] = row
	}
	if !slices.Contains(t.datasets, dataset) {
		t.datasets = append(t.datasets, dataset)
	}
	t.cells[[2]string{method, dataset}] = v
}

func (t *table) rows() [][]string {
	slices.SortStableFunc(t.methods, func(a, b string) int {
		ra, rb := t.rank[a], t.rank[b]
		switch {
		case ra == rb:
			return 0
		case ra == 0:
			return 1
		case rb == 0:
			return -1
		}
		return ra - rb
	})
	rows := [][]string{append([]string{"method"}, t.datasets...)}
	for _, m := range t.methods {
		row := []string{m}
		for _, d := range t.datasets {
			if v, ok := t.cells[[2]string{m, d}]; ok {
				row = append(row, fmt.Sprintf("%.4f", v))
			} else {
				row = append(row, "n/a")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func (t *table) write(w io.Writer, format, metric string) error {
	rows := t.rows()
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.WriteAll(rows)
		return cw.Error()
	case "markdown":
		fmt.Fprintf(w, "Test %s\n\n", metric)
		for i, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
			if i == 0 {
				fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(r)))
			}
		}
		return nil
	}
	return usageError{fmt.Errorf("unknown format %q (markdown or csv)", format)}
}
