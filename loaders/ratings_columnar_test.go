package loaders_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/pipe-ml/pipe/data"
)

// columnarRows are the ratings the Parquet and Arrow tests write: users as
// strings, items as integers, ratings as floats, times as integers (two
// ties, broken by row order).
var columnarRows = []struct {
	user   string
	item   int64
	rating float64
	ts     int64
}{
	{user: "ann", item: 7, rating: 4, ts: 100},
	{user: "bob", item: 7, rating: 2.5, ts: 90},
	{user: "ann", item: 9, rating: 5, ts: 100},
	{user: "ann", item: 3, rating: 1, ts: 50},
	{user: "bob", item: 3, rating: 3, ts: 95},
}

var columnarWant = []string{"ann|3|1", "ann|7|4", "ann|9|5", "bob|3|3", "bob|7|2.5"}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// writeParquet writes the rows as a Parquet file of two row groups, with
// the rating column nullable and null at row nullAt (from 1; 0: none).
func writeParquet(t testing.TB, path string, nullAt int) {
	t.Helper()
	req, opt := parquet.Repetitions.Required, parquet.Repetitions.Optional
	root := must(schema.NewGroupNode("schema", req, schema.FieldList{
		must(schema.NewPrimitiveNodeLogical("user_id", req, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)),
		must(schema.NewPrimitiveNodeLogical("movie_id", req, schema.NewIntLogicalType(32, false), parquet.Types.Int32, -1, -1)),
		must(schema.NewPrimitiveNode("stars", opt, parquet.Types.Double, -1, -1)),
		must(schema.NewPrimitiveNode("when", req, parquet.Types.Int64, -1, -1)),
	}, -1))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := file.NewParquetWriter(f, root)
	for _, rows := range [][2]int{{0, 3}, {3, len(columnarRows)}} {
		rg := w.AppendRowGroup()
		var users []parquet.ByteArray
		var items []int32
		var stars []float64
		var defs []int16
		var when []int64
		for i := rows[0]; i < rows[1]; i++ {
			r := columnarRows[i]
			users = append(users, parquet.ByteArray(r.user))
			items = append(items, int32(r.item))
			when = append(when, r.ts)
			if i+1 == nullAt {
				defs = append(defs, 0)
				continue
			}
			defs = append(defs, 1)
			stars = append(stars, r.rating)
		}
		must(must(rg.NextColumn()).(*file.ByteArrayColumnChunkWriter).WriteBatch(users, nil, nil))
		must(must(rg.NextColumn()).(*file.Int32ColumnChunkWriter).WriteBatch(items, nil, nil))
		must(must(rg.NextColumn()).(*file.Float64ColumnChunkWriter).WriteBatch(stars, defs, nil))
		must(must(rg.NextColumn()).(*file.Int64ColumnChunkWriter).WriteBatch(when, nil, nil))
		if err := rg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeArrow writes the rows as an Arrow IPC file (or stream), users
// dictionary-encoded, items uint16, ratings float32, times timestamp[s],
// one record batch per two rows.
func writeArrow(t testing.TB, path string, stream bool) {
	t.Helper()
	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "user", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}},
		{Name: "item", Type: arrow.PrimitiveTypes.Uint16},
		{Name: "rating", Type: arrow.PrimitiveTypes.Float32},
		{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_s},
	}, nil)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var write func(arrow.RecordBatch) error
	var closeW func() error
	if stream {
		w := ipc.NewWriter(f, ipc.WithSchema(sc), ipc.WithAllocator(mem))
		write, closeW = w.Write, w.Close
	} else {
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(sc), ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		write, closeW = w.Write, w.Close
	}
	// One dictionary for every batch: the IPC file format allows no other.
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"bob", "ann"}, nil)
	dict := sb.NewArray()
	for lo := 0; lo < len(columnarRows); lo += 2 {
		b := array.NewRecordBuilder(mem, sc)
		ib := array.NewInt8Builder(mem)
		for _, r := range columnarRows[lo:min(lo+2, len(columnarRows))] {
			ib.Append(int8(slices.Index([]string{"bob", "ann"}, r.user)))
			b.Field(1).(*array.Uint16Builder).Append(uint16(r.item))
			b.Field(2).(*array.Float32Builder).Append(float32(r.rating))
			b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(r.ts))
		}
		cols := []arrow.Array{array.NewDictionaryArray(sc.Field(0).Type, ib.NewArray(), dict)}
		for _, fb := range b.Fields()[1:] {
			cols = append(cols, fb.NewArray())
		}
		rec := array.NewRecordBatch(sc, cols, int64(cols[1].Len()))
		if err := write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := closeW(); err != nil {
		t.Fatal(err)
	}
}

