package loaders

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/pipe-ml/pipe/data"
)

// readArrow reads the ratings of an Arrow IPC file (Feather v2), or of an
// Arrow IPC stream when the file lacks the file format's magic, record
// batch by record batch. The file is read whole and its metadata checked
// first (checkArrowIPC); arrow-go panics on some malformed input that
// passes, and that is a DataError here.
func (src *ratingSource) readArrow(path string, check *ratingChecker) (out []Rating, err error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	buf, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	if err := checkArrowIPC(buf); err != nil {
		return nil, dataErr(path, "not a readable Arrow IPC file or stream: %v", err)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, dataErr(path, "corrupt Arrow file: %v", r)
		}
	}()
	sc, next, release, err := arrowRecords(buf)
	if err != nil {
		return nil, dataErr(path, "%v", err)
	}
	defer release()
	names := make([]string, sc.NumFields())
	for i, fd := range sc.Fields() {
		names[i] = fd.Name
	}
	idx, err := src.resolveColumns(names, len(names), "schema")
	if err != nil {
		return nil, dataErr(path, "%v", err)
	}
	labels := src.columnLabels(names, idx)
	row := 1
	for b := 0; ; b++ {
		rec, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, dataErr(path, "record batch %d: %v", b, err)
		}
		var cols [nRoles]*valueColumn
		for r, i := range idx {
			if i < 0 {
				continue
			}
			// Every value of a column pipe reads takes a byte at least:
			// a longer column is corrupt, and would make pipe allocate
			// for rows the file cannot hold.
			if n := rec.Column(i).Len(); n > len(buf) {
				return nil, dataErr(path, "record batch %d, %s: %d rows in a %d-byte file", b, labels[r], n, len(buf))
			}
			if cols[r], err = arrowColumn(rec.Column(i)); err != nil {
				return nil, dataErr(path, "record batch %d, %s: %v", b, labels[r], err)
			}
		}
		if out, err = addColumns(path, row, cols, &labels, check, out); err != nil {
			return nil, err
		}
		row += int(rec.NumRows())
	}
	return out, nil
}

// arrowColumn copies an Arrow array into a valueColumn: strings and binary,
// integers, floats, timestamps and dates (in their own unit), and
// dictionaries of these.
func arrowColumn(a arrow.Array) (*valueColumn, error) {
	n := a.Len()
	c := &valueColumn{typ: a.DataType().String()}
	if a.NullN() > 0 {
		c.null = make([]bool, n)
		for i := range n {
			c.null[i] = a.IsNull(i)
		}
	}
	ints := func(at func(int) int64) {
		c.ints = make([]int64, n)
		for i := range n {
			c.ints[i] = at(i)
		}
	}
	switch a := a.(type) {
	case *array.Dictionary:
		values, err := arrowColumn(a.Dictionary())
		if err != nil {
			return nil, fmt.Errorf("dictionary values: %w", err)
		}
		rows := make([]int, n)
		for i := range n {
			rows[i] = -1
			if a.IsNull(i) {
				continue
			}
			if rows[i] = a.GetValueIndex(i); rows[i] < 0 || rows[i] >= values.len() {
				return nil, fmt.Errorf("dictionary index %d out of range (%d values)", rows[i], values.len())
			}
		}
		return values.gather(rows, c.typ), nil
	case *array.String:
		c.strs = make([]string, n)
		for i := range n {
			c.strs[i] = a.Value(i)
		}
	case *array.LargeString:
		c.strs = make([]string, n)
		for i := range n {
			c.strs[i] = a.Value(i)
		}
	case *array.Binary:
		c.strs = make([]string, n)
		for i := range n {
			c.strs[i] = string(a.Value(i))
		}
	case *array.LargeBinary:
		c.strs = make([]string, n)
		for i := range n {
			c.strs[i] = string(a.Value(i))
		}
	case *array.Int8:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Int16:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Int32:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Int64:
		ints(func(i int) int64 { return a.Value(i) })
	case *array.Uint8:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Uint16:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Uint32:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Uint64:
		c.unsigned = true
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Timestamp:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Date32:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Date64:
		ints(func(i int) int64 { return int64(a.Value(i)) })
	case *array.Float32:
		c.floats = make([]float64, n)
		for i := range n {
			c.floats[i] = float64(a.Value(i))
		}
	case *array.Float64:
		c.floats = make([]float64, n)
		for i := range n {
			c.floats[i] = a.Value(i)
		}
	default:
		return nil, fmt.Errorf("type %s is not supported; want integers, floats, strings, timestamps or dates", c.typ)
	}
	return c, nil
}
