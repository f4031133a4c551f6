package rundir

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot size of history.png.
const plotWidth, plotHeight = 6 * vg.Inch, 7 * vg.Inch

// writeHistoryPlot draws the course's figure: one panel per metric (loss
// on top, then accuracy or rmse...), training and validation over epochs.
func writeHistoryPlot(path, title string, h *data.History) error {
	panels, err := historyPanels(title, h)
	if err != nil || len(panels) == 0 {
		return err
	}
	img := vgimg.New(plotWidth, plotHeight)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(8)}
	canvases := plot.Align(columnOf(panels), tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	return writePNG(img, path)
}

// historyPanels are the panels of history.png: one per metric, its
// training and validation series together.
func historyPanels(title string, h *data.History) ([]*plot.Plot, error) {
	var panels []*plot.Plot
	for i, name := range h.Names {
		if strings.HasPrefix(name, "val_") {
			continue
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s", title, name)
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = name
		p.X.Tick.Marker, p.Y.Tick.Marker = distinctTicks{}, distinctTicks{}
		// Errors fall and accuracy rises: put the legend where the curves are not.
		p.Legend.Top = name != "accuracy"
		if err := addSeries(p, "train", h.Values[i], color.RGBA{B: 200, A: 255}); err != nil {
			return nil, err
		}
		for j, other := range h.Names {
			if other == "val_"+name {
				if err := addSeries(p, "validation", h.Values[j], color.RGBA{R: 220, G: 100, A: 255}); err != nil {
					return nil, err
				}
			}
		}
		panels = append(panels, p)
	}
	return panels, nil
}

// distinctTicks places ticks where gonum's DefaultTicks does and labels
// them with as many digits as they need to read differently. DefaultTicks
// takes its label precision from the tick step's magnitude and, for steps
// below 0.1, uses it as a count of significant digits: the narrow range of
// a one- or two-epoch history (losses 2.301 to 2.309) gets every label
// "2.3" or "2.31". Here the precision is the smallest that gives every
// labelled tick a label within a thousandth of a step of its value, so
// neighbouring labels differ and read as the values they mark.
type distinctTicks struct{}

var _ plot.Ticker = distinctTicks{}

func (distinctTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var major []int
	for i, t := range ticks {
		if t.Label != "" {
			major = append(major, i)
		}
	}
	if len(major) == 0 {
		return ticks
	}
	step := hi - lo
	for k := 1; k < len(major); k++ {
		step = math.Min(step, math.Abs(ticks[major[k]].Value-ticks[major[k-1]].Value))
	}
	// Fixed-point labels unless the values are so large or small that
	// they would need many zeros; then exponent form (1.5e-07).
	var biggest float64
	for _, i := range major {
		biggest = math.Max(biggest, math.Abs(ticks[i].Value))
	}
	format := byte('f')
	if biggest >= 1e6 || biggest < 1e-3 && biggest > 0 {
		format = 'e'
	}
	values := make([]float64, len(major))
	for k, i := range major {
		values[k] = ticks[i].Value
	}
	var labels []string
	ok := false
	for prec := 0; prec <= 17 && !ok; prec++ {
		labels, ok = tickLabels(values, format, prec, step/1000)
	}
	if !ok { // not expected of DefaultTicks' values; the shortest exact form differs for differing values
		labels, _ = tickLabels(values, 'g', -1, math.Inf(1))
	}
	for k, i := range major {
		ticks[i].Label = labels[k]
	}
	return ticks
}

// tickLabels formats values with prec digits, and reports whether each
// label is within tol of its value and differs from its neighbour's.
func tickLabels(values []float64, format byte, prec int, tol float64) ([]string, bool) {
	labels := make([]string, len(values))
	ok := true
	for k, x := range values {
		labels[k] = strconv.FormatFloat(x, format, prec, 64)
		v, _ := strconv.ParseFloat(labels[k], 64)
		if math.Abs(v-x) > tol || k > 0 && labels[k] == labels[k-1] {
			ok = false
		}
	}
	return labels, ok
}

// columnOf arranges panels one per row.
func columnOf(panels []*plot.Plot) [][]*plot.Plot {
	rows := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		rows[i] = []*plot.Plot{p}
	}
	return rows
}

func addSeries(p *plot.Plot, label string, values []float64, c color.Color) error {
	pts := make(plotter.XYs, len(values))
	for i, v := range values {
		pts[i] = plotter.XY{X: float64(i + 1), Y: v}
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	line.Color, points.Color = c, c
	line.Width = vg.Points(1.5)
	p.Add(line, points)
	p.Legend.Add(label, line, points)
	return nil
}

// writePNG writes the canvas img to path as a PNG.
func writePNG(img *vgimg.Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
