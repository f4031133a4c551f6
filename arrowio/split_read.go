package arrowio

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
)

// ReadSplit reads a split written by WriteSplit.
//
// The file is memory-mapped and, when it holds one record batch (as
// WriteSplit writes), the returned Float and Int slices point into the
// mapping: nothing is copied and pages load on first touch. The mapping is
// copy-on-write (MAP_PRIVATE), so writing into the slices is allowed and
// never reaches the file. The slices are valid until the Closer is closed;
// close it only when nothing uses the split any more. A file with several
// record batches is concatenated into ordinary Go slices and unmapped at
// once (its Closer does nothing).
//
// Every structural property is checked: a corrupt, truncated or foreign file
// is an error, never a panic. The file must not be truncated by another
// process while mapped (the usual mmap caveat: touching pages past the new
// end faults).
func ReadSplit(path string) (data.Split, io.Closer, error) {
	mapped, unmap, err := mapFile(path)
	if err != nil {
		return data.Split{}, nil, err
	}
	s, zeroCopy, err := decodeSplitArrow(mapped)
	if err != nil {
		unmap()
		return data.Split{}, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !zeroCopy {
		unmap()
		return s, io.NopCloser(nil), nil
	}
	return s, &arrowMapping{data: mapped, unmap: unmap}, nil
}

// arrowMapping is the Closer of a zero-copy split: it unmaps the file once.
type arrowMapping struct {
	data  []byte
	unmap func() error
	once  sync.Once
	err   error
}

func (m *arrowMapping) Close() error {
	m.once.Do(func() { m.err = m.unmap(); m.data = nil })
	return m.err
}

// decodeSplitArrow decodes a split file held in data. zeroCopy reports
// whether the split's slices point into data.
func decodeSplitArrow(buf []byte) (s data.Split, zeroCopy bool, err error) {
	// arrow-go panics on some malformed input; a fault while reading the
	// mapping (the file shrank under us) panics too with this set.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			s, zeroCopy, err = data.Split{}, false, fmt.Errorf("corrupt Arrow file: %v", r)
		}
	}()

	blocks, err := checkArrowFile(buf)
	if err != nil {
		return s, false, err
	}
	// WithEnsureNativeEndian(false): arrow-go would otherwise byte-swap a
	// big-endian file in place, inside the mapping; such files are refused
	// below instead.
	r, err := ipc.NewMappedFileReader(buf, ipc.WithEnsureNativeEndian(false), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return s, false, err
	}
	defer r.Close()
	schema := r.Schema()
	cols, rows, err := splitSchema(schema)
	if err != nil {
		return s, false, err
	}
	if r.NumRecords() != len(blocks) || len(blocks) == 0 {
		return s, false, fmt.Errorf("the file holds %d record batches; want at least one", r.NumRecords())
	}

	parts := make([][2]data.Array, r.NumRecords())
	total := 0
	for i := range parts {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			return s, false, fmt.Errorf("record batch %d: %w", i, err)
		}
		n := rec.NumRows()
		for c := range cols {
			if parts[i][c], err = columnFromArrow(rec.Column(c), n, cols[c]); err != nil {
				rec.Release()
				return s, false, fmt.Errorf("record batch %d, column %s: %w", i, schema.Field(c).Name, err)
			}
		}
		rec.Release() // buffers are views of data; releasing frees nothing
		total += int(n)
	}
	if total != rows {
		return s, false, fmt.Errorf("the record batches hold %d rows but the schema says %d (truncated?)", total, rows)
	}
	if len(parts) == 1 {
		return data.Split{X: parts[0][0], Y: parts[0][1]}, true, nil
	}
	return data.Split{X: concatArrays(parts, 0), Y: concatArrays(parts, 1)}, false, nil
}

// arrowColumnSpec is what the schema says about one split column.
type arrowColumnSpec struct {
	data.Schema
	ragged bool
	size   int // elements per example when not ragged
}

