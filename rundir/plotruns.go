package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/pipe-ml/pipe/spec"
)

// Size of pipe plot's axes; the legend below them adds a line a run.
const runsPlotWidth, runsPlotHeight = 8 * vg.Inch, 5 * vg.Inch

// SeriesError is a run whose history.json lacks the series asked for (or
// holds it without a single epoch).
type SeriesError struct {
	Run, Series string
	Has         []string // the series it has, sorted
}

func (e *SeriesError) Error() string {
	if slices.Contains(e.Has, e.Series) {
		return fmt.Sprintf("%s: history.json has no epoch of %s (the run stopped before its first epoch ended)", e.Run, e.Series)
	}
	has := "none"
	if len(e.Has) > 0 {
		has = strings.Join(e.Has, ", ")
	}
	// A close name is suggested, the list of what it has following
	// anyway. A name cut short (val_acc) means the series it begins; edit
	// distance alone would offer val_loss.
	hint := spec.DidYouMean(e.Series, e.Has)
	var begun []string
	for _, h := range e.Has {
		if strings.HasPrefix(h, e.Series) {
			begun = append(begun, strconv.Quote(h))
		}
	}
	switch {
	case len(begun) > 0:
		hint = " (did you mean " + strings.Join(begun, " or ") + "?)"
	case !strings.HasPrefix(hint, " (did you mean"):
		hint = ""
	}
	return fmt.Sprintf("%s: history.json has no %s series%s; it has %s", e.Run, e.Series, hint, has)
}

// PlotRuns draws the per-epoch series metric (loss, val_accuracy, ...) of
// each run directory in dirs as one curve of a PNG written to path, in the
// order given. A curve's legend is the run's spec name with the spec fields
// that set it apart from the other listed runs of that spec (as pipe runs
// shows them), or its directory where those do not tell it apart. Every
// run is read before anything is drawn: a run that is no run directory,
// or lacks the series (a SeriesError, one per run), writes nothing.
func PlotRuns(path, metric string, dirs []string) error {
	curves := make([][]float64, len(dirs))
	var errs []error
	for i, dir := range dirs {
		run, err := Open(dir)
		if err != nil {
			return err
		}
		series, err := run.History()
		if err != nil {
			return err
		}
		if v := series[metric]; len(v) > 0 {
			curves[i] = v
			continue
		}
		has := slices.Sorted(maps.Keys(series))
		errs = append(errs, &SeriesError{Run: dir, Series: metric, Has: has})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	labels := curveLabels(dirs)
	p := plot.New()
	p.Title.Text = metric + " per epoch"
	p.X.Label.Text, p.Y.Label.Text = "epoch", metric
	p.X.Tick.Marker, p.Y.Tick.Marker = distinctTicks{}, distinctTicks{}
	for i, v := range curves {
		if err := addSeries(p, labels[i], v, plotutil.Color(i)); err != nil {
			return err
		}
	}
	// The legend goes below the axes, one run a line: inside them it
	// would hide the curves of some run whatever the corner, and labels
	// with params are long.
	legend := p.Legend
	p.Legend = plot.NewLegend()
	legend.Top, legend.Left = true, true
	r := legend.Rectangle(draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: runsPlotWidth, Y: runsPlotHeight}}})
	legendHeight := r.Max.Y - r.Min.Y + vg.Inch/4
	img := vgimg.New(runsPlotWidth, runsPlotHeight+legendHeight)
	dc := draw.New(img)
	// A margin on the right: gonum draws the data area to the edge, which
	// would halve the last epoch's marks.
	p.Draw(draw.Crop(dc, 0, -vg.Inch/4, legendHeight, 0))
	legend.Draw(draw.Crop(dc, vg.Inch/2, 0, vg.Inch/8, -runsPlotHeight))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// curveLabels names each run for the legend: its spec name when no other
// listed run has it; with the fields that differ among the runs of that
// spec (model.k=30 train.epochs=5) when there are some; else (reruns of
// the same spec) its directory. Runs whose files cannot be read for this
// are named by their directory.
func curveLabels(dirs []string) []string {
	infos := map[string]*Info{}
	named := map[string]int{}
	for _, info := range List(dirs).Runs {
		infos[info.Dir] = info
		named[info.Name]++
	}
	labels := make([]string, len(dirs))
	for i, dir := range dirs {
		info := infos[dir]
		switch {
		case info == nil:
			labels[i] = dir
		case named[info.Name] == 1:
			labels[i] = info.Name
		case len(info.Params) > 0:
			params := make([]string, len(info.Params))
			for j, l := range info.Params {
				params[j] = l.Path + "=" + l.Value
			}
			labels[i] = info.Name + " " + strings.Join(params, " ")
		default:
			labels[i] = dir
		}
	}
	// The same directory given twice, or runs that differ only in what
	// the spec does not hold: the directory tells them apart.
	count := map[string]int{}
	for _, l := range labels {
		count[l]++
	}
	for i, l := range labels {
		if count[l] > 1 && l != dirs[i] {
			labels[i] += " (" + dirs[i] + ")"
		}
	}
	return labels
}
