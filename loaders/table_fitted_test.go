package loaders_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/loaders"
)

// TestTableFittedRestore: the statistics Load fitted, stored and restored
// into a fresh loader, encode predict's row exactly as the dataset has it,
// with the data directory gone; and they round-trip byte for byte.
func TestTableFittedRestore(t *testing.T) {
	dir := t.TempDir()
	tab := adultTable(200, 4)
	tab.writeCSV(t, filepath.Join(dir, "adult.csv"), ',')
	ds := load(t, adultLoader("adult.csv"), dir)
	trained := adultLoader("adult.csv")
	if _, err := trained.Load(dir); err != nil {
		t.Fatal(err)
	}
	state := trained.Fitted()
	for _, want := range []string{`"column":"age"`, `"categories":["HS-grad","Bachelors","Masters"]`} {
		if !strings.Contains(string(state), want) {
			t.Errorf("fitted state lacks %s: %s", want, state)
		}
	}
	var firstTest []string
	for _, r := range tab.rows {
		if r[tab.col("split")] == "test" && r[tab.col("native_country")] != na {
			firstTest = r
			break
		}
	}
	input := filepath.Join(t.TempDir(), "row.csv")
	testTable{header: tab.header, numeric: tab.numeric, rows: [][]string{firstTest}}.writeCSV(t, input, ',')
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}

	fresh := adultLoader("adult.csv")
	if _, err := fresh.DecodeInput(dir, input, readBytes(t, input)); err == nil || !strings.Contains(err.Error(), "fitted.json") {
		t.Errorf("a loader with no statistics decoded a row (err %v)", err)
	}
	if err := fresh.Restore(state); err != nil {
		t.Fatal(err)
	}
	x, err := fresh.DecodeInput(dir, input, readBytes(t, input))
	if err != nil {
		t.Fatal(err)
	}
	if width := ds.Test.X.Size(); !slices.Equal(x.Float, ds.Test.X.Float[:width]) {
		t.Errorf("restored statistics decoded %v, the dataset has %v", x.Float, ds.Test.X.Float[:width])
	}
	if again := fresh.Fitted(); !bytes.Equal(again, state) {
		t.Errorf("round trip changed the state:\n%s\n%s", state, again)
	}

	other := adultLoader("adult.csv")
	other.Features[1].Column = "age2"
	if err := other.Restore(state); err == nil || !strings.Contains(err.Error(), `"hours_per_week", not "age2"`) {
		t.Errorf("statistics of another column restored (err %v)", err)
	}
}

// TestTableFittedText: a text column's stored words, cut at num_words,
// give the word indices of the loaded dataset.
func TestTableFittedText(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "r.csv"), reviewsCSV)
	input := filepath.Join(t.TempDir(), "row.csv")
	writeText(t, input, "review\nawful movie good\n")
	newText := func() *loaders.Table {
		l := newTable("r.csv")
		l.Features = []loaders.TableColumn{{Column: "review", Type: "text", NumWords: 6, MaxLen: 5}}
		l.Target, l.Classes, l.SplitColumn = "label", []string{"neg", "pos"}, "split"
		return l
	}
	l := newText()
	ds := load(t, l, dir)
	state := l.Fitted()
	if !strings.Contains(string(state), `"words":["good","movie"]`) {
		t.Errorf("text state %s; want the words of index below num_words 6", state)
	}
	fresh := newText()
	if err := fresh.Restore(state); err != nil {
		t.Fatal(err)
	}
	x, err := fresh.DecodeInput(dir, input, readBytes(t, input))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Int, ds.Test.X.Int) {
		t.Errorf("decoded %v, the dataset has %v", x.Int, ds.Test.X.Int)
	}
}
