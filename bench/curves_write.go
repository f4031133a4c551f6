package bench

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/rundir"
)

// The files pipe bench --curves writes beside one PNG per curve.
const curvesTable, curvesCSV = "curves.md", "curves.csv"

// CurveFiles are the paths that writing curves to dir creates.
func CurveFiles(dir string, curves []Curve) []string {
	paths := []string{filepath.Join(dir, curvesTable), filepath.Join(dir, curvesCSV)}
	for _, c := range curves {
		paths = append(paths, filepath.Join(dir, c.Name+".png"))
	}
	return paths
}

// PrepareCurveDir makes dir (and its parents) and refuses, before anything
// is measured, when one of the files the curves would write is there.
func PrepareCurveDir(dir string, curves []Curve) error {
	var there []string
	for _, p := range CurveFiles(dir, curves) {
		if _, err := os.Lstat(p); err == nil {
			there = append(there, p)
		}
	}
	if len(there) > 0 {
		return fmt.Errorf("%s already there: pipe does not overwrite them; name another folder", strings.Join(there, ", "))
	}
	return os.MkdirAll(dir, 0o755)
}

// WriteCurves writes the tables (markdown and CSV) and one chart per curve
// that has a measured point into dir, never over an existing file, and
// returns the paths written. Every file is made before the first is
// written; should a write fail, those written before it are removed.
func WriteCurves(dir, header string, results []*CurveResult) ([]string, error) {
	var md bytes.Buffer
	WriteCurveTables(&md, header, results)
	var table bytes.Buffer
	if err := writeCurveCSV(&table, results); err != nil {
		return nil, err
	}
	paths := []string{filepath.Join(dir, curvesTable), filepath.Join(dir, curvesCSV)}
	contents := [][]byte{md.Bytes(), table.Bytes()}
	for _, r := range results {
		chart, ok := r.chart()
		if !ok {
			continue
		}
		png, err := rundir.EncodeChart(chart)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		paths, contents = append(paths, filepath.Join(dir, r.Name+".png")), append(contents, png)
	}
	for i, p := range paths {
		if err := rundir.WriteNew(p, contents[i]); err != nil {
			for _, done := range paths[:i] {
				os.Remove(done)
			}
			return nil, err
		}
	}
	return paths, nil
}

