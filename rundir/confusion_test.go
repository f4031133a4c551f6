package rundir

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

// decodePNG reads path as a PNG image.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// countColour counts the pixels of img that are exactly c.
func countColour(img image.Image, c color.Color) int {
	r0, g0, b0, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == r0 && g == g0 && b == b0 {
				n++
			}
		}
	}
	return n
}

// TestConfusionPlot draws a 3-class matrix with long class names: a PNG
// of the size the class count gives, whose cells are filled with their
// row's share: a row all on the diagonal is the darkest shade over a
// whole cell, the empty cells the lightest.
func TestConfusionPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), ConfusionPlot)
	c := Confusion{Classes: []string{"airplane", "automobile", "bird"}, Counts: [][]int{{40, 0, 0}, {3, 30, 7}, {0, 10, 10}}}
	if err := writeConfusionPlot(path, "cifar", c); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	if b := img.Bounds(); b.Dx() != 432 || b.Dy() != 432 { // 4.5 inches at 96 dpi
		t.Errorf("confusion.png is %dx%d, want 432x432", b.Dx(), b.Dy())
	}
	// A cell is 4.5 inches less the margins over 3: well over 60x60 pixels.
	if n := countColour(img, shade(1)); n < 60*60 {
		t.Errorf("%d pixels of the full share's shade, want a whole cell's", n)
	}
	if n := countColour(img, shade(0)); n < 3*60*60 {
		t.Errorf("%d pixels of the empty shade, want the 4 empty cells'", n)
	}
	if n := countColour(img, shade(0.5)); n < 60*60 { // bird: 10 of 20 twice
		t.Errorf("%d pixels of the half share's shade, want two cells'", n)
	}
	// Many classes: the figure stops growing, the cells shrink.
	many := Confusion{}
	for i := range 60 {
		many.Classes = append(many.Classes, "class "+strings.Repeat("x", i%7))
		row := make([]int, 60)
		row[i] = 1000
		many.Counts = append(many.Counts, row)
	}
	if err := writeConfusionPlot(path, "many", many); err != nil {
		t.Fatal(err)
	}
	if b := decodePNG(t, path).Bounds(); b.Dx() != 14*96 {
		t.Errorf("60 classes: %d pixels wide, want the most, %d", b.Dx(), 14*96)
	}
	for _, bad := range []Confusion{{}, {Classes: []string{"a", "b"}, Counts: [][]int{{1, 2}}}, {Classes: []string{"a", "b"}, Counts: [][]int{{1, 2}, {3}}}} {
		if err := writeConfusionPlot(path, "bad", bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestReportWritten: a run written with a report holds report.json,
// report.txt and confusion.png; its metrics.json's class names are what
// Classes reads back, and a run without them reads none.
func TestReportWritten(t *testing.T) {
	h := &data.History{Names: []string{"loss"}, Values: [][]float64{{1}}}
	rep := &Report{JSON: map[string]any{"accuracy": 0.5}, Text: []byte("| class |\n"),
		Confusion: Confusion{Classes: []string{"neg", "pos"}, Counts: [][]int{{1, 1}, {0, 2}}}}
	c := Contents{Spec: []byte("name: t\n"), Metrics: map[string]any{"classes": []string{"neg", "pos"}}, History: h, Report: rep}
	dir, err := Write(t.TempDir(), "t", c, "")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ReportFile)); err != nil || string(b) != "{\n  \"accuracy\": 0.5\n}\n" {
		t.Errorf("report.json: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ReportText)); err != nil || string(b) != "| class |\n" {
		t.Errorf("report.txt: %q %v", b, err)
	}
	decodePNG(t, filepath.Join(dir, ConfusionPlot))
	if classes, err := (&Run{Dir: dir}).Classes(); err != nil || !slices.Equal(classes, []string{"neg", "pos"}) {
		t.Errorf("Classes: %q %v", classes, err)
	}
	c.Report, c.Metrics = nil, map[string]any{}
	dir, err = Write(t.TempDir(), "t", c, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ReportFile, ReportText, ConfusionPlot} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a run without a report has %s", f)
		}
	}
	if classes, err := (&Run{Dir: dir}).Classes(); err != nil || classes != nil {
		t.Errorf("Classes of a run without: %q %v", classes, err)
	}
}
