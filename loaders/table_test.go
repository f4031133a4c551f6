package loaders_test

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// newTable is the table loader with its registered defaults.
func newTable(path string) *loaders.Table {
	l, ok := loaders.Loaders.New("table")
	if !ok {
		panic("no table loader")
	}
	t := l.(*loaders.Table)
	t.Path = path
	return t
}

func irisLoader(path string) *loaders.Table {
	t := newTable(path)
	t.Features = []loaders.TableColumn{{Column: "sepal_length"}, {Column: "sepal_width"}, {Column: "petal_length"}, {Column: "petal_width"}}
	t.Target, t.NumClasses, t.Stratify = "species", 3, true
	return t
}

func load(t *testing.T, l *loaders.Table, dataDir string) *data.Dataset {
	t.Helper()
	if err := l.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ds, err := l.Load(dataDir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	x, y := l.Schemas()
	for _, s := range []data.Split{ds.Train, ds.Test} {
		if !reflect.DeepEqual(s.X.Schema, x) || !reflect.DeepEqual(s.Y.Schema, y) {
			t.Fatalf("loaded %v -> %v, Schemas says %v -> %v", s.X.Schema, s.Y.Schema, x, y)
		}
		if s.X.Len() != s.Y.Len() {
			t.Fatalf("%d examples of x, %d of y", s.X.Len(), s.Y.Len())
		}
	}
	return ds
}

// TestTableIris loads an iris-layout CSV: classes sorted, a stratified
// seeded split in shuffled order, features z-scored with statistics of
// the training split alone.
func TestTableIris(t *testing.T) {
	dir := t.TempDir()
	tab := irisTable(1)
	tab.writeCSV(t, filepath.Join(dir, "iris", "iris.csv"), ',')
	l := irisLoader("iris/iris.csv")
	ds := load(t, l, dir)

	if want := []string{"setosa", "versicolor", "virginica"}; !slices.Equal(ds.Classes, want) {
		t.Errorf("classes %v, want %v", ds.Classes, want)
	}
	if ds.Train.Len() != 120 || ds.Test.Len() != 30 {
		t.Fatalf("train %d, test %d; want 120 and 30", ds.Train.Len(), ds.Test.Len())
	}
	var perClass [3]int
	for _, y := range ds.Test.Y.Int {
		perClass[y]++
	}
	if perClass != [3]int{10, 10, 10} {
		t.Errorf("test rows per class %v, want 10 each (stratified)", perClass)
	}
	// The file is sorted by class; the split's order is shuffled, so the
	// first 30 training rows are not all setosa.
	if first := ds.Train.Y.Int[:30]; !slices.ContainsFunc(first, func(y int32) bool { return y != 0 }) {
		t.Errorf("the first training rows are all class 0: the split kept the file's order")
	}

	// The z-score comes from the training rows only: over them each
	// feature has mean 0 and standard deviation 1 (statistics of all 150
	// rows would leave the training split's mean off 0), over the test
	// rows it has not.
	for f := range 4 {
		mean, sd := meanStd(column(ds.Train.X.Float, 4, f))
		if math.Abs(mean) > 1e-5 || math.Abs(sd-1) > 1e-5 {
			t.Errorf("feature %d over the training split: mean %g, std %g; want 0 and 1", f, mean, sd)
		}
		if mean, _ := meanStd(column(ds.Test.X.Float, 4, f)); math.Abs(mean) < 1e-5 {
			t.Errorf("feature %d has mean %g over the test split too", f, mean)
		}
	}
	// Reloading gives the same dataset; another seed another split.
	if again := load(t, irisLoader("iris/iris.csv"), dir); !reflect.DeepEqual(again, ds) {
		t.Error("two loads differ")
	}
	other := irisLoader("iris/iris.csv")
	other.SplitSeed = 2
	if ds2 := load(t, other, dir); slices.Equal(ds2.Test.Y.Int, ds.Test.Y.Int) && slices.Equal(ds2.Test.X.Float, ds.Test.X.Float) {
		t.Error("split_seed 2 gives the same test split as 1")
	}
}

func column(x []float32, width, f int) []float64 {
	out := make([]float64, 0, len(x)/width)
	for i := f; i < len(x); i += width {
		out = append(out, float64(x[i]))
	}
	return out
}

func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

// dataError asserts err is a DataError whose path and message hold the
// given parts.
func dataError(t *testing.T, err error, parts ...string) {
	t.Helper()
	var de *data.DataError
	if !errors.As(err, &de) {
		t.Fatalf("want a DataError, got %T: %v", err, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

func adultLoader(path string) *loaders.Table {
	t := newTable(path)
	t.Features = []loaders.TableColumn{
		{Column: "age", Missing: "mean"},
		{Column: "hours_per_week", Missing: "constant", Fill: "40", Scale: "none"},
		{Column: "workclass", Type: "categorical", MaxCategories: 2, Missing: "mode"},
		{Column: "education", Type: "categorical", Vocabulary: []string{"HS-grad", "Bachelors", "Masters"}},
		{Column: "native_country", Type: "categorical", MaxCategories: 3, Missing: "drop"},
	}
	t.Target, t.Classes, t.SplitColumn = "income", []string{"<=50K", ">50K"}, "split"
	return t
}

// TestTableAdultPolicies loads an adult-census-like table with each
// missing-value policy and checks every value of x against the encoding
// computed here from the raw rows: fill values and statistics from the
// training rows, one-hot slots with the unknown bucket first.
func TestTableAdultPolicies(t *testing.T) {
	dir := t.TempDir()
	tab := adultTable(400, 3)
	tab.writeCSV(t, filepath.Join(dir, "adult", "adult.csv"), ',')
	ds := load(t, adultLoader("adult/adult.csv"), dir)

	c := tab.col
	var train, test [][]string
	dropped := 0
	for _, r := range tab.rows {
		switch {
		case r[c("native_country")] == na:
			dropped++
		case r[c("split")] == "train":
			train = append(train, r)
		default:
			test = append(test, r)
		}
	}
	if dropped == 0 {
		t.Fatal("the generated table has no missing native_country to drop")
	}
	if ds.Train.Len() != len(train) || ds.Test.Len() != len(test) {
		t.Fatalf("train %d, test %d rows; want %d and %d (%d dropped)", ds.Train.Len(), ds.Test.Len(), len(train), len(test), dropped)
	}
	var ages []float64
	counts := map[string]map[string]int{"workclass": {}, "native_country": {}}
	for _, r := range train {
		if v := r[c("age")]; v != na {
			f, _ := strconv.ParseFloat(v, 64)
			ages = append(ages, f)
		}
		for name, m := range counts {
			if v := r[c(name)]; v != na {
				m[v]++
			}
		}
	}
	ageMean, ageStd := meanStd(ages)
	top := func(name string) []string { // by count, ties by value
		m := counts[name]
		var vals []string
		for v := range m {
			vals = append(vals, v)
		}
		slices.SortFunc(vals, func(a, b string) int {
			if m[a] != m[b] {
				return m[b] - m[a]
			}
			return strings.Compare(a, b)
		})
		return vals
	}
	work, country := top("workclass")[:2], top("native_country")[:3]
	edu := []string{"HS-grad", "Bachelors", "Masters"}
	oneHot := func(v string, vocab []string) []float32 {
		out := make([]float32, len(vocab)+1)
		out[slices.Index(vocab, v)+1] = 1 // absent: -1 + 1 = the unknown slot
		return out
	}
	expect := func(r []string) []float32 {
		age := ageMean
		if v := r[c("age")]; v != na {
			age, _ = strconv.ParseFloat(v, 64)
		}
		hours := 40.0
		if v := r[c("hours_per_week")]; v != na {
			hours, _ = strconv.ParseFloat(v, 64)
		}
		wc := r[c("workclass")]
		if wc == na {
			wc = work[0] // the mode
		}
		x := []float32{float32((age - ageMean) / ageStd), float32(hours)}
		x = append(x, oneHot(wc, work)...)
		x = append(x, oneHot(r[c("education")], edu)...)
		return append(x, oneHot(r[c("native_country")], country)...)
	}
	const width = 2 + 3 + 4 + 4
	if got := ds.Train.X.Shape; !slices.Equal(got, []int{width}) {
		t.Fatalf("x shape %v, want [%d]", got, width)
	}
	sawUnknown, sawFill := false, 0
	for _, s := range []struct {
		name  string
		rows  [][]string
		split data.Split
	}{{"train", train, ds.Train}, {"test", test, ds.Test}} {
		for i, r := range s.rows {
			got, want := s.split.X.Float[i*width:(i+1)*width], expect(r)
			for k := range want {
				if math.Abs(float64(got[k]-want[k])) > 1e-6 {
					t.Fatalf("%s row %d (%v): x %v, want %v", s.name, i, r, got, want)
				}
			}
			if label := s.split.Y.Int[i]; ds.Classes[label] != r[c("income")] {
				t.Errorf("%s row %d: label %d (%s), want %s", s.name, i, label, ds.Classes[label], r[c("income")])
			}
			if r[c("education")] == "Doctorate" || !slices.Contains(work, r[c("workclass")]) && r[c("workclass")] != na {
				sawUnknown = true
			}
			if r[c("age")] == na || r[c("hours_per_week")] == na || r[c("workclass")] == na {
				sawFill++
			}
		}
	}
	if !sawUnknown || sawFill == 0 {
		t.Errorf("the generated table exercises too little: unknown bucket %v, filled rows %d", sawUnknown, sawFill)
	}
}

// TestTableFormatsAgree writes the same tables as CSV, TSV, Parquet and
// Arrow IPC and loads the same dataset from each: missing cells are "?"
// in the text files and nulls in the others.
func TestTableFormatsAgree(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		tab    testTable
		loader func(string) *loaders.Table
	}{
		{"iris", irisTable(5), irisLoader},
		{"adult", adultTable(300, 9), adultLoader},
	} {
		c.tab.writeCSV(t, filepath.Join(dir, c.name+".csv"), ',')
		c.tab.writeCSV(t, filepath.Join(dir, c.name+".tsv"), '\t')
		c.tab.writeParquet(t, filepath.Join(dir, c.name+".parquet"))
		c.tab.writeArrow(t, filepath.Join(dir, c.name+".arrow"))
		want := load(t, c.loader(c.name+".csv"), dir)
		for _, ext := range []string{".tsv", ".parquet", ".arrow"} {
			if got := load(t, c.loader(c.name+ext), dir); !reflect.DeepEqual(got, want) {
				t.Errorf("%s%s loads another dataset than %s.csv", c.name, ext, c.name)
			}
		}
	}
}
