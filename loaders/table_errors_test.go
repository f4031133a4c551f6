package loaders_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/loaders"
)

const irisHeader = "sepal_length,sepal_width,petal_length,petal_width,species\n"

// TestTableBadFiles: each bad file gives a DataError naming the file, the
// line or row, and the column.
func TestTableBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n"
	cases := []struct {
		name, file, content string
		change              func(*loaders.Table)
		want                []string
	}{
		{"missing column", "a.csv", "sepal_lenght,sepal_width,petal_length,petal_width,species\n" + good, nil,
			[]string{"a.csv", `no column "sepal_length"`, `did you mean "sepal_lenght"?`, `"sepal_width", "petal_length"`}},
		{"missing column, case", "b.csv", "Sepal_Length,sepal_width,petal_length,petal_width,species\n" + good, nil,
			[]string{`no column "sepal_length"`, `did you mean "Sepal_Length"?`}},
		{"not a number", "c.csv", irisHeader + good + "5.0,abc,1.3,0.2,setosa\n", nil,
			[]string{"c.csv:5", `column "sepal_width"`, `"abc" is not a number`}},
		{"infinite", "d.csv", irisHeader + "5.0,3,1.3,+Inf,setosa\n" + good, nil,
			[]string{"d.csv:2", `column "petal_width"`, "not a finite number"}},
		{"empty file", "e.csv", "", nil, []string{"e.csv", "empty file"}},
		{"header only", "f.csv", irisHeader, nil, []string{"f.csv", "no data rows"}},
		{"missing value", "g.csv", irisHeader + good + "5.0,,1.3,0.2,setosa\n", nil,
			[]string{"g.csv:5", `column "sepal_width"`, "missing value"}},
		{"missing target", "h.csv", irisHeader + good + "5.0,3,1.3,0.2,NA\n", nil,
			[]string{"h.csv:5", `column "species"`, "missing target"}},
		{"wrong field count", "i.csv", irisHeader + good + "5.0,3,1.3,setosa\n", nil,
			[]string{"i.csv:5", "4 fields, the header has 5"}},
		{"bare quote", "j.csv", irisHeader + "5.0,3\"1,1.3,0.2,setosa\n", nil,
			[]string{"j.csv:2", `bare " in non-quoted-field`}},
		{"unterminated quote", "k.csv", irisHeader + good + "5.0,\"3,1.3,0.2,setosa\n", nil,
			[]string{"k.csv:5", `extraneous or missing " in quoted-field`}},
		{"class not declared", "l.csv", irisHeader + good + "5.0,3,1.3,0.2,rose\n",
			func(l *loaders.Table) { l.NumClasses, l.Classes = 0, []string{"setosa", "versicolor", "virginica"} },
			[]string{"l.csv:5", `column "species"`, `class "rose" is not one of classes ["setosa", "versicolor", "virginica"]`}},
		{"num_classes", "m.csv", irisHeader + good + "5.0,3,1.3,0.2,rose\n", nil,
			[]string{"m.csv", `column "species" has 4 classes, num_classes says 3: ["rose", "setosa", "versicolor", "virginica"]`}},
		{"split value", "n.csv", "x,split,species\n1,train,a\n2,valid,b\n",
			func(l *loaders.Table) {
				l.Features, l.SplitColumn, l.NumClasses, l.Stratify = []loaders.TableColumn{{Column: "x"}}, "split", 2, false
			},
			[]string{"n.csv:3", `column "split"`, `"valid" is not a split: want train or test`}},
		{"no test rows", "o.csv", "x,split,species\n1,train,a\n2,train,b\n",
			func(l *loaders.Table) {
				l.Features, l.SplitColumn, l.NumClasses, l.Stratify = []loaders.TableColumn{{Column: "x"}}, "split", 2, false
			},
			[]string{"o.csv", "no test rows"}},
		{"regression target", "p.csv", "x,y\n1,2.5\n2,high\n",
			func(l *loaders.Table) {
				l.Features, l.Target, l.Task, l.NumClasses, l.Stratify = []loaders.TableColumn{{Column: "x"}}, "y", "regression", 0, false
			},
			[]string{"p.csv:3", `column "y"`, `"high" is not a number`}},
		{"no such file", "q.csv", "", func(l *loaders.Table) { l.Path = "nowhere/q.csv" }, []string{"nowhere/q.csv", "file not found"}},
		{"glob matches nothing", "r.csv", "", func(l *loaders.Table) { l.Path = "nowhere/*.csv" }, []string{"nowhere/*.csv", "no file matches"}},
		{"extension", "s.dat", irisHeader + good, nil, []string{"s.dat", `extension ".dat"`, "set format"}},
		{"tsv read as csv", "t.csv", strings.ReplaceAll(irisHeader+good, ",", "\t"), nil,
			[]string{"t.csv", `no column "sepal_length"`, "the header has tabs"}},
		{"not parquet", "u.parquet", irisHeader + good, nil, []string{"u.parquet", "not a Parquet file"}},
		{"not arrow", "v.arrow", irisHeader + good, nil, []string{"v.arrow", "not an Arrow IPC file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.content != "" || c.name == "empty file" {
				writeText(t, filepath.Join(dir, c.file), c.content)
			}
			l := irisLoader(c.file)
			if c.change != nil {
				c.change(l)
			}
			if err := l.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			_, err := l.Load(dir)
			if err == nil {
				t.Fatal("loaded a bad file")
			}
			dataError(t, err, c.want...)
		})
	}
}

