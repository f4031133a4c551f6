package evaluators

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Table is pipe compare's results table: it holds one value per (method, dataset), in order of first appearance.
type Table struct {
	methods, datasets []string
	cells             map[[2]string]float64
	rank              map[string]int // report.row of a method; 0 sorts last
}

// Set puts v in the cell (method, dataset); row is the method's report.row.
func (t *Table) Set(method, dataset string, v float64, row int) {
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

func (t *Table) rows() [][]string {
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

// Write prints the table as markdown or csv.
func (t *Table) Write(w io.Writer, format, metric string) error {
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
	return fmt.Errorf("unknown format %q (markdown or csv)", format)
}
