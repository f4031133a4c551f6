package loaders_test

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// The tables of these tests are generated, seeded, in the test: nothing
// committed is a copy of a dataset.

// na marks a missing cell: "?" in a CSV (as the adult census writes it),
// null in Parquet and Arrow.
const na = "\x00na"

// testTable is a table to write in each format. numeric[i] says whether
// column i is stored as float64 (else string) in Parquet and Arrow.
type testTable struct {
	header  []string
	numeric []bool
	rows    [][]string
}

// irisTable has the iris layout: four measurements drawn from
// class-dependent Gaussians (means and spreads near the real flowers'),
// rounded to 0.1 cm, 50 rows per class, sorted by class as the classic
// file is.
func irisTable(seed uint64) testTable {
	rng := rand.New(rand.NewPCG(seed, 42))
	classes := []struct {
		name       string
		mean, sdev [4]float64
	}{
		{"setosa", [4]float64{5.0, 3.4, 1.5, 0.25}, [4]float64{0.35, 0.38, 0.17, 0.1}},
		{"versicolor", [4]float64{5.9, 2.8, 4.3, 1.3}, [4]float64{0.5, 0.3, 0.47, 0.2}},
		{"virginica", [4]float64{6.6, 3.0, 5.55, 2.0}, [4]float64{0.6, 0.3, 0.55, 0.27}},
	}
	tab := testTable{header: []string{"sepal_length", "sepal_width", "petal_length", "petal_width", "species"}, numeric: []bool{true, true, true, true, false}}
	for _, c := range classes {
		for range 50 {
			row := make([]string, 0, 5)
			for k := range 4 {
				v := math.Max(0.1, c.mean[k]+c.sdev[k]*rng.NormFloat64())
				row = append(row, strconv.FormatFloat(math.Round(v*10)/10, 'g', -1, 64))
			}
			tab.rows = append(tab.rows, append(row, c.name))
		}
	}
	return tab
}

// adultTable has a layout like the adult census: numeric and categorical
// columns, some missing, a rare category, and an income class that
// depends on them. The split column puts every fourth row in the test
// split.
func adultTable(n int, seed uint64) testTable {
	rng := rand.New(rand.NewPCG(seed, 7))
	tab := testTable{
		header:  []string{"age", "workclass", "education", "hours_per_week", "native_country", "split", "income"},
		numeric: []bool{true, false, false, true, false, false, false},
	}
	pick := func(options []string, weights []float64) string {
		u := rng.Float64() * 100
		for i, w := range weights {
			if u < w {
				return options[i]
			}
			u -= w
		}
		return options[len(options)-1]
	}
	for i := range n {
		age := 17 + math.Round(rng.Float64()*600)/10
		edu := pick([]string{"HS-grad", "Bachelors", "Masters", "Doctorate"}, []float64{45, 35, 15, 5})
		hours := 20 + math.Round(rng.Float64()*500)/10 + 0.25 // never exactly 40
		score := (age-40)/15 + map[string]float64{"HS-grad": -1, "Bachelors": 0.3, "Masters": 1, "Doctorate": 1.5}[edu] + (hours-40)/20 + 0.7*rng.NormFloat64()
		row := []string{
			strconv.FormatFloat(age, 'g', -1, 64),
			pick([]string{"Private", "Self-emp", "Gov", "Without-pay"}, []float64{60, 20, 18, 2}),
			edu,
			strconv.FormatFloat(hours, 'g', -1, 64),
			pick([]string{"United-States", "Mexico", "India", "Canada", "Japan"}, []float64{80, 8, 5, 4, 3}),
			map[bool]string{true: "test", false: "train"}[i%4 == 3],
			map[bool]string{true: ">50K", false: "<=50K"}[score > 0.5],
		}
		for _, c := range []int{0, 1, 3, 4} { // about 5% missing in each
			if rng.Float64() < 0.05 {
				row[c] = na
			}
		}
		tab.rows = append(tab.rows, row)
	}
	return tab
}

