package loaders_test

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// splitSink collects a streamed table, checking the batch sizes.
type splitSink struct {
	t     *testing.T
	rows  int
	want  [2]int
	got   [2]data.Split
	short [2]bool // a batch shorter than rows came: it must be the last
	began bool
	x, y  data.Schema
}

func (s *splitSink) Begin(train, test int) error {
	s.began, s.want = true, [2]int{train, test}
	for i := range s.got {
		s.got[i] = data.Split{X: data.Array{Schema: s.x}, Y: data.Array{Schema: s.y}}
	}
	return nil
}

func (s *splitSink) Write(test bool, b *data.Split) error {
	i := map[bool]int{false: 0, true: 1}[test]
	if !s.began || s.short[i] || b.Len() > s.rows || b.Len() == 0 {
		s.t.Errorf("batch of %d (split %d) after a short one %v, begun %v", b.Len(), i, s.short[i], s.began)
	}
	s.short[i] = b.Len() < s.rows
	g := &s.got[i]
	g.X.Float, g.X.Int = append(g.X.Float, b.X.Float...), append(g.X.Int, b.X.Int...)
	g.Y.Float, g.Y.Int = append(g.Y.Float, b.Y.Float...), append(g.Y.Int, b.Y.Int...)
	return nil
}

func stream(t *testing.T, l *loaders.Table, dir string, rows int) (*splitSink, []string, error) {
	t.Helper()
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	x, y := l.Schemas()
	sink := &splitSink{t: t, rows: rows, x: x, y: y}
	classes, err := l.LoadStream(dir, rows, sink)
	if err == nil && (sink.got[0].Len() != sink.want[0] || sink.got[1].Len() != sink.want[1]) {
		t.Errorf("Begin said %v rows, %d and %d came", sink.want, sink.got[0].Len(), sink.got[1].Len())
	}
	return sink, classes, err
}

// TestTableStreamMatchesLoad: an adult-layout table (numeric columns
// filled with the mean or a constant, categorical ones cut to their most
// frequent values or a vocabulary, rows dropped for a missing value, a
// split column) streamed in chunks of 7 rows gives Load's arrays and
// fitted statistics exactly, from CSV and from Parquet, with the classes
// listed or counted.
func TestTableStreamMatchesLoad(t *testing.T) {
	dir := t.TempDir()
	tab := adultTable(500, 3)
	tab.writeCSV(t, filepath.Join(dir, "adult.csv"), ',')
	tab.writeParquet(t, filepath.Join(dir, "adult.parquet"))
	for _, c := range []struct {
		file    string
		counted bool
	}{{"adult.csv", false}, {"adult.csv", true}, {"adult.parquet", false}} {
		newLoader := func() *loaders.Table {
			l := adultLoader(c.file)
			if c.counted {
				l.Classes, l.NumClasses = nil, 2
			}
			return l
		}
		mem := newLoader()
		ds := load(t, mem, dir)
		streamed := newLoader()
		sink, classes, err := stream(t, streamed, dir, 7)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if !reflect.DeepEqual(sink.got[0], ds.Train) || !reflect.DeepEqual(sink.got[1], ds.Test) {
			t.Errorf("%s (counted classes %v): the streamed splits differ from Load's", c.file, c.counted)
		}
		if !reflect.DeepEqual(classes, ds.Classes) {
			t.Errorf("%s: classes %v, Load %v", c.file, classes, ds.Classes)
		}
		if a, b := streamed.Fitted(), mem.Fitted(); !bytes.Equal(a, b) {
			t.Errorf("%s: fitted state streamed\n%s\nloaded\n%s", c.file, a, b)
		}
		if !strings.Contains(string(streamed.Fitted()), `"std":`) {
			t.Errorf("no standard deviation in %s", streamed.Fitted())
		}
	}
}

// TestTableStreamRandomSplit: without a split column a streamed table
// holds out exactly round(test_fraction × rows) rows, the same ones for
// the same split_seed, in file order, and other ones for another seed.
func TestTableStreamRandomSplit(t *testing.T) {
	dir := t.TempDir()
	tab := adultTable(400, 5)
	tab.writeCSV(t, filepath.Join(dir, "adult.csv"), ',')
	newLoader := func(seed int) *loaders.Table {
		l := adultLoader("adult.csv")
		l.SplitColumn, l.TestFraction, l.SplitSeed = "", 0.3, seed
		return l
	}
	ds := load(t, newLoader(1), dir)
	kept := ds.Train.Len() + ds.Test.Len()
	a, _, err := stream(t, newLoader(1), dir, 16)
	if err != nil {
		t.Fatal(err)
	}
	if n := a.got[1].Len(); n != int(math.Round(0.3*float64(kept))) || a.got[0].Len()+n != kept {
		t.Errorf("%d test and %d training rows of %d; want round(0.3 × %d) test", n, a.got[0].Len(), kept, kept)
	}
	again, _, _ := stream(t, newLoader(1), dir, 5)
	other, _, _ := stream(t, newLoader(2), dir, 16)
	if !reflect.DeepEqual(again.got, a.got) {
		t.Errorf("the same seed in other chunks split otherwise")
	}
	if reflect.DeepEqual(other.got[1].Y, a.got[1].Y) && reflect.DeepEqual(other.got[1].X, a.got[1].X) {
		t.Errorf("another seed held out the same rows")
	}
}

// TestTableStreamErrors: what cannot stream is named by its param, and a
// bad cell is reported as Load reports it, by file and line.
func TestTableStreamErrors(t *testing.T) {
	for _, c := range []struct {
		edit  func(*loaders.Table)
		param string
	}{
		{func(l *loaders.Table) { l.SplitColumn, l.Stratify = "", true }, "stratify"},
		{func(l *loaders.Table) { l.Features[0].Missing = "mode" }, "features[0].missing"},
		{func(l *loaders.Table) {
			l.Features = []loaders.TableColumn{{Column: "education", Type: "text", MaxLen: 4}}
		}, "features[0].type"},
	} {
		l := adultLoader("adult.csv")
		c.edit(l)
		if param, why := l.CannotStream(); param != c.param || why == "" {
			t.Errorf("CannotStream %q (%s); want %q", param, why, c.param)
		}
	}
	if param, _ := adultLoader("adult.csv").CannotStream(); param != "" {
		t.Errorf("the adult loader cannot stream: %s", param)
	}

	dir := t.TempDir()
	tab := adultTable(60, 2)
	tab.rows[41][tab.col("age")] = "forty"
	tab.writeCSV(t, filepath.Join(dir, "adult.csv"), ',')
	_, loadErr := adultLoader("adult.csv").Load(dir)
	_, _, err := stream(t, adultLoader("adult.csv"), dir, 8)
	if err == nil || loadErr == nil || err.Error() != loadErr.Error() || !strings.Contains(err.Error(), "adult.csv:43") {
		t.Errorf("streamed: %v\nLoad: %v", err, loadErr)
	}
}
