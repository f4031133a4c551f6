package arrowio

// Streamed splits: a split file written a record batch at a time, and
// read a record batch at a time from a memory-mapped file, so that a
// dataset larger than memory trains with only a window of it resident.
// The file is an ordinary split file (ReadSplit reads it whole).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
)

// SplitWriter writes a split file record batch by record batch. The row
// count goes in the schema, which comes first in the file, so it is given
// up front and Close checks that the batches added up to it.
type SplitWriter struct {
	path   string
	f      *os.File
	bw     *bufio.Writer
	w      *ipc.FileWriter
	schema *arrow.Schema
	x, y   data.Schema
	rows   int
	wrote  int
}

// NewSplitWriter creates path for a split of rows examples of schemas x
// and y, of a fixed shape each (a ragged column's Arrow type depends on
// its total length, unknown before the last batch).
func NewSplitWriter(path string, x, y data.Schema, rows int) (*SplitWriter, error) {
	var fields [2]arrow.Field
	for i, c := range []struct {
		name string
		s    data.Schema
	}{{"x", x}, {"y", y}} {
		if slices.Contains(c.s.Shape, -1) {
			return nil, fmt.Errorf("column %s: a streamed split needs examples of a fixed shape, not %v", c.name, c.s.Shape)
		}
		typ, err := fixedArrowType(c.s)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		shape, _ := json.Marshal(shapeOrEmpty(c.s.Shape))
		fields[i] = arrow.Field{Name: c.name, Type: typ, Metadata: arrow.NewMetadata(
			[]string{arrowKeyDType, arrowKeyShape, arrowKeyClasses},
			[]string{string(c.s.DType), string(shape), strconv.Itoa(c.s.Classes)})}
	}
	md := arrow.NewMetadata(
		[]string{arrowKeyKind, arrowKeyVersion, arrowKeyRows, arrowKeyDigest},
		[]string{arrowKindSplit, arrowSplitVersion, strconv.Itoa(rows), splitDigest(rows, fields[:])})
	sw := &SplitWriter{path: path, schema: arrow.NewSchema(fields[:], &md), x: x, y: y, rows: rows}
	var err error
	if sw.f, err = os.Create(path); err != nil {
		return nil, err
	}
	sw.bw = bufio.NewWriterSize(sw.f, arrowIOBufferSize)
	if sw.w, err = ipc.NewFileWriter(sw.bw, ipc.WithSchema(sw.schema), ipc.WithAllocator(memory.DefaultAllocator)); err != nil {
		sw.abort()
		return nil, err
	}
	return sw, nil
}

// fixedArrowType is the Arrow type of a column of fixed-shape examples.
func fixedArrowType(s data.Schema) (arrow.DataType, error) {
	elem, ok := elemType(s.DType)
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q", s.DType)
	}
	if len(s.Shape) == 0 {
		return elem, nil
	}
	size, err := shapeSize(s.Shape)
	if err != nil {
		return nil, err
	}
	return arrow.FixedSizeListOfNonNullable(int32(size), elem), nil
}

// Write appends s as one record batch; an empty s writes nothing.
func (sw *SplitWriter) Write(s *data.Split) error {
	if !sameSchema(s.X.Schema, sw.x) || !sameSchema(s.Y.Schema, sw.y) {
		return sw.fail(fmt.Errorf("batch of %s -> %s in a split of %s -> %s", s.X.Schema, s.Y.Schema, sw.x, sw.y))
	}
	n, err := checkSplit(s)
	if err != nil {
		return sw.fail(err)
	}
	if n == 0 {
		return nil
	}
	if sw.wrote+n > sw.rows {
		return sw.fail(fmt.Errorf("%d rows written to a split of %d", sw.wrote+n, sw.rows))
	}
	var cols [2]arrow.Array
	for i, a := range []*data.Array{&s.X, &s.Y} {
		arr, _, err := arrowColumn(a)
		if err != nil {
			return sw.fail(err)
		}
		defer arr.Release()
		cols[i] = arr
	}
	rec := array.NewRecordBatch(sw.schema, cols[:], int64(n))
	defer rec.Release()
	if err := sw.w.Write(rec); err != nil {
		return sw.fail(err)
	}
	sw.wrote += n
	return nil
}

func sameSchema(a, b data.Schema) bool {
	return a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && a.Classes == b.Classes
}

// Close finishes the file; fewer rows than announced is an error, and the
// file is removed.
func (sw *SplitWriter) Close() error {
	if sw.f == nil {
		return fmt.Errorf("writing %s: the writer failed before", sw.path)
	}
	if sw.wrote != sw.rows {
		return sw.fail(fmt.Errorf("%d rows written to a split of %d", sw.wrote, sw.rows))
	}
	if err := sw.w.Close(); err != nil {
		return sw.fail(err)
	}
	if err := sw.bw.Flush(); err != nil {
		return sw.fail(err)
	}
	err := sw.f.Close()
	sw.f = nil
	if err != nil {
		os.Remove(sw.path)
		return fmt.Errorf("writing %s: %w", sw.path, err)
	}
	return nil
}

// fail removes the partial file and names it in err.
func (sw *SplitWriter) fail(err error) error {
	sw.abort()
	return fmt.Errorf("writing %s: %w", sw.path, err)
}

func (sw *SplitWriter) abort() {
	if sw.f != nil {
		sw.f.Close()
		os.Remove(sw.path)
		sw.f = nil
	}
}
