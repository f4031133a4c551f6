package bench

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gomlx/compute"

	"github.com/pipe-ml/pipe/pipeline"
)

// FitLine is what one point of a curve over ratings (a child process,
// bench --one SPEC --one-fit) prints, as JSON.
type FitLine struct {
	Train     int     `json:"train"`
	Test      int     `json:"test"`
	Users     int     `json:"users"`
	Items     int     `json:"items"`
	LoadS     float64 `json:"load_s"`
	FitS      float64 `json:"fit_s"`
	PredictS  float64 `json:"predict_s"`
	BaseRSSMB float64 `json:"base_rss_mb"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// OneFit fits a plan on its data in this process and returns its line;
// base is the peak RSS before the data were loaded.
func OneFit(plan *pipeline.Plan, backend compute.Backend, dataDir string, base float64) (FitLine, error) {
	c, err := pipeline.BenchFit(plan, backend, dataDir)
	if err != nil {
		return FitLine{}, err
	}
	return FitLine{Train: c.Train, Test: c.Test, Users: c.Users, Items: c.Items, LoadS: c.Load.Seconds(),
		FitS: c.Fit.Seconds(), PredictS: c.Predict.Seconds(), BaseRSSMB: base, PeakRSSMB: PeakRSSMB()}, nil
}

// Point is one measured, extrapolated or failed point of a curve.
type Point struct {
	X int
	// The point's cost: Time is training samples/s (AxisBatch), seconds
	// per training step (AxisLength) or seconds of the fit (AxisRatings);
	// RSS the peak RSS in MB, Base the peak RSS before the model.
	Time, RSS, Base float64
	Predict         float64  // AxisRatings: seconds predicting the test split
	Line            *Line    // AxisBatch, AxisLength
	Fit             *FitLine // AxisRatings
	// Extrapolated: not run, Time and RSS are the growth of the two
	// points before carried on; Why says why it was not run.
	Extrapolated bool
	Why          string
	Err          error
}

// measured says whether p holds a measurement.
func (p Point) measured() bool { return p.Err == nil && !p.Extrapolated }

// CurveResult is a curve's points, in the order of X.
type CurveResult struct {
	Curve
	Points []Point
}

// Limits keep a curve's points within the machine: a point whose
// extrapolated peak RSS or seconds exceed them is not run.
type Limits struct {
	MaxMB      float64
	MaxSeconds float64
}

// RunCurves measures every curve's points in order, each in a child
// process, and extrapolates those past the limits or past a point that
// failed. Training points take o.Steps, o.MinSteps and o.MinTime.
func RunCurves(o Options, curves []Curve, lim Limits) []*CurveResult {
	out := make([]*CurveResult, len(curves))
	for i, c := range curves {
		r := &CurveResult{Curve: c}
		out[i] = r
		for _, x := range c.X {
			if p, skip := r.beyond(x, lim); skip {
				r.Points = append(r.Points, p)
				o.logf("curve %s %s=%d: not run: %s", c.Name, c.Axis, x, p.Why)
				continue
			}
			start := time.Now()
			p := o.point(c, x)
			r.Points = append(r.Points, p)
			if p.Err != nil {
				o.logf("curve %s %s=%d: failed: %v", c.Name, c.Axis, x, p.Err)
			} else {
				o.logf("curve %s %s=%d: %s, peak RSS %.0f MB (%.0f s)", c.Name, c.Axis, x, c.Axis.format(p.Time), p.RSS, time.Since(start).Seconds())
			}
		}
	}
	return out
}

// beyond decides whether x is to be extrapolated rather than run: after a
// point that failed or was not run, or, over ratings, when the growth of
// the last two measured points carried on to x exceeds the limits.
// (Training points run a fixed number of steps: their time is bounded.)
func (r *CurveResult) beyond(x int, lim Limits) (Point, bool) {
	e, ok := r.extrapolate(x)
	for _, p := range r.Points {
		switch {
		case p.Err != nil:
			e.Why = "a smaller point failed"
			return e, true
		case p.Extrapolated:
			e.Why = "a smaller point was not run"
			return e, true
		}
	}
	if !ok || r.Axis != AxisRatings {
		return Point{}, false
	}
	switch {
	case lim.MaxMB > 0 && e.RSS > lim.MaxMB:
		e.Why = fmt.Sprintf("its peak RSS would be about %.0f MB, over the limit of %.0f MB", e.RSS, lim.MaxMB)
	case lim.MaxSeconds > 0 && e.Time+e.Predict > lim.MaxSeconds:
		e.Why = fmt.Sprintf("its fit and test predictions would take about %.0f s, over the limit of %.0f s", e.Time+e.Predict, lim.MaxSeconds)
	default:
		return Point{}, false
	}
	return e, true
}

// extrapolate carries the growth between the last two measured points on
// to x: y = y1·(x/x1)^k with k their log-log slope, for the time and for
// the RSS above the base. False with fewer than two measured points.
func (r *CurveResult) extrapolate(x int) (Point, bool) {
	var ms []Point
	for _, p := range r.Points {
		if p.measured() {
			ms = append(ms, p)
		}
	}
	if len(ms) < 2 {
		return Point{X: x, Extrapolated: true}, false
	}
	a, b := ms[len(ms)-2], ms[len(ms)-1]
	carry := func(ya, yb float64) float64 {
		if ya <= 0 || yb <= 0 {
			return yb
		}
		k := math.Log(yb/ya) / math.Log(float64(b.X)/float64(a.X))
		return yb * math.Pow(float64(x)/float64(b.X), k)
	}
	return Point{X: x, Extrapolated: true, Time: carry(a.Time, b.Time), Predict: carry(a.Predict, b.Predict), Base: b.Base,
		RSS: b.Base + carry(a.RSS-a.Base, b.RSS-b.Base)}, true
}

// point measures the curve's point x in a child process.
func (o Options) point(c Curve, x int) Point {
	p := Point{X: x}
	var sets []string
	for _, s := range c.pointSets(x) {
		sets = append(sets, "--set", s)
	}
	if c.Axis == AxisRatings {
		var f FitLine
		if p.Err = o.child(&f, append([]string{"--one", c.Spec, "--one-fit"}, sets...)...); p.Err == nil {
			p.Fit, p.Time, p.Predict, p.RSS, p.Base = &f, f.FitS, f.PredictS, f.PeakRSSMB, f.BaseRSSMB
		}
		return p
	}
	batch := x
	if c.Axis == AxisLength {
		batch = c.Batch
	}
	line, err := o.pipe(Target{Spec: c.Spec, Batch: batch}, sets...)
	if p.Err = err; err != nil {
		return p
	}
	p.Line, p.RSS, p.Base, p.Time = &line, line.PeakRSSMB, line.BaseRSSMB, line.SamplesPerS
	if c.Axis == AxisLength {
		p.Time = float64(line.Batch) / line.SamplesPerS
	}
	return p
}

// format writes a point's Time in the axis' unit.
func (a Axis) format(v float64) string {
	switch a {
	case AxisBatch:
		return Rate(v) + " samples/s"
	case AxisLength:
		return strconv.FormatFloat(v, 'g', 3, 64) + " s per step"
	}
	return Seconds(v) + " fit"
}
