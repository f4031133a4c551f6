package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart is a figure of line charts one above the other, as history.png's
// panels are laid out; pipe bench --curves draws each cost curve as one.
type Chart struct {
	Panels []Panel
}

// Panel is one line chart. On log-log axes a power law y = c·x^k is a
// straight line of slope k, which is how a cost curve shows its growth.
type Panel struct {
	Title, X, Y string
	LogX, LogY  bool
	Series      []Series
}

// Series is one line of a panel: points (X[i], Y[i]) in order of X.
type Series struct {
	Label string
	X, Y  []float64
}

// Size of one panel of a chart.
const chartWidth, chartPanelHeight = 6 * vg.Inch, 3.5 * vg.Inch

// EncodeChart draws c as a PNG. A log axis needs every value on it to be
// positive; a series without points is left out, and a panel without any
// is an error.
func EncodeChart(c Chart) ([]byte, error) {
	if len(c.Panels) == 0 {
		return nil, errors.New("a chart needs a panel")
	}
	panels := make([]*plot.Plot, len(c.Panels))
	for i, pc := range c.Panels {
		p, err := pc.plot()
		if err != nil {
			return nil, err
		}
		panels[i] = p
	}
	img := vgimg.New(chartWidth, chartPanelHeight*vg.Length(len(panels)))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(8), PadRight: vg.Points(12)}
	canvases := plot.Align(columnOf(panels), tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (pc Panel) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = pc.Title, pc.X, pc.Y
	p.X.Tick.Marker, p.Y.Tick.Marker = distinctTicks{}, distinctTicks{}
	if pc.LogX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if pc.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	p.Legend.Top, p.Legend.Left = true, true
	drawn := 0
	for i, s := range pc.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("%s: series %s has %d x and %d y values", pc.Title, s.Label, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(s.X))
		for k := range s.X {
			if pc.LogX && !(s.X[k] > 0) || pc.LogY && !(s.Y[k] > 0) || math.IsInf(s.X[k], 0) || math.IsInf(s.Y[k], 0) {
				return nil, fmt.Errorf("%s: series %s has the point (%g, %g), which its axes cannot show", pc.Title, s.Label, s.X[k], s.Y[k])
			}
			pts[k] = plotter.XY{X: s.X[k], Y: s.Y[k]}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = plotutil.Color(i), plotutil.Color(i)
		line.Width = vg.Points(1.5)
		line.Dashes = plotutil.Dashes(i)
		p.Add(line, points)
		p.Legend.Add(s.Label, line, points)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%s: no points to draw", pc.Title)
	}
	return p, nil
}

// logTicks labels a log axis at 1, 2 and 5 times the powers of ten within
// its range, or at every digit times them where those are fewer than
// three: gonum's LogTicks labels the powers of ten only, which leaves a
// curve within one decade (peak RSS from 200 to 400 MB) without a label.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := func(mantissas []float64) []plot.Tick {
		var ts []plot.Tick
		for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
			for _, m := range mantissas {
				if v := m * math.Pow(10, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
				}
			}
		}
		return ts
	}
	if ts := ticks([]float64{1, 2, 5}); len(ts) >= 3 {
		return ts
	}
	return ticks([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
}
