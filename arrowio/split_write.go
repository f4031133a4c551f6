// Package arrowio reads and writes the Arrow IPC (Feather v2) files of pipe:
// dataset splits for the cache, and a run's predictions and history. Its reader
// verifies a file's flatbuffers before arrow-go reads them, so a corrupt or
// hostile file is an error, never a crash.
package arrowio

// Arrow IPC intermediates: a dataset split as an Arrow IPC file (Feather v2),
// written from and read back into data.Split without copying the example
// data. The file is ordinary Arrow, readable by pyarrow, polars, DuckDB or
// apache-arrow in JavaScript; pipe's own metadata rides in field and schema
// metadata so that the reader restores the exact data.Array.
//
// Layout of a split file:
//
//	schema metadata  pipe.kind = "split", pipe.version = "1", pipe.rows = N
//	column x, y      one row per example:
//	  shape []        float32 / int32 / uint8
//	  shape [d1,...]  FixedSizeList<float32 / int32 / uint8>[d1*...]
//	  shape [-1]      List<float32 / int32 / uint8> (ragged; LargeList past 2^31-1 elements)
//	field metadata   pipe.dtype, pipe.shape (JSON), pipe.classes
//	schema metadata  pipe.meta_crc32: CRC-32 of the above (see splitDigest)
//
// Columns are written as one record batch and never hold nulls.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
)

// Metadata keys and values of pipe's Arrow files.
const (
	arrowKeyKind    = "pipe.kind"
	arrowKeyVersion = "pipe.version"
	arrowKeyRows    = "pipe.rows"
	arrowKeyDType   = "pipe.dtype"
	arrowKeyShape   = "pipe.shape"
	arrowKeyClasses = "pipe.classes"
	arrowKeyDigest  = "pipe.meta_crc32"

	arrowKindSplit    = "split"
	arrowSplitVersion = "1"
)

// arrowIOBufferSize is the write buffer in front of the file: large enough
// that the IPC writer's many small writes (metadata, padding) do not each
// become a system call, small next to the column data.
const arrowIOBufferSize = 1 << 20

// WriteSplit writes s to path as one Arrow IPC file with columns x and
// y. The column data is handed to the IPC writer without copying: the Arrow
// buffers are views of s's slices, alive for the duration of the call.
func WriteSplit(path string, s *data.Split) error {
	n, err := checkSplit(s)
	if err != nil {
		return err
	}
	var cols [2]arrow.Array
	var fields [2]arrow.Field
	for i, c := range []struct {
		name string
		a    *data.Array
	}{{"x", &s.X}, {"y", &s.Y}} {
		arr, typ, err := arrowColumn(c.a)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		defer arr.Release()
		shape, _ := json.Marshal(shapeOrEmpty(c.a.Shape))
		fields[i] = arrow.Field{Name: c.name, Type: typ, Metadata: arrow.NewMetadata(
			[]string{arrowKeyDType, arrowKeyShape, arrowKeyClasses},
			[]string{string(c.a.DType), string(shape), strconv.Itoa(c.a.Classes)})}
		cols[i] = arr
	}
	md := arrow.NewMetadata(
		[]string{arrowKeyKind, arrowKeyVersion, arrowKeyRows, arrowKeyDigest},
		[]string{arrowKindSplit, arrowSplitVersion, strconv.Itoa(n), splitDigest(n, fields[:])})
	schema := arrow.NewSchema(fields[:], &md)
	rec := array.NewRecordBatch(schema, cols[:], int64(n))
	defer rec.Release()
	return writeArrowFile(path, rec)
}

// splitDigest is the CRC-32 (IEEE, hex) of the pipe metadata that decides
// how the reader interprets the columns: row count, and each column's name,
// dtype, shape and classes. Arrow files carry no checksum, and a flipped
// digit in a metadata value ("classes": 4 -> 5) would otherwise read as a
// valid, different split. The key is optional for readers, so that another
// tool can write a split file without computing it.
func splitDigest(rows int, fields []arrow.Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows=%d", rows)
	for _, f := range fields {
		b.WriteString("\n" + f.Name)
		for _, k := range []string{arrowKeyDType, arrowKeyShape, arrowKeyClasses} {
			v, _ := f.Metadata.GetValue(k)
			b.WriteString("|" + v)
		}
	}
	return fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(b.String())))
}

// checkSplit checks that s's columns are well formed and agree on the
// number of examples, which it returns: a malformed split is refused rather
// than written as a file the reader would reject.
func checkSplit(s *data.Split) (int, error) {
	nx, err := checkArray(&s.X)
	if err != nil {
		return 0, fmt.Errorf("column x: %w", err)
	}
	ny, err := checkArray(&s.Y)
	if err != nil {
		return 0, fmt.Errorf("column y: %w", err)
	}
	if nx != ny {
		return 0, fmt.Errorf("column x has %d examples but column y has %d", nx, ny)
	}
	return nx, nil
}