// TestTableBadBinaryColumns: Parquet and Arrow files name a missing column
// with the closest name, like CSV files.
func TestTableBadBinaryColumns(t *testing.T) {
	dir := t.TempDir()
	tab := irisTable(2)
	tab.header[2] = "petal_len"
	tab.writeParquet(t, filepath.Join(dir, "iris.parquet"))
	tab.writeArrow(t, filepath.Join(dir, "iris.arrow"))
	for _, f := range []string{"iris.parquet", "iris.arrow"} {
		_, err := irisLoader(f).Load(dir)
		dataError(t, err, f, `no column "petal_length" (did you mean "petal_len"?)`)
	}
}

// TestTableMissingPolicies: missing values per column and target policy:
// drop removes the row, mode and constant fill it (the mode from the
// training rows that are kept: the test rows' and dropped rows' values
// would tie 1 with 3), and a missing target with target_missing: drop
// removes the row.
func TestTableMissingPolicies(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "m.csv"), "a,b,c,s,y\n"+
		"1,x,2,train,p\n"+
		"NA,y,3,train,q\n"+ // a: the mode, 3
		"1,,4,train,p\n"+ // b missing: dropped
		"3,y,?,train,q\n"+ // c: -1
		"1,y,5,train,\n"+ // target missing: dropped
		"3,x,6,train,p\n"+
		"5,y,7,test,q\n"+
		"1,x,?,test,p\n")
	l := newTable("m.csv")
	l.Features = []loaders.TableColumn{
		{Column: "a", Missing: "mode", Scale: "none"},
		{Column: "b", Type: "categorical", Vocabulary: []string{"x", "y"}, Missing: "drop"},
		{Column: "c", Missing: "constant", Fill: "-1", Scale: "none"},
	}
	l.Target, l.NumClasses, l.TargetMissing, l.SplitColumn = "y", 2, "drop", "s"
	ds := load(t, l, dir)
	wantTrain := []float32{
		1, 0, 1, 0, 2,
		3, 0, 0, 1, 3,
		3, 0, 0, 1, -1,
		3, 0, 1, 0, 6,
	}
	wantTest := []float32{
		5, 0, 0, 1, 7,
		1, 0, 1, 0, -1,
	}
	if !slices.Equal(ds.Train.X.Float, wantTrain) || !slices.Equal(ds.Test.X.Float, wantTest) {
		t.Errorf("x:\ntrain %v\ntest  %v\nwant\ntrain %v\ntest  %v", ds.Train.X.Float, ds.Test.X.Float, wantTrain, wantTest)
	}
	if !slices.Equal(ds.Train.Y.Int, []int32{0, 1, 1, 0}) || !slices.Equal(ds.Test.Y.Int, []int32{1, 0}) || !slices.Equal(ds.Classes, []string{"p", "q"}) {
		t.Errorf("labels %v %v, classes %v", ds.Train.Y.Int, ds.Test.Y.Int, ds.Classes)
	}
}

// TestTableArrowCorruptFooter overwrites every 4 bytes of an Arrow file's
// footer and schema with 0xFF (a vector length of 2^32-1, an offset far
// outside): each load is a dataset or a DataError. Without the metadata
// check arrow-go allocates the vector a corrupt length claims, a fatal
// out-of-memory rather than an error.
func TestTableArrowCorruptFooter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.arrow")
	irisTable(4).writeArrow(t, path)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	footer := int(binary.LittleEndian.Uint32(good[len(good)-10:]))
	for at := len(good) - 10 - footer; at+4 <= len(good)-10; at++ {
		bad := slices.Clone(good)
		copy(bad[at:], []byte{0xff, 0xff, 0xff, 0xff})
		writeText(t, path, string(bad))
		if _, err := irisLoader("t.arrow").Load(dir); err != nil {
			dataError(t, err, "t.arrow")
		}
	}
}

// TestTableNumberRange: a number float32 cannot hold, or a test value
// whose z-score it cannot hold, is an error at its row, not an infinity
// in x.
func TestTableNumberRange(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "big.csv"), "x,y\n1,a\n1e39,b\n")
	l := newTable("big.csv")
	l.Features, l.Target, l.NumClasses = []loaders.TableColumn{{Column: "x"}}, "y", 2
	_, err := l.Load(dir)
	dataError(t, err, "big.csv:3", `column "x"`, `"1e39" is beyond float32's range`)

	writeText(t, filepath.Join(dir, "far.csv"), "x,s,y\n1,train,a\n1.0000001,train,b\n3e38,test,a\n")
	l = newTable("far.csv")
	l.Features, l.Target, l.NumClasses, l.SplitColumn = []loaders.TableColumn{{Column: "x"}}, "y", 2, "s"
	_, err = l.Load(dir)
	dataError(t, err, "far.csv:4", `column "x"`, "standard deviations from the training mean, beyond float32")
}
