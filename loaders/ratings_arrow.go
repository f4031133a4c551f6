package loaders

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/fbcheck"
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
	r := bytes.NewReader(buf)
	mem := memory.NewGoAllocator()
	var (
		sc   *arrow.Schema
		next func() (arrow.RecordBatch, error) // nil, io.EOF after the last
	)
	if bytes.HasPrefix(buf, []byte(fbcheck.Magic)) {
		fr, err := ipc.NewFileReader(r, ipc.WithAllocator(mem))
		if err != nil {
			return nil, dataErr(path, "not a readable Arrow IPC file: %v", err)
		}
		defer fr.Close()
		sc = fr.Schema()
		i := 0
		next = func() (arrow.RecordBatch, error) {
			if i == fr.NumRecords() {
				return nil, io.EOF
			}
			i++
			return fr.RecordBatch(i - 1) // the reader releases it at the next call
		}
	} else {
		sr, err := ipc.NewReader(r, ipc.WithAllocator(mem))
		if err != nil {
			return nil, dataErr(path, "neither an Arrow IPC file nor an Arrow IPC stream: %v", err)
		}
		defer sr.Release()
		sc = sr.Schema()
		next = func() (arrow.RecordBatch, error) {
			if sr.Next() {
				return sr.RecordBatch(), nil // valid until the next call
			}
			if err := sr.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
	}
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