// checkArray returns a's number of examples, or why a is inconsistent.
func checkArray(a *data.Array) (int, error) {
	var values int
	switch a.DType {
	case data.Float32, data.Int32, data.Uint8:
		// Values in a slice that DType does not name would be dropped.
		if held := len(a.Float) + len(a.Int) + len(a.Bytes); held != a.Values() {
			return 0, fmt.Errorf("dtype %s but %d float32, %d int32 and %d uint8 values", a.DType, len(a.Float), len(a.Int), len(a.Bytes))
		}
		values = a.Values()
	default:
		return 0, fmt.Errorf("unsupported dtype %q", a.DType)
	}
	if a.Classes < 0 {
		return 0, fmt.Errorf("negative classes %d", a.Classes)
	}
	if a.Ragged() {
		if !slices.Equal(a.Shape, []int{-1}) {
			return 0, fmt.Errorf("ragged column with shape %v; want [-1]", a.Shape)
		}
		if err := checkOffsets(a.Offsets, values); err != nil {
			return 0, err
		}
		return len(a.Offsets) - 1, nil
	}
	size, err := shapeSize(a.Shape)
	if err != nil {
		return 0, err
	}
	if values%size != 0 {
		return 0, fmt.Errorf("%d values are not a whole number of examples of shape %v", values, a.Shape)
	}
	return values / size, nil
}

// shapeSize is the number of elements of one fixed-shape example.
func shapeSize(shape []int) (int, error) {
	size := 1
	for _, d := range shape {
		if d <= 0 {
			return 0, fmt.Errorf("shape %v: dimensions must be positive", shape)
		}
		if size > math.MaxInt32/d {
			return 0, fmt.Errorf("shape %v: more than 2^31-1 elements per example", shape)
		}
		size *= d
	}
	return size, nil
}

// checkOffsets checks ragged offsets: at least one, non-decreasing, within
// [0, data].
func checkOffsets(off []int, values int) error {
	if len(off) == 0 {
		return errors.New("ragged column with no offsets")
	}
	if off[0] < 0 {
		return fmt.Errorf("offset 0 is negative (%d)", off[0])
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("offsets decrease at example %d (%d then %d)", i-1, off[i-1], off[i])
		}
	}
	if last := off[len(off)-1]; last > values {
		return fmt.Errorf("last offset %d is past the %d values", last, values)
	}
	return nil
}

// shapeOrEmpty makes a scalar shape marshal as [] rather than null.
func shapeOrEmpty(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// arrowColumn returns a (already checked) as an Arrow array whose value
// buffer is a view of a's slice, and the array's type.
func arrowColumn(a *data.Array) (arrow.Array, arrow.DataType, error) {
	var elem arrow.DataType
	var raw []byte
	values, width := a.Values(), 4
	switch a.DType {
	case data.Int32:
		elem, raw = arrow.PrimitiveTypes.Int32, bytesOf(a.Int)
	case data.Uint8:
		elem, raw, width = arrow.PrimitiveTypes.Uint8, bytesOf(a.Bytes), 1
	default:
		elem, raw = arrow.PrimitiveTypes.Float32, bytesOf(a.Float)
	}
	if a.Ragged() {
		lo, hi := a.Offsets[0], a.Offsets[len(a.Offsets)-1]
		child := primitiveData(elem, raw[width*lo:width*hi], hi-lo)
		defer child.Release()
		n := len(a.Offsets) - 1
		var typ arrow.DataType
		var offsets *memory.Buffer
		if hi-lo <= math.MaxInt32 {
			off := make([]int32, n+1)
			for i, o := range a.Offsets {
				off[i] = int32(o - lo)
			}
			typ, offsets = arrow.ListOfNonNullable(elem), memory.NewBufferBytes(bytesOf(off))
		} else {
			off := make([]int64, n+1)
			for i, o := range a.Offsets {
				off[i] = int64(o - lo)
			}
			typ, offsets = arrow.LargeListOfNonNullable(elem), memory.NewBufferBytes(bytesOf(off))
		}
		ad := array.NewData(typ, n, []*memory.Buffer{nil, offsets}, []arrow.ArrayData{child}, 0, 0)
		defer ad.Release()
		return array.MakeFromData(ad), typ, nil
	}
	size, _ := shapeSize(a.Shape)
	if len(a.Shape) == 0 {
		ad := primitiveData(elem, raw, values)
		defer ad.Release()
		return array.MakeFromData(ad), elem, nil
	}
	child := primitiveData(elem, raw, values)
	defer child.Release()
	typ := arrow.FixedSizeListOfNonNullable(int32(size), elem)
	ad := array.NewData(typ, values/size, []*memory.Buffer{nil}, []arrow.ArrayData{child}, 0, 0)
	defer ad.Release()
	return array.MakeFromData(ad), typ, nil
}

// primitiveData is a null-free array of n elements over raw, without copying.
func primitiveData(typ arrow.DataType, raw []byte, n int) *array.Data {
	return array.NewData(typ, n, []*memory.Buffer{nil, memory.NewBufferBytes(raw)}, nil, 0, 0)
}

// bytesOf views a slice of fixed-size numbers as its bytes, without copying.
func bytesOf[T uint8 | int32 | int64 | float32 | float64](s []T) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// writeArrowFile writes rec as the only record batch of an Arrow IPC file
// at path. A failed write removes the partial file.
func writeArrowFile(path string, rec arrow.RecordBatch) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, arrowIOBufferSize)
	w, err := ipc.NewFileWriter(bw, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
