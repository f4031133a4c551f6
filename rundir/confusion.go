package rundir

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Confusion is a confusion matrix: Counts[true class][predicted class].
type Confusion struct {
	Classes []string
	Counts  [][]int
}

// Sizes of confusion.png: a cell is cellSide, the figure at least
// minSide (room for the labels of a two-class task) and at most maxSide,
// past which cells shrink (a hundred classes stay one readable image).
const (
	cellSide = 0.55 * vg.Inch
	minSide  = 4.5 * vg.Inch
	maxSide  = 14 * vg.Inch
)

// writeConfusionPlot draws the matrix as a grid: true classes down the
// side, the first at the top as in report.txt, predicted classes along the
// bottom, each cell holding its count on a shade of blue that is the
// cell's share of its true class, so that the diagonal of a good model
// stands out whatever the class sizes.
func writeConfusionPlot(path, title string, c Confusion) error {
	k := len(c.Classes)
	if k == 0 || len(c.Counts) != k {
		return fmt.Errorf("%d class names for %d rows of counts", k, len(c.Counts))
	}
	for i, row := range c.Counts {
		if len(row) != k {
			return fmt.Errorf("row %d has %d counts for %d classes", i, len(row), k)
		}
	}
	p := plot.New()
	p.Title.Text = title + ": confusion matrix\n(colour: share of the true class)"
	p.X.Label.Text, p.Y.Label.Text = "predicted class", "true class"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, float64(k), 0, float64(k)
	p.X.Padding, p.Y.Padding = 0, 0
	xTicks, yTicks := make(plot.ConstantTicks, k), make(plot.ConstantTicks, k)
	longest := 0
	for i, name := range c.Classes {
		xTicks[i] = plot.Tick{Value: float64(i) + 0.5, Label: name}
		yTicks[i] = plot.Tick{Value: float64(k-1-i) + 0.5, Label: name}
		longest = max(longest, len([]rune(name)))
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xTicks, yTicks
	if longest > 3 {
		// Names such as "automobile" would run into each other side by side.
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	}
	p.Add(confusionGrid{c})
	side := min(max(vg.Length(k)*cellSide+2*vg.Inch, minSide), maxSide)
	img := vgimg.New(side, side)
	// A margin on the right: gonum draws the data area to the edge.
	p.Draw(draw.Crop(draw.New(img), 0, -vg.Inch/4, 0, 0))
	return writePNG(img, path)
}

// confusionGrid is the plotter of the cells: the data coordinates are
// cell units, column j from x = j, row i from y = k-1-i.
type confusionGrid struct{ Confusion }

var _ plot.Plotter = confusionGrid{}

func (g confusionGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	k := float64(len(g.Classes))
	return 0, k, 0, k
}

func (g confusionGrid) Plot(c draw.Canvas, p *plot.Plot) {
	k := len(g.Classes)
	trX, trY := p.Transforms(&c)
	cellW := trX(1) - trX(0)
	widest := 1
	for _, row := range g.Counts {
		for _, v := range row {
			widest = max(widest, len(strconv.Itoa(v)))
		}
	}
	// The count's font fits its cell: a digit is about 0.6 of the size.
	size := min(vg.Points(10), cellW/(0.6*vg.Length(widest)+0.8))
	sty := text.Style{Font: font.From(plot.DefaultFont, size), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	for i, row := range g.Counts {
		total := 0
		for _, v := range row {
			total += v
		}
		for j, v := range row {
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			x0, x1 := trX(float64(j)), trX(float64(j+1))
			y0, y1 := trY(float64(k-1-i)), trY(float64(k-i))
			c.FillPolygon(shade(share), []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			sty.Color = color.Black
			switch {
			case share > 0.5:
				sty.Color = color.White // on the dark end of the scale
			case v == 0:
				sty.Color = color.Gray{Y: 170} // zeros recede
			}
			c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, strconv.Itoa(v))
		}
	}
}

// shade is the colour of a share between 0 and 1, from near-white to dark
// blue (the end points of matplotlib's Blues).
func shade(share float64) color.Color {
	lo, hi := [3]float64{247, 251, 255}, [3]float64{8, 48, 107}
	var rgb [3]uint8
	for i := range rgb {
		rgb[i] = uint8(math.Round(lo[i] + share*(hi[i]-lo[i])))
	}
	return color.RGBA{R: rgb[0], G: rgb[1], B: rgb[2], A: 255}
}
