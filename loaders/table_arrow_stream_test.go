package loaders_test

import (
	"os"
	"path/filepath"
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
	sc := arrow.NewSchema(fields, nil)
	f, err := os.Create(filepath.Join(dir, "big.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(sc), ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float64, rows)
	for b := range batches {
		cs := make([]arrow.Array, cols)
		for j := range cs {
			for i := range vals {
				vals[i] = float64((b*rows+i)*(j+1)%977) / 7
			}
			bld := array.NewFloat64Builder(memory.NewGoAllocator())
			bld.AppendValues(vals, nil)
			cs[j] = bld.NewArray()
		}
		rec := array.NewRecordBatch(sc, cs, rows)
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
