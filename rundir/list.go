package rundir

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pipe-ml/pipe/spec"
)

// Info is what pipe runs shows of one run, read from its files.
type Info struct {
	Dir  string
	Name string    // the spec's name
	Made time.Time // run.json's created; for older runs, the directory's timestamp
	Key  *Key      // nil for a run written before runs recorded one
	// Test is the final test metrics; nil for a run that did not finish.
	Test map[string]float64
	// Final is the last epoch's history (loss, val_accuracy, ...).
	Final   map[string]float64
	Seconds float64 // training time
	// Stopped says why a run ended early ("interrupted", "training
	// diverged", "checkpoint after epoch 5"); "" for a finished run.
	Stopped            string
	Epochs, EpochsDone int
	Spec               []spec.Leaf // every field of its spec.yaml
	// Given is every field of its source.yaml, the spec as its writer gave
	// it (a block's params, not the layers they became); nil for a run
	// from before runs kept it.
	Given []spec.Leaf
	// Params are the fields whose values differ among the listed runs of
	// the same spec (set by List): of the specs as given when every one
	// of them kept it, else of the resolved specs.
	Params []spec.Leaf
}

// fields are the run's spec fields that List and Diff compare: as given,
// or resolved.
func (i *Info) fields(given bool) []spec.Leaf {
	if given {
		return i.Given
	}
	return i.Spec
}

// valueOf is the run's value of the field at path: as given, or when the
// spec as given leaves the field out, its default from the resolved spec
// at the same path (a component's param such as model.normalize).
func (i *Info) valueOf(path string, given bool) string {
	if v := value(i.fields(given), path); v != absent || !given {
		return v
	}
	return value(i.Spec, path)
}

// allGiven reports whether every run kept its spec as given.
func allGiven(runs ...*Info) bool {
	for _, r := range runs {
		if r.Given == nil {
			return false
		}
	}
	return true
}

// Finished reports whether the run ran to the end and was evaluated.
func (i *Info) Finished() bool { return i.Stopped == "" && i.Test != nil }

// Status is a word for the table: finished, interrupted (with the
// epochs done), or unfinished for a run with no test metrics.
func (i *Info) Status() string {
	switch {
	case i.Stopped != "" && i.Epochs > 0:
		return fmt.Sprintf("%s (%d/%d epochs)", i.Stopped, i.EpochsDone, i.Epochs)
	case i.Stopped != "":
		return i.Stopped
	case i.Test == nil:
		return "unfinished"
	}
	return "finished"
}

// metric is the run's value of a test metric, else of the last epoch's
// series of that name (val_accuracy is no test metric).
func (i *Info) metric(name string) (float64, bool) {
	if v, ok := i.Test[name]; ok {
		return v, true
	}
	v, ok := i.Final[name]
	return v, ok
}

