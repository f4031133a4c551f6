package loaders

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// tableRaw holds the columns a table loader needs, from every file, as
// trimmed strings: a CSV holds nothing else, and Parquet and Arrow values
// are formatted as Arrow does (shortest round-trip floats, integers in
// decimal), so that the same table in any format loads the same dataset.
// Each row remembers its file and place there, for errors.
type tableRaw struct {
	files   []tableFile
	names   []string   // the wanted columns
	cols    [][]string // [column][row]
	missing [][]bool   // [column][row]: null, or one of the missing values
	rowFile []int32
	rowAt   []int32 // CSV: line of the record's start; Parquet, Arrow: 1-based row
	nulls   map[string]bool

	// A streamed read (data.stream) hands its rows to flush in chunks of
	// at least chunk rows (CSV: exactly chunk; Parquet: a row group; Arrow:
	// a record batch) and starts each chunk empty; total counts them all.
	chunk int
	flush func(*tableRaw) error
	total int
}

type tableFile struct {
	path  string
	lines bool // rows are named by line (CSV), else by row number
}

func newTableRaw(names, missingValues []string) *tableRaw {
	r := &tableRaw{names: names, cols: make([][]string, len(names)), missing: make([][]bool, len(names)), nulls: map[string]bool{}}
	for _, v := range missingValues {
		r.nulls[strings.TrimSpace(v)] = true
	}
	return r
}

func (r *tableRaw) len() int { return len(r.rowFile) }

// rowsDone ends a chunk of a streamed read when it holds chunk rows, or
// with last whatever it holds: flush gets the rows, then they are dropped
// (the column slices are reused: flush keeps none of them).
func (r *tableRaw) rowsDone(last bool) error {
	n := r.len()
	if r.flush == nil || n == 0 || n < r.chunk && !last {
		return nil
	}
	err := r.flush(r)
	r.total += n
	for j := range r.cols {
		clear(r.cols[j]) // let the strings go
		r.cols[j], r.missing[j] = r.cols[j][:0], r.missing[j][:0]
	}
	r.rowFile, r.rowAt = r.rowFile[:0], r.rowAt[:0]
	return err
}

// addFile starts the rows of another file and returns its index.
func (r *tableRaw) addFile(path string, lines bool) int32 {
	r.files = append(r.files, tableFile{path: path, lines: lines})
	return int32(len(r.files) - 1)
}

// add appends value to column j; null marks a Parquet or Arrow null.
func (r *tableRaw) add(j int, value string, null bool) {
	value = strings.TrimSpace(value)
	r.cols[j] = append(r.cols[j], value)
	r.missing[j] = append(r.missing[j], null || r.nulls[value])
}

// errAt is a DataError about the cell of row and column j (-1: the row).
// A CSV row is named by its line, in the path as an editor takes it
// (file.csv:12); a Parquet or Arrow row by its number.
func (r *tableRaw) errAt(row, j int, format string, args ...any) error {
	f := r.files[r.rowFile[row]]
	msg := fmt.Sprintf(format, args...)
	if j >= 0 {
		msg = fmt.Sprintf("column %q: %s", r.names[j], msg)
	}
	if f.lines {
		return &data.DataError{Path: fmt.Sprintf("%s:%d", f.path, r.rowAt[row]), Err: fmt.Errorf("%s", msg)}
	}
	return &data.DataError{Path: f.path, Err: fmt.Errorf("row %d, %s", r.rowAt[row], msg)}
}

// where names a row for messages that are not errors.
func (r *tableRaw) where(row int) string {
	f := r.files[r.rowFile[row]]
	if f.lines {
		return fmt.Sprintf("%s:%d", f.path, r.rowAt[row])
	}
	return fmt.Sprintf("%s row %d", f.path, r.rowAt[row])
}