// WriteCurveTables writes one markdown table per curve, each followed by
// the growth its measured points show.
func WriteCurveTables(w io.Writer, header string, results []*CurveResult) {
	fmt.Fprintln(w, header)
	for _, r := range results {
		fmt.Fprintf(w, "\n### %s: %s against %s (%s)\n\n", r.Name, r.metric(), r.Axis, r.Spec)
		switch r.Axis {
		case AxisBatch:
			fmt.Fprintln(w, "| batch size | training samples/s | peak RSS | above the start |")
			fmt.Fprintln(w, "|---|---|---|---|")
		case AxisLength:
			fmt.Fprintln(w, "| sequence length | batch | s per training step | training samples/s | peak RSS | above the start |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|")
		case AxisRatings:
			fmt.Fprintln(w, "| ratings | users | items | training ratings | data | fit | predict test | peak RSS | above the start |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
		}
		var notes []string
		for _, p := range r.Points {
			fmt.Fprintln(w, r.row(p))
			switch {
			case p.Err != nil:
				notes = append(notes, fmt.Sprintf("%s %s: failed: %v", r.Axis, thousands(int64(p.X)), p.Err))
			case p.Extrapolated:
				notes = append(notes, fmt.Sprintf("%s %s: not run, %s; the row in italics carries on the growth of the two points before it", r.Axis, thousands(int64(p.X)), p.Why))
			}
		}
		fmt.Fprintln(w)
		for _, g := range r.growth() {
			fmt.Fprintln(w, "- "+g)
		}
		for _, n := range notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
}

// metric names what the curve's time column measures.
func (r *CurveResult) metric() string {
	return [...]string{"training samples/s and peak RSS", "time per training step and peak RSS", "fit time and peak RSS"}[r.Axis]
}

// row is p's line of the markdown table; an extrapolated point's values
// are in italics, a failed point's are dashes.
func (r *CurveResult) row(p Point) string {
	mark := func(s string) string {
		if p.Extrapolated && s != "" && s != "–" {
			return "_~" + s + "_"
		}
		return s
	}
	rss, above := "–", "–"
	if p.Err == nil && p.RSS > 0 {
		rss, above = mark(MB(p.RSS)), mark(MB(p.RSS-p.Base))
	}
	known := func(v float64, f func(float64) string) string {
		if p.Err != nil || v <= 0 {
			return "–"
		}
		return mark(f(v))
	}
	x := thousands(int64(p.X))
	switch r.Axis {
	case AxisBatch:
		return fmt.Sprintf("| %s | %s | %s | %s |", x, known(p.Time, Rate), rss, above)
	case AxisLength:
		batch := "–"
		if p.Line != nil {
			batch = strconv.Itoa(p.Line.Batch)
		}
		return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", x, batch, known(p.Time, secondsShort), known(r.samples(p), Rate), rss, above)
	}
	s := MovieLensShape(p.X)
	train, data, predict := "–", "–", known(p.Predict, Seconds)
	if f := p.Fit; f != nil {
		s = Shape{f.Users, f.Items}
		train, data = thousands(int64(f.Train)), Seconds(f.LoadS)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", x, thousands(int64(s.Users)), thousands(int64(s.Items)), train, data, known(p.Time, Seconds), predict, rss, above)
}

// samples is a sequence point's training samples/s.
func (r *CurveResult) samples(p Point) float64 {
	if p.Line == nil {
		return 0
	}
	return p.Line.SamplesPerS
}

func secondsShort(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) + " s" }

// growth says how the curve's measured points grow: the log-log slope of
// each cost against the axis.
func (r *CurveResult) growth() []string {
	var xs, ts, rs, ps []float64
	for _, p := range r.Points {
		if p.measured() {
			xs, ts, rs = append(xs, float64(p.X)), append(ts, p.Time), append(rs, p.RSS-p.Base)
			if p.Fit != nil {
				ps = append(ps, p.Fit.PredictS)
			}
		}
	}
	if len(xs) < 2 {
		return []string{"growth: fewer than two measured points"}
	}
	var out []string
	say := func(what string, ys []float64, classify bool) {
		k, ok := Slope(xs, ys)
		if !ok {
			return
		}
		s := fmt.Sprintf("%s grows as %s^%.2f", what, r.Axis, k)
		if classify {
			s += " (" + Growth(k) + ")"
		}
		out = append(out, s)
	}
	switch r.Axis {
	case AxisBatch:
		say("training samples/s", ts, false)
	case AxisLength:
		say("time per training step", ts, true)
	case AxisRatings:
		say("fit time", ts, true)
		say("test prediction time", ps, true)
	}
	say("peak RSS above the start", rs, true)
	return append(out, fmt.Sprintf("slopes of a least-squares line through the %d measured points on log-log axes", len(xs)))
}

// Slope is the least-squares slope of log y against log x over the points
// where both are positive; false when fewer than two are.
func Slope(xs, ys []float64) (float64, bool) {
	var lx, ly []float64
	for i := range xs {
		if xs[i] > 0 && ys[i] > 0 {
			lx, ly = append(lx, math.Log(xs[i])), append(ly, math.Log(ys[i]))
		}
	}
	if len(lx) < 2 {
		return 0, false
	}
	var mx, my float64
	for i := range lx {
		mx, my = mx+lx[i], my+ly[i]
	}
	mx, my = mx/float64(len(lx)), my/float64(len(lx))
	var sxy, sxx float64
	for i := range lx {
		sxy += (lx[i] - mx) * (ly[i] - my)
		sxx += (lx[i] - mx) * (lx[i] - mx)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// Growth names a log-log slope. Between 100k and 10M, n log n reads as
// a slope of about 1.1, so it is not told apart from linear.
func Growth(k float64) string {
	switch {
	case k < 0.2:
		return "flat"
	case k < 0.85:
		return "sublinear"
	case k < 1.2:
		return "linear"
	case k < 1.7:
		return "between linear and quadratic"
	case k < 2.3:
		return "quadratic"
	}
	return "worse than quadratic"
}

// writeCurveCSV writes every point of every curve, one row each.
func writeCurveCSV(w io.Writer, results []*CurveResult) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"curve", "spec", "axis", "x", "status", "samples_per_s", "step_s", "batch", "users", "items", "train", "test", "load_s", "fit_s", "predict_s", "peak_rss_mb", "base_rss_mb", "note"})
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, r := range results {
		for _, p := range r.Points {
			status, note := "measured", ""
			switch {
			case p.Err != nil:
				status, note = "failed", p.Err.Error()
			case p.Extrapolated:
				status, note = "extrapolated", p.Why
			}
			row := make([]string, 18)
			copy(row, []string{r.Name, r.Spec, r.Axis.String(), strconv.Itoa(p.X), status})
			if p.Err == nil {
				row[15], row[16] = num(p.RSS), num(p.Base)
			}
			switch r.Axis {
			case AxisBatch:
				row[5], row[7] = num(p.Time), strconv.Itoa(p.X)
			case AxisLength:
				row[5], row[6] = num(r.samples(p)), num(p.Time)
				if p.Line != nil {
					row[7] = strconv.Itoa(p.Line.Batch)
				}
			case AxisRatings:
				s := MovieLensShape(p.X)
				row[8], row[9], row[13], row[14] = strconv.Itoa(s.Users), strconv.Itoa(s.Items), num(p.Time), num(p.Predict)
				if f := p.Fit; f != nil {
					row[8], row[9], row[10], row[11] = strconv.Itoa(f.Users), strconv.Itoa(f.Items), strconv.Itoa(f.Train), strconv.Itoa(f.Test)
					row[12] = num(f.LoadS)
				}
			}
			row[17] = note
			cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// chart draws the curve: its cost in the top panel and its peak RSS
// below, measured points as one line, extrapolated ones as another; false
// when no point was measured.
func (r *CurveResult) chart() (rundir.Chart, bool) {
	var mx, mt, mr, mp, ex, et, er, ep []float64
	for _, p := range r.Points {
		switch {
		case p.measured() && p.Time > 0 && p.RSS > 0 && (p.Fit == nil || p.Fit.PredictS > 0):
			mx, mt, mr = append(mx, float64(p.X)), append(mt, p.Time), append(mr, p.RSS)
			if p.Fit != nil {
				mp = append(mp, p.Fit.PredictS)
			}
		case p.Err == nil && p.Time > 0 && p.RSS > 0 && (r.Axis != AxisRatings || p.Predict > 0):
			ex, et, er, ep = append(ex, float64(p.X)), append(et, p.Time), append(er, p.RSS), append(ep, p.Predict)
		}
	}
	if len(mx) == 0 {
		return rundir.Chart{}, false
	}
	if len(ex) > 0 {
		// The extrapolated line starts at the last measured point.
		last := len(mx) - 1
		ex, et, er = append([]float64{mx[last]}, ex...), append([]float64{mt[last]}, et...), append([]float64{mr[last]}, er...)
		if len(mp) > 0 {
			ep = append([]float64{mp[last]}, ep...)
		}
	}
	ylabel := [...]string{"training samples/s", "seconds per training step", "seconds"}[r.Axis]
	top := rundir.Panel{Title: r.Name + ": " + ylabel, X: r.Axis.String(), Y: ylabel, LogX: true, LogY: true,
		Series: []rundir.Series{{Label: "measured", X: mx, Y: mt}}}
	if r.Axis == AxisRatings {
		top.Title = r.Name + ": fit and test prediction time"
		top.Series[0].Label = "fit, measured"
		top.Series = append(top.Series, rundir.Series{Label: "predict test, measured", X: mx, Y: mp})
	}
	top.Series = append(top.Series, rundir.Series{Label: "extrapolated", X: ex, Y: et})
	if r.Axis == AxisRatings {
		top.Series[len(top.Series)-1].Label = "fit, extrapolated"
		top.Series = append(top.Series, rundir.Series{Label: "predict test, extrapolated", X: ex, Y: ep})
	}
	rss := rundir.Panel{Title: r.Name + ": peak RSS", X: r.Axis.String(), Y: "MB", LogX: true, LogY: true,
		Series: []rundir.Series{{Label: "measured", X: mx, Y: mr}, {Label: "extrapolated", X: ex, Y: er}}}
	return rundir.Chart{Panels: []rundir.Panel{top, rss}}, true
}
