package loaders_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// TestTableValidate: rules across params fail at Validate (pipe validate),
// before any data is read, saying what to change.
func TestTableValidate(t *testing.T) {
	cat := func(c loaders.TableColumn) loaders.TableColumn { c.Type = "categorical"; return c }
	cases := []struct {
		name   string
		change func(*loaders.Table)
		want   string
	}{
		{"no features", func(l *loaders.Table) { l.Features = nil }, "features is empty"},
		{"categorical without size", func(l *loaders.Table) { l.Features[0] = cat(loaders.TableColumn{Column: "a"}) },
			"features[0] (a): a categorical column needs its size without reading data"},
		{"categorical with both sizes", func(l *loaders.Table) {
			l.Features[0] = cat(loaders.TableColumn{Column: "a", MaxCategories: 3, Vocabulary: []string{"x"}})
		}, "not both"},
		{"duplicate vocabulary", func(l *loaders.Table) {
			l.Features[0] = cat(loaders.TableColumn{Column: "a", Vocabulary: []string{"x", "y", "x"}})
		}, `vocabulary lists "x" twice`},
		{"index beside numeric", func(l *loaders.Table) {
			l.Features[0] = cat(loaders.TableColumn{Column: "a", MaxCategories: 3, Encoding: "index"})
		}, "either every feature is an index-encoded categorical or none is"},
		{"text beside others", func(l *loaders.Table) { l.Features[0] = loaders.TableColumn{Column: "a", Type: "text", MaxLen: 10} },
			"a text feature must be the only feature"},
		{"text without maxlen", func(l *loaders.Table) { l.Features = []loaders.TableColumn{{Column: "a", Type: "text"}} },
			"a text column needs maxlen"},
		{"mean of categorical", func(l *loaders.Table) {
			l.Features[0] = cat(loaders.TableColumn{Column: "a", MaxCategories: 3, Missing: "mean"})
		}, "missing: mean needs a numeric column"},
		{"numeric fill", func(l *loaders.Table) { l.Features[0].Missing, l.Features[0].Fill = "constant", "abc" },
			`missing: constant needs a numeric fill: "abc" is not a number`},
		{"fill without constant", func(l *loaders.Table) { l.Features[0].Fill = "1" }, "fill applies with missing: constant"},
		{"numeric with max_categories", func(l *loaders.Table) { l.Features[0].MaxCategories = 3 }, "apply to categorical columns, not numeric"},
		{"feature is the target", func(l *loaders.Table) { l.Features[0].Column = "species" }, "features[0] (species): the column is also the target"},
		{"no class count", func(l *loaders.Table) { l.NumClasses = 0 }, "give classes (the names, in label order) or num_classes"},
		{"regression with classes", func(l *loaders.Table) { l.Task, l.Stratify = "regression", false }, "apply to classification, not regression"},
		{"stratify with split column", func(l *loaders.Table) { l.SplitColumn = "split" }, "stratify applies to the random split"},
		{"delimiter", func(l *loaders.Table) { l.Delimiter = ";;" }, `delimiter ";;"`},
		{"bad glob", func(l *loaders.Table) { l.Path = "iris/[.csv" }, "not a valid glob"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := irisLoader("iris/iris.csv")
			c.change(l)
			err := l.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate: %v; want an error with %q", err, c.want)
			}
		})
	}
	if err := irisLoader("iris/iris.csv").Validate(); err != nil {
		t.Errorf("the iris loader: %v", err)
	}
}