// A Parquet file and Arrow IPC files (file and stream) written here load
// as the same ratings, their timestamps ordering leave_last_out.
func TestRatingsFileColumnar(t *testing.T) {
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "r.parquet"), 0)
	writeArrow(t, filepath.Join(dir, "r.arrow"), false)
	writeArrow(t, filepath.Join(dir, "r.feather"), true) // a stream, whatever its name
	for _, params := range [][]string{
		{"path: r.parquet", "user: user_id", "item: movie_id", "rating: stars", "timestamp: when"},
		{"path: r.parquet", "user: 0", "item: 1", "rating: 2", "timestamp: 3"},
		{"path: r.arrow", "timestamp: ts"},
		{"path: r.feather", "timestamp: ts"},
		{"path: r.feather", "format: arrow", "timestamp: 3"},
	} {
		ds := loadRatings(t, dir, append([]string{"loader: ratings", "split: {kind: leave_last_out, n: 1}"}, params...)...)
		if got := allTriples(ds); !slices.Equal(got, columnarWant) {
			t.Errorf("%v: ratings %q, want %q", params, got, columnarWant)
		}
		// ann's latest is item 9 (time 100, tied with item 7, later row);
		// bob's is item 3 (time 95).
		if got := testSet(ds); !slices.Equal(got, []string{"ann|9|5", "bob|3|3"}) {
			t.Errorf("%v: held out %q", params, got)
		}
		if ds.Ratings.Scale != [2]float32{1, 5} {
			t.Errorf("%v: scale %v", params, ds.Ratings.Scale)
		}
	}
}

func TestRatingsFileColumnarErrors(t *testing.T) {
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "null.parquet"), 4)
	writeParquet(t, filepath.Join(dir, "r.parquet"), 0)
	writeArrow(t, filepath.Join(dir, "r.arrow"), false)
	writeData(t, dir, "junk.parquet", []byte("PAR1 this is not parquet PAR1"))
	writeData(t, dir, "junk.arrow", []byte("ARROW1\x00\x00garbage"))
	good, _ := os.ReadFile(filepath.Join(dir, "r.parquet"))
	writeData(t, dir, "cut.parquet", good[:len(good)/2])
	for _, tc := range []struct {
		params []string
		path   string
		want   string
	}{
		{[]string{"path: null.parquet", "user: user_id", "item: movie_id", "rating: stars"}, "null.parquet", `row 4: missing rating, a null (column "stars")`},
		{[]string{"path: r.parquet", "user: userid", "item: movie_id", "rating: stars"}, "r.parquet", `user column "userid" is not in the schema (its columns: "user_id", "movie_id", "stars", "when"; did you mean "user_id"?)`},
		{[]string{"path: r.parquet", "user: user_id", "item: movie_id", "rating: user_id"}, "", `user and rating name the same column`},
		{[]string{"path: r.parquet", "user: user_id", "item: movie_id", "rating: stars", "scale: [1, 4]"}, "r.parquet", `row 3: rating 5 is outside the scale [1, 4] (column "stars")`},
		{[]string{"path: r.arrow", "user: usr"}, "r.arrow", `did you mean "user"?`},
		{[]string{"path: r.arrow", "rating: user", "user: item", "item: ts"}, "r.arrow", `row 1: rating "ann" is not a finite number (column "user")`},
		{[]string{"path: junk.parquet"}, "junk.parquet", "Parquet"},
		{[]string{"path: cut.parquet"}, "cut.parquet", "Parquet"},
		{[]string{"path: junk.arrow"}, "junk.arrow", "Arrow"},
	} {
		l, err := buildLoader(dataSection(append([]string{"loader: ratings"}, tc.params...)...))
		if tc.path == "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: %v, want ...%s...", tc.params, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Load(dir)
		var de *data.DataError
		if !errors.As(err, &de) || de.Path != filepath.Join(dir, tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v:\n got  %v\n want %s: ...%s...", tc.params, err, tc.path, tc.want)
		}
	}
}

// fuzzColumnar loads arbitrary bytes as the file name, which must fail
// with a DataError naming the file or load ratings, never panic or
// exhaust memory (checkArrowIPC's and the readers' bounds).
func fuzzColumnar(f *testing.F, name string, seeds []func(path string), params ...string) {
	f.Helper()
	seedDir := f.TempDir()
	for i, write := range seeds {
		path := filepath.Join(seedDir, fmt.Sprint(i))
		write(path)
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	l, err := buildLoader(dataSection(append([]string{"loader: ratings", "path: " + name}, params...)...))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := writeData(t, dir, name, b)
		ds, err := l.Load(dir)
		if err != nil {
			var de *data.DataError
			if !errors.As(err, &de) || !strings.HasPrefix(de.Path, path) {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		if n := ds.Train.Len() + ds.Test.Len(); n == 0 || n > len(b) {
			t.Fatalf("%d ratings from %d bytes", n, len(b))
		}
	})
}

func FuzzRatingsParquet(f *testing.F) {
	fuzzColumnar(f, "r.parquet", []func(string){
		func(path string) { writeParquet(f, path, 0) },
		func(path string) { writeParquet(f, path, 2) },
	}, "user: user_id", "item: movie_id", "rating: stars", "timestamp: when")
}

func FuzzRatingsArrow(f *testing.F) {
	fuzzColumnar(f, "r.arrow", []func(string){func(path string) { writeArrow(f, path, false) }}, "timestamp: ts")
}

func FuzzRatingsArrowStream(f *testing.F) {
	fuzzColumnar(f, "r.arrows", []func(string){func(path string) { writeArrow(f, path, true) }}, "format: arrow", "timestamp: ts")
}