// Info reads a run's spec.yaml, metrics.json and run.json.
func (r *Run) Info() (*Info, error) {
	info := &Info{Dir: r.Dir}
	src, err := os.ReadFile(r.SpecPath())
	if err != nil {
		return nil, err
	}
	if info.Spec, err = spec.Flatten(src); err != nil {
		return nil, fmt.Errorf("%s: %w", r.SpecPath(), err)
	}
	source := filepath.Join(r.Dir, SourceFile)
	switch src, err := os.ReadFile(source); {
	case err == nil:
		if info.Given, err = spec.Flatten(src); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if info.Given == nil {
			info.Given = []spec.Leaf{} // an empty source is still one
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if info.Key, err = r.Key(); err != nil {
		return nil, err
	}
	var m struct {
		Spec        string             `json:"spec"`
		Test        map[string]float64 `json:"test"`
		Final       map[string]float64 `json:"final_epoch"`
		Seconds     float64            `json:"train_seconds"`
		Epochs      int                `json:"epochs"`
		EpochsDone  int                `json:"epochs_done"`
		Interrupted string             `json:"interrupted"`
	}
	path := filepath.Join(r.Dir, MetricsFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	info.Test, info.Final, info.Seconds, info.Stopped = m.Test, m.Final, m.Seconds, m.Interrupted
	info.Epochs, info.EpochsDone = m.Epochs, m.EpochsDone
	info.Name = m.Spec
	for _, l := range info.Spec {
		if info.Name == "" && l.Path == "name" {
			info.Name = l.Value
		}
	}
	info.Name = cmp.Or(info.Name, filepath.Base(filepath.Dir(r.Dir)))
	info.Made = made(r.Dir, info.Key)
	return info, nil
}

// made is when the run was written: run.json says; a run from before
// run.json has its time in its directory name (Write's timestamp, local
// time, with -2, -3 for runs of the same second); failing both, the
// time metrics.json was last written.
func made(dir string, k *Key) time.Time {
	if k != nil && !k.Created.IsZero() {
		return k.Created
	}
	base := filepath.Base(dir)
	if len(base) >= len(stampLayout) {
		if t, err := time.ParseInLocation(stampLayout, base[:len(stampLayout)], time.Local); err == nil {
			return t
		}
	}
	if st, err := os.Stat(filepath.Join(dir, MetricsFile)); err == nil {
		return st.ModTime()
	}
	return time.Time{}
}

// stampLayout names run directories.
const stampLayout = "20060102-150405"

// Listing is pipe runs' table: runs with what differs between them.
type Listing struct {
	Runs    []*Info
	Metrics []string // the metric columns: every test metric, then the sort key
	// Unreadable are the runs left out because a file of theirs could not
	// be read: one broken run does not hide the others.
	Unreadable []error
}

// List reads the runs in dirs, newest first, and finds for each the
// params that set it apart: the spec fields whose values differ among
// the listed runs of the same spec. Runs of different specs are not
// compared (two specs differ in most fields; pipe diff compares any two
// runs).
func List(dirs []string) *Listing {
	l := &Listing{}
	seen := map[string]bool{}
	for _, dir := range dirs {
		if seen[dir] {
			continue
		}
		seen[dir] = true
		info, err := (&Run{Dir: dir}).Info()
		if err != nil {
			l.Unreadable = append(l.Unreadable, err)
			continue
		}
		l.Runs = append(l.Runs, info)
	}
	slices.SortStableFunc(l.Runs, func(a, b *Info) int {
		return cmp.Or(b.Made.Compare(a.Made), strings.Compare(b.Dir, a.Dir))
	})
	groups := map[string][]*Info{}
	for _, r := range l.Runs {
		groups[r.Name] = append(groups[r.Name], r)
	}
	for _, g := range groups {
		given := allGiven(g...)
		for _, path := range differing(g, given) {
			for _, r := range g {
				r.Params = append(r.Params, spec.Leaf{Path: path, Value: r.valueOf(path, given)})
			}
		}
	}
	metrics := map[string]bool{}
	for _, r := range l.Runs {
		for m := range r.Test {
			metrics[m] = true
		}
	}
	l.Metrics = slices.Sorted(maps.Keys(metrics))
	return l
}

// absent is the value of a field that one run's spec has and another's
// lacks.
const absent = "-"

// differing returns the paths whose values are not the same in every
// run, in the order of the specs' fields (as given, or resolved); the
// name is the same by construction.
func differing(runs []*Info, given bool) []string {
	var paths []string
	for _, r := range runs {
		for _, l := range r.fields(given) {
			if l.Path != "name" && !slices.Contains(paths, l.Path) {
				paths = append(paths, l.Path)
			}
		}
	}
	var out []string
	for _, p := range paths {
		for _, r := range runs[1:] {
			if r.valueOf(p, given) != runs[0].valueOf(p, given) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func value(leaves []spec.Leaf, path string) string {
	for _, l := range leaves {
		if l.Path == path {
			return l.Value
		}
	}
	return absent
}

// Sort orders the runs by a metric: "rmse" ascending, "-rmse"
// descending. The metric is a test metric or a series of the last epoch
// (val_accuracy); runs without it go last, in their order. It becomes a
// column when it is no test metric.
func (l *Listing) Sort(by string) error {
	desc := strings.HasPrefix(by, "-")
	name := strings.TrimPrefix(by, "-")
	var known []string
	for _, r := range l.Runs {
		known = slices.AppendSeq(known, maps.Keys(r.Test))
		known = slices.AppendSeq(known, maps.Keys(r.Final))
	}
	if !slices.Contains(known, name) {
		slices.Sort(known)
		return fmt.Errorf("--sort %s: no listed run has a metric %q%s", by, name, spec.DidYouMean(name, slices.Compact(known)))
	}
	slices.SortStableFunc(l.Runs, func(a, b *Info) int {
		va, oka := a.metric(name)
		vb, okb := b.metric(name)
		switch {
		case !oka || !okb:
			return boolOrder(oka, okb)
		case desc:
			return cmp.Compare(vb, va)
		}
		return cmp.Compare(va, vb)
	})
	if !slices.Contains(l.Metrics, name) {
		l.Metrics = append(l.Metrics, name)
	}
	return nil
}

// boolOrder puts a run that has the value before one that lacks it.
func boolOrder(a, b bool) int {
	switch {
	case a && !b:
		return -1
	case b && !a:
		return 1
	}
	return 0
}

// DateLayout is how tables write when a run was made.
const DateLayout = "2006-01-02 15:04:05"

// WriteTable prints the listing as aligned columns: name, date, the
// params that differ (path=value, as --set takes them), the metrics, the
// training time, the status and the run directory.
func (l *Listing) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name\tdate\tparams\t%s\ttime\tstatus\trun\n", strings.Join(l.Metrics, "\t"))
	for _, r := range l.Runs {
		params := make([]string, len(r.Params))
		for i, p := range r.Params {
			params[i] = p.Path + "=" + p.Value
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Made.Format(DateLayout), cmp.Or(strings.Join(params, " "), absent),
			strings.Join(l.metricCells(r), "\t"), duration(r.Seconds), r.Status(), r.Dir)
	}
	return tw.Flush()
}

func (l *Listing) metricCells(r *Info) []string {
	cells := make([]string, len(l.Metrics))
	for i, m := range l.Metrics {
		cells[i] = absent
		if v, ok := r.metric(m); ok {
			cells[i] = strconv.FormatFloat(v, 'f', 4, 64)
		}
	}
	return cells
}

// duration writes a training time as 1.2s or 2m08s.
func duration(s float64) string {
	if s < 60 {
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	}
	m := int(s) / 60
	return fmt.Sprintf("%dm%02ds", m, int(s)-60*m)
}

// WriteCSV prints the listing as CSV: one column per differing param
// (the run's value of it; empty where its spec has no such field), then
// the metrics with full precision.
func (l *Listing) WriteCSV(w io.Writer) error {
	var params []string
	for _, r := range l.Runs {
		for _, p := range r.Params {
			if !slices.Contains(params, p.Path) {
				params = append(params, p.Path)
			}
		}
	}
	cw := csv.NewWriter(w)
	header := append([]string{"name", "date", "run"}, params...)
	header = append(header, l.Metrics...)
	cw.Write(append(header, "train_seconds", "status"))
	for _, r := range l.Runs {
		row := []string{r.Name, r.Made.Format(time.RFC3339), r.Dir}
		for _, p := range params {
			v := value(r.Params, p)
			if v == absent {
				v = ""
			}
			row = append(row, v)
		}
		for _, m := range l.Metrics {
			v, ok := r.metric(m)
			row = append(row, "")
			if ok {
				row[len(row)-1] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		cw.Write(append(row, strconv.FormatFloat(r.Seconds, 'g', -1, 64), r.Status()))
	}
	cw.Flush()
	return cw.Error()
}

// jsonRun is one run in pipe runs --json.
type jsonRun struct {
	Run         string             `json:"run"`
	Name        string             `json:"name"`
	Date        time.Time          `json:"date"`
	Key         string             `json:"key,omitempty"`
	Params      map[string]string  `json:"params"`
	Test        map[string]float64 `json:"test"`
	Final       map[string]float64 `json:"final_epoch,omitempty"`
	Seconds     float64            `json:"train_seconds"`
	Interrupted bool               `json:"interrupted"`
	Stopped     string             `json:"stopped,omitempty"`
}

// WriteJSON prints the listing as a JSON array, in the listing's order.
func (l *Listing) WriteJSON(w io.Writer) error {
	out := []jsonRun{}
	for _, r := range l.Runs {
		j := jsonRun{Run: r.Dir, Name: r.Name, Date: r.Made, Params: map[string]string{}, Test: r.Test, Final: r.Final,
			Seconds: r.Seconds, Interrupted: !r.Finished(), Stopped: r.Stopped}
		if r.Key != nil {
			j.Key = r.Key.Key
		}
		for _, p := range r.Params {
			j.Params[p.Path] = p.Value
		}
		out = append(out, j)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