// TestTableIndexEncoding: index-encoded categorical features give int32
// ids, each feature's past the ids of those before it, x's Classes their
// total: one embedding for all.
func TestTableIndexEncoding(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "t.csv"), "color,size,s,y\n"+
		"red,S,train,a\nred,M,train,b\nblue,L,train,a\ngreen,XL,train,b\nred,S,test,a\npurple,M,test,b\n")
	l := newTable("t.csv")
	l.Features = []loaders.TableColumn{
		{Column: "color", Type: "categorical", MaxCategories: 2, Encoding: "index"},
		{Column: "size", Type: "categorical", Vocabulary: []string{"S", "M", "L"}, Encoding: "index"},
	}
	l.Target, l.NumClasses, l.SplitColumn = "y", 2, "s"
	ds := load(t, l, dir)
	if x, _ := l.Schemas(); x.DType != data.Int32 || !slices.Equal(x.Shape, []int{2}) || x.Classes != 3+4 {
		t.Fatalf("x schema %+v, want int32 [2] with 7 ids", x)
	}
	// color: red (2 rows) slot 1, then blue and green tie at 1: blue (by
	// value) slot 2, green unknown; size ids start at 3.
	want := []int32{1, 3 + 1, 1, 3 + 2, 2, 3 + 3, 0, 3 + 0}
	if !slices.Equal(ds.Train.X.Int, want) {
		t.Errorf("train ids %v, want %v", ds.Train.X.Int, want)
	}
	if want := []int32{1, 3 + 1, 0, 3 + 2}; !slices.Equal(ds.Test.X.Int, want) {
		t.Errorf("test ids %v, want %v", ds.Test.X.Int, want)
	}
}

// reviewsCSV is a small text table: three training reviews, one test.
const reviewsCSV = "review,label,split\n" +
	"\"Good, good movie!\",pos,train\n" +
	"bad MOVIE,neg,train\n" +
	"good plot,pos,train\n" +
	"awful movie good,neg,test\n"

// TestTableText: a text column is tokenized as imdb is, ranked by
// frequency in the training rows only, capped by num_words and pre-padded
// or pre-truncated to maxlen.
func TestTableText(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "r.csv"), reviewsCSV)
	cases := []struct {
		numWords, maxLen int
		train, test      []int32
	}{
		// ranks: good 1, movie 2, bad 3, plot 4 (ties to the word seen
		// first); index = rank + 3; 1 starts, 2 is out of vocabulary.
		{0, 5, []int32{0, 1, 4, 4, 5, 0, 0, 1, 6, 5, 0, 0, 1, 4, 7}, []int32{0, 1, 2, 5, 4}},
		{6, 5, []int32{0, 1, 4, 4, 5, 0, 0, 1, 2, 5, 0, 0, 1, 4, 2}, []int32{0, 1, 2, 5, 4}},
		{0, 3, []int32{4, 4, 5, 1, 6, 5, 1, 4, 7}, []int32{2, 5, 4}},
	}
	for _, c := range cases {
		l := newTable("r.csv")
		l.Features = []loaders.TableColumn{{Column: "review", Type: "text", NumWords: c.numWords, MaxLen: c.maxLen}}
		l.Target, l.Classes, l.SplitColumn = "label", []string{"neg", "pos"}, "split"
		ds := load(t, l, dir)
		if x, _ := l.Schemas(); x.DType != data.Int32 || !slices.Equal(x.Shape, []int{c.maxLen}) || x.Classes != c.numWords {
			t.Errorf("x schema %+v", x)
		}
		if !slices.Equal(ds.Train.X.Int, c.train) || !slices.Equal(ds.Test.X.Int, c.test) {
			t.Errorf("num_words %d, maxlen %d: train %v test %v; want %v %v", c.numWords, c.maxLen, ds.Train.X.Int, ds.Test.X.Int, c.train, c.test)
		}
		if !slices.Equal(ds.Train.Y.Int, []int32{1, 0, 1}) {
			t.Errorf("labels %v", ds.Train.Y.Int)
		}
	}
}

// TestTableRegression: a numeric target is float32, as it is (not scaled).
func TestTableRegression(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "house.tsv"), "rooms\tprice\tsplit\n3\t250.5\ttrain\n4\t310\ttrain\n2\t-1e3\ttest\n")
	l := newTable("house.tsv")
	l.Features = []loaders.TableColumn{{Column: "rooms"}}
	l.Target, l.Task, l.SplitColumn = "price", "regression", "split"
	ds := load(t, l, dir)
	if _, y := l.Schemas(); y.DType != data.Float32 || len(y.Shape) != 0 {
		t.Errorf("y schema %+v", y)
	}
	if !slices.Equal(ds.Train.Y.Float, []float32{250.5, 310}) || !slices.Equal(ds.Test.Y.Float, []float32{-1000}) || ds.Classes != nil {
		t.Errorf("targets %v %v, classes %v", ds.Train.Y.Float, ds.Test.Y.Float, ds.Classes)
	}
	// rooms: mean 3.5 and std 0.5 of the training rows.
	if !slices.Equal(ds.Train.X.Float, []float32{-1, 1}) || !slices.Equal(ds.Test.X.Float, []float32{-3}) {
		t.Errorf("x %v %v", ds.Train.X.Float, ds.Test.X.Float)
	}
}