// splitSchema checks that schema is a split file's: columns x and y with
// pipe metadata agreeing with their Arrow types. It returns the columns and
// the declared row count.
func splitSchema(schema *arrow.Schema) ([2]arrowColumnSpec, int, error) {
	var cols [2]arrowColumnSpec
	if !schema.IsNativeEndian() {
		return cols, 0, errors.New("the file is big-endian; only little-endian files are read")
	}
	md := schema.Metadata()
	if kind, _ := md.GetValue(arrowKeyKind); kind != arrowKindSplit {
		return cols, 0, fmt.Errorf("not a pipe split file (%s is %q)", arrowKeyKind, kind)
	}
	if v, _ := md.GetValue(arrowKeyVersion); v != arrowSplitVersion {
		return cols, 0, fmt.Errorf("unsupported split file version %q (this pipe reads %s)", v, arrowSplitVersion)
	}
	rowsText, _ := md.GetValue(arrowKeyRows)
	rows, err := strconv.Atoi(rowsText)
	if err != nil || rows < 0 {
		return cols, 0, fmt.Errorf("bad %s %q", arrowKeyRows, rowsText)
	}
	if schema.NumFields() != 2 || schema.Field(0).Name != "x" || schema.Field(1).Name != "y" {
		names := make([]string, schema.NumFields())
		for i, f := range schema.Fields() {
			names[i] = f.Name
		}
		return cols, 0, fmt.Errorf("columns %q; want [x y]", names)
	}
	for i := range cols {
		f := schema.Field(i)
		if cols[i], err = columnSpec(f); err != nil {
			return cols, 0, fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	if digest, ok := md.GetValue(arrowKeyDigest); ok && digest != splitDigest(rows, schema.Fields()) {
		return cols, 0, fmt.Errorf("the pipe metadata does not match its checksum %s (corrupt file)", digest)
	}
	return cols, rows, nil
}

// elemType is the Arrow type of a dtype's values.
func elemType(d data.DType) (arrow.DataType, bool) {
	switch d {
	case data.Float32:
		return arrow.PrimitiveTypes.Float32, true
	case data.Int32:
		return arrow.PrimitiveTypes.Int32, true
	case data.Uint8:
		return arrow.PrimitiveTypes.Uint8, true
	}
	return nil, false
}

// columnSpec reads a column's pipe metadata and checks its Arrow type.
func columnSpec(f arrow.Field) (arrowColumnSpec, error) {
	var c arrowColumnSpec
	dtype, _ := f.Metadata.GetValue(arrowKeyDType)
	c.DType = data.DType(dtype)
	elem, ok := elemType(c.DType)
	if !ok {
		return c, fmt.Errorf("bad %s %q", arrowKeyDType, dtype)
	}
	shapeText, _ := f.Metadata.GetValue(arrowKeyShape)
	if err := json.Unmarshal([]byte(shapeText), &c.Shape); err != nil || c.Shape == nil {
		return c, fmt.Errorf("bad %s %q", arrowKeyShape, shapeText)
	}
	classesText, _ := f.Metadata.GetValue(arrowKeyClasses)
	var err error
	if c.Classes, err = strconv.Atoi(classesText); err != nil || c.Classes < 0 {
		return c, fmt.Errorf("bad %s %q", arrowKeyClasses, classesText)
	}
	if slices.Equal(c.Shape, []int{-1}) {
		c.ragged = true
		var got arrow.DataType
		switch t := f.Type.(type) {
		case *arrow.ListType:
			got = t.Elem()
		case *arrow.LargeListType:
			got = t.Elem()
		}
		if got == nil || !arrow.TypeEqual(got, elem) {
			return c, fmt.Errorf("ragged %s column has Arrow type %s; want list<%s>", c.DType, f.Type, elem)
		}
		return c, nil
	}
	if c.size, err = shapeSize(c.Shape); err != nil {
		return c, err
	}
	if len(c.Shape) == 0 {
		if !arrow.TypeEqual(f.Type, elem) {
			return c, fmt.Errorf("scalar %s column has Arrow type %s", c.DType, f.Type)
		}
		return c, nil
	}
	t, ok := f.Type.(*arrow.FixedSizeListType)
	if !ok || !arrow.TypeEqual(t.Elem(), elem) || int(t.Len()) != c.size {
		return c, fmt.Errorf("%s column of shape %v has Arrow type %s; want fixed_size_list<%s>[%d]", c.DType, c.Shape, f.Type, elem, c.size)
	}
	return c, nil
}

// columnFromArrow turns one batch's column of n rows into a data.Array
// whose values are views of the Arrow buffers.
func columnFromArrow(arr arrow.Array, n int64, c arrowColumnSpec) (data.Array, error) {
	out := data.Array{Schema: data.Schema{DType: c.DType, Shape: slices.Clone(c.Shape), Classes: c.Classes}}
	if int64(arr.Len()) != n {
		return out, fmt.Errorf("%d rows in a batch of %d", arr.Len(), n)
	}
	if arr.NullN() != 0 {
		return out, fmt.Errorf("%d nulls", arr.NullN())
	}
	var values arrow.Array
	from, count := int64(0), n // the range of values
	switch {
	case c.ragged:
		data := arr.Data()
		values = array.MakeFromData(data.Children()[0])
		defer values.Release()
		offsets, err := listOffsets(data, n, int64(values.Len()))
		if err != nil {
			return out, err
		}
		from, count = offsets[0], offsets[n]-offsets[0]
		out.Offsets = make([]int, n+1)
		for i, o := range offsets {
			out.Offsets[i] = int(o - from)
		}
	case len(c.Shape) == 0:
		values = arr
	default:
		fsl := arr.(*array.FixedSizeList)
		values = fsl.ListValues()
		from, count = int64(arr.Data().Offset())*int64(c.size), n*int64(c.size)
	}
	if values.NullN() != 0 {
		return out, fmt.Errorf("%d null values", values.NullN())
	}
	var err error
	switch c.DType {
	case data.Int32:
		out.Int, err = valuesOf[int32](values, from, count)
	case data.Uint8:
		out.Bytes, err = valuesOf[uint8](values, from, count)
	default:
		out.Float, err = valuesOf[float32](values, from, count)
	}
	return out, err
}

// listOffsets reads and checks the n+1 offsets of a list (32-bit) or large
// list (64-bit) array whose child has childLen values.
func listOffsets(data arrow.ArrayData, n, childLen int64) ([]int64, error) {
	width := int64(4)
	if data.DataType().ID() == arrow.LARGE_LIST {
		width = 8
	}
	buf := data.Buffers()[1]
	first := int64(data.Offset())
	if buf == nil || int64(buf.Len())/width < first+n+1 {
		return nil, fmt.Errorf("offsets buffer too short for %d rows", n)
	}
	raw := buf.Bytes()[first*width : (first+n+1)*width]
	off := make([]int64, n+1)
	for i := range off {
		if width == 4 {
			off[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		} else {
			off[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	if off[0] < 0 {
		return nil, fmt.Errorf("negative offset %d", off[0])
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return nil, fmt.Errorf("offsets decrease at row %d (%d then %d)", i-1, off[i-1], off[i])
		}
	}
	if off[n] > childLen {
		return nil, fmt.Errorf("last offset %d is past the %d values", off[n], childLen)
	}
	return off, nil
}

// valuesOf returns values [from, from+count) of a primitive array as a
// slice over its buffer, without copying when the buffer is aligned.
func valuesOf[T int32 | float32 | uint8](a arrow.Array, from, count int64) ([]T, error) {
	data := a.Data()
	if len(data.Buffers()) < 2 {
		return nil, errors.New("malformed primitive array")
	}
	from += int64(data.Offset())
	if from < 0 || count < 0 || from+count > int64(data.Offset()+data.Len()) {
		return nil, fmt.Errorf("values %d..%d past the %d in the column", from, from+count, data.Len())
	}
	if count == 0 {
		return []T{}, nil
	}
	var zero T
	width := int64(unsafe.Sizeof(zero))
	buf := data.Buffers()[1]
	if buf == nil || int64(buf.Len())/width < from+count {
		return nil, fmt.Errorf("values buffer too short for %d values", from+count)
	}
	raw := buf.Bytes()[from*width : (from+count)*width]
	if uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%uintptr(width) != 0 {
		out := make([]T, count) // a misaligned buffer: copy it out
		copy(bytesOf(out), raw)
		return out, nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(raw))), count), nil
}

// concatArrays joins column c of several batches into fresh slices.
func concatArrays(parts [][2]data.Array, c int) data.Array {
	out := data.Array{Schema: parts[0][c].Schema}
	var nFloat, nInt, nBytes, nOff int
	for _, p := range parts {
		nFloat += len(p[c].Float)
		nInt += len(p[c].Int)
		nBytes += len(p[c].Bytes)
		nOff += len(p[c].Offsets)
	}
	switch out.DType {
	case data.Int32:
		out.Int = make([]int32, 0, nInt)
	case data.Uint8:
		out.Bytes = make([]uint8, 0, nBytes)
	default:
		out.Float = make([]float32, 0, nFloat)
	}
	if parts[0][c].Ragged() {
		out.Offsets = make([]int, 1, nOff)
	}
	for _, p := range parts {
		a := p[c]
		base := out.Values()
		out.Int = append(out.Int, a.Int...)
		out.Float = append(out.Float, a.Float...)
		out.Bytes = append(out.Bytes, a.Bytes...)
		if a.Ragged() {
			for _, o := range a.Offsets[1:] {
				out.Offsets = append(out.Offsets, base+o)
			}
		}
	}
	return out
}
