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
// [n] after the value.
func (t *Table) rows() (rows [][]string, notes []string) {
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
	rows = [][]string{append([]string{"method"}, t.datasets...)}
	for _, m := range t.methods {
		row := []string{m}
		for _, d := range t.datasets {
			v, ok := t.cells[[2]string{m, d}]
			switch from, reused := t.from[[2]string{m, d}]; {
			case !ok:
				row = append(row, "n/a")
			case reused:
				notes = append(notes, fmt.Sprintf("%s (%s): %s", m, d, from))
				row = append(row, fmt.Sprintf("%.4f [%d]", v, len(notes)))
			default:
				row = append(row, fmt.Sprintf("%.4f", v))
			}
		}
		rows = append(rows, row)
	}
	return rows, notes
}

// Write prints the table as markdown or csv. Markdown marks each value
// read from an earlier run with [n] and says below the table which run
// and when; the others were computed now. CSV keeps every value a number
// and gives each dataset a column "<dataset> from" holding the earlier
// run of a cell (empty for a value computed now).
func (t *Table) Write(w io.Writer, format, metric string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.WriteAll(t.csvRows())
		return cw.Error()
	case "markdown":
		rows, notes := t.rows()
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
// by where its values were read from.
func (t *Table) csvRows() [][]string {
	rows, _ := t.rows()
	header := []string{"method"}
	for _, d := range t.datasets {
		header = append(header, d, d+" from")
	}
	out := [][]string{header}
	for _, r := range rows[1:] {
		row := []string{r[0]}
		for j, d := range t.datasets {
			value, _, _ := strings.Cut(r[j+1], " [") // the value without its mark
			row = append(row, value, t.from[[2]string{r[0], d}])
		}
		out = append(out, row)
	}
	return out
}