// TestTableGlob: a glob reads its files in sorted order as one table, a
// bad row is named in its own file, and Folder is the folder above the
// pattern.
func TestTableGlob(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "shards", "part-2.csv"), irisHeader+"6.3,3.3,6.0,2.5,virginica\n7.0,3.2,4.7,1.4,versicolor\n")
	writeText(t, filepath.Join(dir, "shards", "part-1.csv"), irisHeader+"5.1,3.5,1.4,0.2,setosa\n6.4,3.2,4.5,1.5,versicolor\n5.8,2.7,5.1,1.9,virginica\n")
	l := irisLoader("shards/part-*.csv")
	l.Stratify, l.TestFraction = false, 0.2
	ds := load(t, l, dir)
	if n := ds.Train.Len() + ds.Test.Len(); n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
	writeText(t, filepath.Join(dir, "shards", "part-3.csv"), irisHeader+"6.3,3.3,6.0,2.5,virginica\n7.0,x,4.7,1.4,versicolor\n")
	_, err := l.Load(dir)
	dataError(t, err, "part-3.csv:3", `column "sepal_width"`)

	for path, want := range map[string]string{
		"iris/iris.csv":        "iris",
		"iris.csv":             ".",
		"shards/part-*.csv":    "shards",
		"a/*/b/x.csv":          "a",
		"/abs/tables/x.arrow":  "/abs/tables",
		"./a/b/../c/*.parquet": "a/c",
	} {
		if got := newTable(path).Folder(); got != want {
			t.Errorf("Folder of %s: %q, want %q", path, got, want)
		}
	}
}

// TestTableAbsolutePath: an absolute path is read as it is, whatever the
// data directory.
func TestTableAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	irisTable(3).writeCSV(t, filepath.Join(dir, "iris.csv"), ',')
	ds := load(t, irisLoader(filepath.Join(dir, "iris.csv")), "/nonexistent")
	if ds.Train.Len() != 120 {
		t.Errorf("%d training rows", ds.Train.Len())
	}
}

// TestTableDecodeInput: predict's input, a file of one row, is encoded
// exactly as the same row in the dataset, with the training statistics.
func TestTableDecodeInput(t *testing.T) {
	dir := t.TempDir()
	tab := adultTable(200, 4)
	tab.writeCSV(t, filepath.Join(dir, "adult.csv"), ',')
	l := adultLoader("adult.csv")
	ds := load(t, l, dir)
	var firstTest []string
	for _, r := range tab.rows {
		if r[tab.col("split")] == "test" && r[tab.col("native_country")] != na {
			firstTest = r
			break
		}
	}
	one := testTable{header: tab.header, numeric: tab.numeric, rows: [][]string{firstTest}}
	input := filepath.Join(t.TempDir(), "row.csv")
	one.writeCSV(t, input, ',')
	x, err := l.DecodeInput(dir, input, readBytes(t, input))
	if err != nil {
		t.Fatal(err)
	}
	width := ds.Test.X.Size()
	if !slices.Equal(x.Float, ds.Test.X.Float[:width]) || !slices.Equal(x.Shape, ds.Test.X.Shape) {
		t.Errorf("decoded %v, the dataset has %v", x.Float, ds.Test.X.Float[:width])
	}

	one.rows = append(one.rows, firstTest)
	one.writeCSV(t, input, ',')
	_, err = l.DecodeInput(dir, input, readBytes(t, input))
	dataError(t, err, "row.csv", "2 rows: pipe predict takes one row per file")

	dropped := slices.Clone(firstTest)
	dropped[tab.col("native_country")] = na
	one.rows = [][]string{dropped}
	one.writeCSV(t, input, ',')
	_, err = l.DecodeInput(dir, input, readBytes(t, input))
	dataError(t, err, "row.csv:2", `column "native_country"`, "missing: drop leaves no prediction")
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