func (tab testTable) writeCSV(t testing.TB, path string, delim rune) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Comma = delim
	w.Write(tab.header)
	for _, r := range tab.rows {
		out := make([]string, len(r))
		for i, v := range r {
			if v == na {
				v = "?"
			}
			out[i] = v
		}
		w.Write(out)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeParquet writes the table with arrow-go's Parquet writer in two row
// groups: numeric columns as optional DOUBLE, the others as optional
// BYTE_ARRAY strings, missing cells as nulls.
func (tab testTable) writeParquet(t testing.TB, path string) {
	t.Helper()
	var fields schema.FieldList
	for i, h := range tab.header {
		if tab.numeric[i] {
			fields = append(fields, schema.NewFloat64Node(h, parquet.Repetitions.Optional, -1))
		} else {
			n, err := schema.NewPrimitiveNodeLogical(h, parquet.Repetitions.Optional, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)
			if err != nil {
				t.Fatal(err)
			}
			fields = append(fields, n)
		}
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, fields, -1)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := file.NewParquetWriter(f, root)
	half := len(tab.rows) / 2
	for _, rows := range [][][]string{tab.rows[:half], tab.rows[half:]} {
		rg := w.AppendRowGroup()
		for c := range tab.header {
			cw, err := rg.NextColumn()
			if err != nil {
				t.Fatal(err)
			}
			defs := make([]int16, len(rows))
			var nums []float64
			var strs []parquet.ByteArray
			for i, r := range rows {
				if r[c] == na {
					continue
				}
				defs[i] = 1
				if tab.numeric[c] {
					v, err := strconv.ParseFloat(r[c], 64)
					if err != nil {
						t.Fatal(err)
					}
					nums = append(nums, v)
				} else {
					strs = append(strs, parquet.ByteArray(r[c]))
				}
			}
			switch cw := cw.(type) {
			case *file.Float64ColumnChunkWriter:
				_, err = cw.WriteBatch(nums, defs, nil)
			case *file.ByteArrayColumnChunkWriter:
				_, err = cw.WriteBatch(strs, defs, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := rg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeArrow writes the table as an Arrow IPC file (Feather v2) in two
// record batches: numeric columns as float64, the first string column
// dictionary-encoded (as pandas writes a category), the others as strings.
func (tab testTable) writeArrow(t testing.TB, path string) {
	t.Helper()
	mem := memory.NewGoAllocator()
	fields := make([]arrow.Field, len(tab.header))
	dictDone := false
	for i, h := range tab.header {
		typ := arrow.DataType(arrow.BinaryTypes.String)
		if tab.numeric[i] {
			typ = arrow.PrimitiveTypes.Float64
		} else if !dictDone {
			typ, dictDone = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, true
		}
		fields[i] = arrow.Field{Name: h, Type: typ, Nullable: true}
	}
	sc := arrow.NewSchema(fields, nil)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(sc), ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	// The file format allows one dictionary per field for the whole file:
	// every batch's dictionary column indexes the same dictionary.
	dicts := map[int]arrow.Array{}
	for c := range tab.header {
		if _, ok := fields[c].Type.(*arrow.DictionaryType); ok {
			var vals []string
			for _, r := range tab.rows {
				if r[c] != na && !slices.Contains(vals, r[c]) {
					vals = append(vals, r[c])
				}
			}
			b := array.NewStringBuilder(mem)
			b.AppendValues(vals, nil)
			dicts[c] = b.NewArray()
		}
	}
	half := len(tab.rows) / 2
	for _, rows := range [][][]string{tab.rows[:half], tab.rows[half:]} {
		cols := make([]arrow.Array, len(tab.header))
		for c := range tab.header {
			var b array.Builder
			switch {
			case tab.numeric[c]:
				b = array.NewFloat64Builder(mem)
			case dicts[c] != nil:
				b = array.NewInt16Builder(mem)
			default:
				b = array.NewStringBuilder(mem)
			}
			for _, r := range rows {
				if r[c] == na {
					b.AppendNull()
					continue
				}
				switch b := b.(type) {
				case *array.Float64Builder:
					v, _ := strconv.ParseFloat(r[c], 64)
					b.Append(v)
				case *array.Int16Builder:
					d := dicts[c].(*array.String)
					for k := range d.Len() {
						if d.Value(k) == r[c] {
							b.Append(int16(k))
						}
					}
				case *array.StringBuilder:
					b.Append(r[c])
				}
			}
			cols[c] = b.NewArray()
			if d := dicts[c]; d != nil {
				cols[c] = array.NewDictionaryArray(fields[c].Type, cols[c], d)
			}
		}
		rec := array.NewRecordBatch(sc, cols, int64(len(rows)))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes a file of the given content, making its folder.
func writeText(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// col looks column name up in tab's header.
func (tab testTable) col(name string) int {
	for i, h := range tab.header {
		if h == name {
			return i
		}
	}
	panic(fmt.Sprintf("no column %s", name))
}