// columnIndex finds each wanted column among a file's columns, or names
// the first one missing, with the closest name and the columns the file
// has.
func columnIndex(path string, have, want []string) ([]int, error) {
	at := map[string]int{}
	for i, h := range have {
		if _, dup := at[h]; dup {
			at[h] = -1 // ambiguous; an error only if wanted
			continue
		}
		at[h] = i
	}
	idx := make([]int, len(want))
	for j, w := range want {
		i, ok := at[w]
		if !ok {
			// Suggest only columns no other role takes: sepal_lenght, not
			// the petal_length that is already a feature.
			free := slices.DeleteFunc(slices.Clone(have), func(h string) bool { return slices.Contains(want, h) })
			return nil, dataErr(path, "no column %q%s; the file's columns: %s", w, suggestColumn(w, free), listColumns(have))
		}
		if i < 0 {
			return nil, dataErr(path, "two columns are called %q", w)
		}
		idx[j] = i
	}
	return idx, nil
}

func suggestColumn(name string, have []string) string {
	if s := spec.Suggest(name, have); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	for _, h := range have { // case alone is past Suggest's distance for short names
		if strings.EqualFold(h, name) {
			return fmt.Sprintf(" (did you mean %q?)", h)
		}
	}
	return ""
}

// listColumns quotes a file's column names, the first 40 of them.
func listColumns(have []string) string {
	const most = 40
	q := make([]string, 0, min(len(have), most))
	for _, h := range have[:min(len(have), most)] {
		q = append(q, strconv.Quote(h))
	}
	s := strings.Join(q, ", ")
	if len(have) > most {
		s += fmt.Sprintf(" and %d more", len(have)-most)
	}
	if len(have) == 0 {
		s = "none"
	}
	return s
}

// tableFiles resolves the loader's path against the data directory: the
// file, or the files a glob matches, sorted.
func (t *Table) tableFiles(dataDir string) ([]string, error) {
	full := t.Path
	if !filepath.IsAbs(full) {
		full = filepath.Join(dataDir, full)
	}
	if !hasMeta(t.Path) {
		return []string{full}, nil
	}
	matches, err := filepath.Glob(full)
	if err != nil {
		return nil, dataErr(full, "bad glob: %v", err)
	}
	var files []string
	for _, m := range matches { // Glob sorts them
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil, dataErr(full, "no file matches the table's path")
	}
	return files, nil
}

// tableFormat is the format of one file: the loader's, or by extension.
func (t *Table) tableFormat(path string) (string, error) {
	if t.Format != "auto" && t.Format != "" {
		return t.Format, nil
	}
	if f, ok := formatByExt(path); ok {
		return f, nil
	}
	return "", dataErr(path, "cannot tell the format from the extension %q: set format (csv, tsv, parquet or arrow)", filepath.Ext(path))
}

func formatByExt(path string) (string, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv", true
	case ".tsv", ".tab":
		return "tsv", true
	case ".parquet", ".pq":
		return "parquet", true
	case ".arrow", ".feather", ".ipc":
		return "arrow", true
	}
	return "", false
}

// wanted lists the columns the loader reads: the features, the target and
// the split column.
func (t *Table) wanted() []string {
	var names []string
	for _, c := range t.Features {
		names = append(names, c.Column)
	}
	names = append(names, t.Target)
	if t.SplitColumn != "" {
		names = append(names, t.SplitColumn)
	}
	return names
}

// readFiles reads the wanted columns of every file into one table.
func (t *Table) readFiles(files []string, want []string) (*tableRaw, error) {
	raw := newTableRaw(want, t.MissingValues)
	if err := t.readInto(raw, files); err != nil {
		return nil, err
	}
	return raw, nil
}

// readInto reads the wanted columns of every file into raw, a chunk at a
// time when raw has a flush.
func (t *Table) readInto(raw *tableRaw, files []string) error {
	for _, path := range files {
		format, err := t.tableFormat(path)
		if err != nil {
			return err
		}
		switch format {
		case "csv", "tsv":
			delim := ','
			if format == "tsv" {
				delim = '\t'
			}
			if t.Delimiter != "" {
				delim = []rune(t.Delimiter)[0]
			}
			err = readTableCSV(raw, path, delim)
		case "parquet":
			err = readTableParquet(raw, path)
		case "arrow":
			err = readTableArrow(raw, path)
		}
		if err != nil {
			return err
		}
	}
	if err := raw.rowsDone(true); err != nil {
		return err
	}
	if raw.len()+raw.total == 0 {
		return dataErr(strings.Join(files, ", "), "no data rows: the table is empty")
	}
	return nil
}
