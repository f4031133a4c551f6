package evaluators

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Table is pipe compare's results table: it holds one value per (method, dataset), in order of first appearance.
type Table struct {
	methods, datasets []string
	cells             map[[2]string]float64
	// spread is a cell's sample standard deviation over its folds or
	// seeds, for the cells that have one (pipe compare of a cv: spec).
	spread map[[2]string]float64
	rank   map[string]int // report.row of a method; 0 sorts last
	// from says where a cell's value was read rather than computed now:
	// an earlier run, and when it was made.
	from map[[2]string]string
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
	delete(t.from, [2]string{method, dataset})
	delete(t.spread, [2]string{method, dataset})
}

// SetSpread puts the mean of n folds or seeded samples in the cell, with
// their sample standard deviation: the table prints "mean ± std".
func (t *Table) SetSpread(method, dataset string, mean, std float64, row int) {
	t.Set(method, dataset, mean, row)
	if t.spread == nil {
		t.spread = map[[2]string]float64{}
	}
	t.spread[[2]string{method, dataset}] = std
}

// HigherIsBetter says whether a larger value of the metric (or of its
// validation series, val_NAME) is the better one: accuracy-like names;
// losses and errors (rmse, mae, loss) are lower-better.
func HigherIsBetter(metric string) bool {
	base := strings.TrimPrefix(metric, "val_")
	for _, h := range []string{"accuracy", "auc", "f1", "precision", "recall"} {
		if strings.Contains(base, h) {
			return true
		}
	}
	return false
}

// best says, per dataset, which methods have the column's best value of
// metric (ties at the printed 4 decimals all count); a column with fewer
// than two values has none, there being nothing to compare.
func (t *Table) best(metric string) map[[2]string]bool {
	higher := HigherIsBetter(metric)
	marks := map[[2]string]bool{}
	for _, d := range t.datasets {
		var top string
		n := 0
		for _, m := range t.methods {
			v, ok := t.cells[[2]string{m, d}]
			if !ok {
				continue
			}
			n++
			s := fmt.Sprintf("%.4f", v)
			if b, _ := strconv.ParseFloat(top, 64); top == "" || (higher && v > b) || (!higher && v < b) {
				top = s
			}
		}
		for _, m := range t.methods {
			if v, ok := t.cells[[2]string{m, d}]; ok && n > 1 && fmt.Sprintf("%.4f", v) == top {
				marks[[2]string{m, d}] = true
			}
		}
	}
	return marks
}

// value is a cell as printed: "0.9189", or "0.9189 ± 0.0049" with a
// spread.
func (t *Table) value(cell [2]string) string {
	if sd, ok := t.spread[cell]; ok {
		return fmt.Sprintf("%.4f ± %.4f", t.cells[cell], sd)
	}
	return fmt.Sprintf("%.4f", t.cells[cell])
}

// SetFrom puts v in the cell (method, dataset) as Set does, marking it as
// read from an earlier run: from names the run and when it was made.
func (t *Table) SetFrom(method, dataset string, v float64, row int, from string) {
	t.Set(method, dataset, v, row)
	if t.from == nil {
		t.from = map[[2]string]string{}
	}
	t.from[[2]string{method, dataset}] = from
}

// rows lays out the table; notes are the cells read from earlier runs,
// numbered in reading order, and a marked cell carries its number as
// [n] after the value. The best value of each column is in bold.
func (t *Table) rows(metric string) (rows [][]string, notes []string) {
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
	best := t.best(metric)
	rows = [][]string{append([]string{"method"}, t.datasets...)}
	for _, m := range t.methods {
		row := []string{m}
		for _, d := range t.datasets {
			cell := [2]string{m, d}
			_, ok := t.cells[cell]
			v := t.value(cell)
			if best[cell] {
				v = "**" + v + "**"
			}
			switch from, reused := t.from[cell]; {
			case !ok:
				row = append(row, "n/a")
			case reused:
				notes = append(notes, fmt.Sprintf("%s (%s): %s", m, d, from))
				row = append(row, fmt.Sprintf("%s [%d]", v, len(notes)))
			default:
				row = append(row, v)
			}
		}
		rows = append(rows, row)
	}
	return rows, notes
}

// Write prints the table as markdown or csv. Markdown prints a cell with
// folds or seeds as "mean ± std", the best of each column (lowest, or
// highest for accuracy-like metrics) in bold, and marks each value read
// from an earlier run with [n], saying below the table which run and
// when; the others were computed now. CSV keeps every value a number and
// gives each dataset the columns "<dataset> std" (when a cell of the
// table has one; empty for a single run), "<dataset> best" ("*" on the
// column's best) and "<dataset> from" holding the earlier run of a cell
// (empty for a value computed now).
func (t *Table) Write(w io.Writer, format, metric string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.WriteAll(t.csvRows(metric))
		return cw.Error()
	case "markdown":
		rows, notes := t.rows(metric)
		fmt.Fprintf(w, "Test %s\n\n", metric)
		for i, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
			if i == 0 {
				fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(r)))
			}
		}
		if len(notes) > 0 {
			fmt.Fprintln(w)
			for i, n := range notes {
				fmt.Fprintf(w, "[%d] %s\n", i+1, n)
			}
			fmt.Fprintln(w, "\nValues marked [n] come from earlier runs of the same spec, data and pipe version (--rerun runs them again).")
		}
		return nil
	}
	return fmt.Errorf("unknown format %q (markdown or csv)", format)
}

// csvRows is the table with plain values, each dataset's column followed
// by its spread (when the table has one), its best mark and where its
// values were read from.
func (t *Table) csvRows(metric string) [][]string {
	rows, _ := t.rows(metric)
	best := t.best(metric)
	spread := len(t.spread) > 0
	header := []string{"method"}
	for _, d := range t.datasets {
		header = append(header, d)
		if spread {
			header = append(header, d+" std")
		}
		header = append(header, d+" best", d+" from")
	}
	out := [][]string{header}
	for _, r := range rows[1:] {
		row := []string{r[0]}
		for _, d := range t.datasets {
			cell := [2]string{r[0], d}
			v, ok := t.cells[cell]
			value := "n/a"
			if ok {
				value = fmt.Sprintf("%.4f", v)
			}
			row = append(row, value)
			if spread {
				sd := ""
				if s, ok := t.spread[cell]; ok {
					sd = fmt.Sprintf("%.4f", s)
				}
				row = append(row, sd)
			}
			mark := ""
			if best[cell] {
				mark = "*"
			}
			row = append(row, mark, t.from[cell])
		}
		out = append(out, row)
	}
	return out
}
