package loaders_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// heapSink counts the rows a streamed table hands it and the most the
// live heap grew above base while it did.
type heapSink struct {
	base, most int64
	rows       int
}

func (s *heapSink) Begin(train, test int) error { return nil }

func (s *heapSink) Write(test bool, b *data.Split) error {
	s.rows += b.Len()
	s.most = max(s.most, testdata.LiveHeap()-s.base)
	return nil
}

// TestTableArrowStreamsBatches: a 33 MB Arrow IPC file (64 record batches
// of 8,192 rows x 8 float64 columns) streams into the cache with the live
// heap a few record batches above where it started: the file is checked
// and read a record batch at a time, never held whole.
func TestTableArrowStreamsBatches(t *testing.T) {
	const batches, rows, cols = 64, 8192, 8
	dir := t.TempDir()
	fields := []arrow.Field{{Name: "y", Type: arrow.PrimitiveTypes.Float64}}
	var feats []loaders.TableColumn
	for j := range cols - 1 {
		name := string(rune('a' + j))
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64})
		feats = append(feats, loaders.TableColumn{Column: name})
	}
	writeFloatArrow(t, filepath.Join(dir, "big.arrow"), fields, batches, rows)
	const file = batches * rows * cols * 8
	l := newTable("big.arrow")
	l.Features, l.Target, l.Task = feats, "y", "regression"
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := &heapSink{base: testdata.LiveHeap()}
	if _, err := l.LoadStream(dir, 4096, sink); err != nil {
		t.Fatal(err)
	}
	if sink.rows != batches*rows {
		t.Fatalf("%d rows streamed, want %d", sink.rows, batches*rows)
	}
	if sink.most > file/4 {
		t.Errorf("the live heap grew by %d KB streaming a %d KB Arrow file; want a few record batches (one is %d KB)", sink.most>>10, file>>10, rows*cols*8>>10)
	}
	t.Logf("live heap grew by at most %d KB for a %d KB file", sink.most>>10, file>>10)
}

// writeFloatArrow writes an Arrow IPC file of float64 columns (fields) in
// batches record batches of rows rows each, with the writer's options.
func writeFloatArrow(t *testing.T, path string, fields []arrow.Field, batches, rows int, opts ...ipc.Option) {
	t.Helper()
	sc := arrow.NewSchema(fields, nil)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, append([]ipc.Option{ipc.WithSchema(sc), ipc.WithAllocator(memory.NewGoAllocator())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float64, rows)
	for b := range batches {
		cs := make([]arrow.Array, len(fields))
		for j := range cs {
			for i := range vals {
				vals[i] = float64((b*rows+i)*(j+1)%977) / 7
			}
			bld := array.NewFloat64Builder(memory.NewGoAllocator())
			bld.AppendValues(vals, nil)
			cs[j] = bld.NewArray()
		}
		rec := array.NewRecordBatch(sc, cs, int64(rows))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTableArrowCompressed: an LZ4-compressed Arrow table loads as the
// uncompressed one does; a compressed buffer whose 8-byte prefix claims
// 2^40 bytes uncompressed is a DataError naming the file, found by the
// check that reads those prefixes from the file, before arrow-go would
// allocate them.
func TestTableArrowCompressed(t *testing.T) {
	const rows = 1000
	dir := t.TempDir()
	fields := []arrow.Field{{Name: "y", Type: arrow.PrimitiveTypes.Float64}, {Name: "a", Type: arrow.PrimitiveTypes.Float64}}
	writeFloatArrow(t, filepath.Join(dir, "plain.arrow"), fields, 2, rows)
	writeFloatArrow(t, filepath.Join(dir, "lz4.arrow"), fields, 2, rows, ipc.WithLZ4())
	loader := func(path string) *loaders.Table {
		l := newTable(path)
		l.Features, l.Target, l.Task = []loaders.TableColumn{{Column: "a"}}, "y", "regression"
		return l
	}
	plain, lz4 := load(t, loader("plain.arrow"), dir), load(t, loader("lz4.arrow"), dir)
	if !reflect.DeepEqual(plain.Train.X, lz4.Train.X) || !reflect.DeepEqual(plain.Test.Y, lz4.Test.Y) {
		t.Fatal("the LZ4 file loads other values than the plain one")
	}
	b, err := os.ReadFile(filepath.Join(dir, "lz4.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	// Each compressed column buffer starts with its uncompressed length:
	// rows float64s.
	var want [8]byte
	binary.LittleEndian.PutUint64(want[:], rows*8)
	at := bytes.Index(b, want[:])
	if at < 0 {
		t.Fatal("no buffer prefix of 8,000 bytes in the LZ4 file")
	}
	binary.LittleEndian.PutUint64(b[at:], 1<<40)
	writeText(t, filepath.Join(dir, "lz4.arrow"), string(b))
	_, err = loader("lz4.arrow").Load(dir)
	dataError(t, err, "lz4.arrow", "claims 1099511627776 bytes uncompressed")
}
