package rundir

import (
	"fmt"
	"image/color"
	"os"
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
	var panels []*plot.Plot
	for i, name := range h.Names {
		if strings.HasPrefix(name, "val_") {
			continue
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s", title, name)
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = name
		// Errors fall and accuracy rises: put the legend where the curves are not.
		p.Legend.Top = name != "accuracy"
		if err := addSeries(p, "train", h.Values[i], color.RGBA{B: 200, A: 255}); err != nil {
			return err
		}
		for j, other := range h.Names {
			if other == "val_"+name {
				if err := addSeries(p, "validation", h.Values[j], color.RGBA{R: 220, G: 100, A: 255}); err != nil {
					return err
				}
			}
		}
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	img := vgimg.New(plotWidth, plotHeight)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(8)}
	canvases := plot.Align(columnOf(panels), tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
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
