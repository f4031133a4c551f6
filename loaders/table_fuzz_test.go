package loaders_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// The table loader's fuzz targets: arbitrary bytes as a CSV, Parquet or
// Arrow file must give a dataset that keeps the declared shapes, or a
// DataError; never a panic or another error.

// fuzzTableLoaders are loaders of different shapes over columns a, b, s, y.
func fuzzTableLoaders(path string) []*loaders.Table {
	mixed := newTable(path)
	mixed.Features = []loaders.TableColumn{
		{Column: "a", Missing: "mean"},
		{Column: "b", Type: "categorical", MaxCategories: 3, Missing: "mode"},
	}
	mixed.Target, mixed.NumClasses, mixed.TargetMissing, mixed.TestFraction, mixed.Stratify = "y", 2, "drop", 0.5, true

	split := newTable(path)
	split.Features = []loaders.TableColumn{
		{Column: "a", Missing: "constant", Fill: "0", Scale: "none"},
		{Column: "b", Type: "categorical", Vocabulary: []string{"u", "v"}, Encoding: "one_hot", Missing: "drop"},
	}
	split.Target, split.Task, split.SplitColumn = "y", "regression", "s"

	text := newTable(path)
	text.Features = []loaders.TableColumn{{Column: "b", Type: "text", MaxLen: 4, NumWords: 10, Missing: "constant"}}
	text.Target, text.Classes, text.TestFraction = "y", []string{"0", "1"}, 0.3

	index := newTable(path)
	index.Features = []loaders.TableColumn{
		{Column: "a", Type: "categorical", MaxCategories: 2, Encoding: "index", Missing: "drop"},
		{Column: "b", Type: "categorical", Vocabulary: []string{"u"}, Encoding: "index", Missing: "mode"},
	}
	index.Target, index.NumClasses, index.TestFraction = "y", 3, 0.4
	return []*loaders.Table{mixed, split, text, index}
}

// checkTableLoad loads path with each loader and checks the outcome.
func checkTableLoad(t *testing.T, dir, path string) {
	for _, l := range fuzzTableLoaders(path) {
		if err := l.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		ds, err := l.Load(dir)
		if err != nil {
			var de *data.DataError
			if !errors.As(err, &de) {
				t.Fatalf("%T is not a DataError: %v", err, err)
			}
			continue
		}
		x, y := l.Schemas()
		for _, s := range []data.Split{ds.Train, ds.Test} {
			n := s.Y.Len()
			if n == 0 {
				t.Fatal("an empty split")
			}
			if s.X.Schema.DType != x.DType || s.X.Len() != n || len(s.X.Float)+len(s.X.Int) != n*data.Elements(x.Shape) {
				t.Fatalf("x %v of %d values for %d examples; declared %v", s.X.Schema, len(s.X.Float)+len(s.X.Int), n, x)
			}
			for _, v := range s.X.Float {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("x holds %v", v)
				}
			}
			for _, id := range s.X.Int {
				if id < 0 || x.Classes > 0 && int(id) >= x.Classes {
					t.Fatalf("id %d outside [0, %d)", id, x.Classes)
				}
			}
			for _, label := range s.Y.Int {
				if label < 0 || int(label) >= y.Classes {
					t.Fatalf("label %d outside [0, %d)", label, y.Classes)
				}
			}
		}
	}
}

func FuzzTableCSV(f *testing.F) {
	for _, seed := range []string{
		"a,b,s,y\n1,u,train,0\n2,v,test,1\n3,w,train,1\n4,u,test,0\n",
		"a,b,s,y\n1.5,\"u, v\",train,0\n?,,test,1\n-3e2,\"say \"\"hi\"\"\",train,1\n4,u,test,\n",
		"\uFEFFy,s,b,a\r\n0,train,u,1\r\n1,test,v,NA\r\n2,train,u,3\r\n",
		"a,b,s,y\n1,u,train,0\n2,v,test\n",
		"a,b,s,y\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "t.csv"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		checkTableLoad(t, dir, "t.csv")
	})
}

// FuzzTableBinary mutates Parquet and Arrow files written by arrow-go:
// corrupt footers, pages and flatbuffers must be DataErrors.
func FuzzTableBinary(f *testing.F) {
	tab := testTable{
		header:  []string{"a", "b", "s", "y"},
		numeric: []bool{true, false, false, false},
		rows:    [][]string{{"1", "u", "train", "0"}, {na, "v", "test", "1"}, {"3", na, "train", "1"}, {"4", "u", "test", "0"}},
	}
	dir := f.TempDir()
	for _, name := range []string{"t.parquet", "t.arrow"} {
		path := filepath.Join(dir, name)
		if name == "t.parquet" {
			tab.writeParquet(f, path)
		} else {
			tab.writeArrow(f, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name == "t.parquet", b)
	}
	f.Fuzz(func(t *testing.T, parquet bool, content []byte) {
		dir := t.TempDir()
		name := "t.arrow"
		if parquet {
			name = "t.parquet"
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
		checkTableLoad(t, dir, name)
	})
}
