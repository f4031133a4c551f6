package rundir

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

func TestEncodeChart(t *testing.T) {
	c := Chart{Panels: []Panel{
		{Title: "mnist_cnn: training", X: "batch", Y: "samples/s", LogX: true, LogY: true,
			Series: []Series{{Label: "pipe", X: []float64{16, 32, 64}, Y: []float64{900, 1500, 2100}}}},
		{Title: "mnist_cnn: peak RSS", X: "batch", Y: "MB", LogX: true,
			Series: []Series{{Label: "pipe", X: []float64{16, 32, 64}, Y: []float64{210, 230, 260}}, {Label: "none"}}},
	}}
	b, err := EncodeChart(c)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != int(chartWidth.Dots(96)) || h != int(2*chartPanelHeight.Dots(96)) {
		t.Errorf("a chart of two panels is %dx%d pixels", w, h)
	}
	for _, c := range []struct {
		chart Chart
		want  string
	}{
		{Chart{}, "a chart needs a panel"},
		{Chart{Panels: []Panel{{Title: "t", LogY: true, Series: []Series{{Label: "s", X: []float64{1}, Y: []float64{0}}}}}}, "t: series s has the point (1, 0), which its axes cannot show"},
		{Chart{Panels: []Panel{{Title: "t", Series: []Series{{Label: "s", X: []float64{1, 2}, Y: []float64{1}}}}}}, "t: series s has 2 x and 1 y values"},
		{Chart{Panels: []Panel{{Title: "t", Series: []Series{{Label: "s"}}}}}, "t: no points to draw"},
	} {
		if _, err := EncodeChart(c.chart); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	labels := func(ts []plot.Tick) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.Label)
		}
		return strings.Join(s, " ")
	}
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{16, 512, "20 50 100 200 500"},
		{1e5, 1e7, "100000 200000 500000 1e+06 2e+06 5e+06 1e+07"},
		{210, 390, "300"}, // fewer than three at 1, 2, 5: every digit
		{150, 950, "200 300 400 500 600 700 800 900"},
	} {
		if got := labels(logTicks{}.Ticks(c.lo, c.hi)); got != c.want {
			t.Errorf("ticks of [%g, %g]: %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}
