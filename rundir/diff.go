package rundir

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pipe-ml/pipe/spec"
)

// Difference is one field whose value differs between two runs.
type Difference struct {
	Path, A, B string // absent ("-") where a spec lacks the field
}

// MetricChange is one final test metric of two runs.
type MetricChange struct {
	Name       string
	A, B       float64
	HasA, HasB bool
}

// Comparison is pipe diff's answer.
type Comparison struct {
	A, B *Info
	// Spec holds the spec fields that differ, in the order of A's spec
	// (then fields only B has); Made the differences in what else made the
	// runs (pipe's version, the data files), when both recorded them.
	Spec, Made []Difference
	Metrics    []MetricChange // every test metric of either run, by name
}

// Diff compares two run directories.
func Diff(dirA, dirB string) (*Comparison, error) {
	var infos [2]*Info
	for i, dir := range []string{dirA, dirB} {
		run, err := Open(dir)
		if err != nil {
			return nil, err
		}
		if infos[i], err = run.Info(); err != nil {
			return nil, err
		}
	}
	a, b := infos[0], infos[1]
	c := &Comparison{A: a, B: b}
	// The specs as given when both runs kept them; the same specs as given
	// that resolved differently (a default that moved between versions of
	// pipe) show their resolved fields.
	if allGiven(a, b) {
		c.Spec = fieldDiff(a, b, true)
	}
	if len(c.Spec) == 0 {
		c.Spec = fieldDiff(a, b, false)
	}
	if a.Key != nil && b.Key != nil {
		c.Made = madeDiff(a.Key, b.Key)
		if len(c.Spec) == 0 && a.Key.Spec != b.Key.Spec {
			// The same spec.yaml run another way: the key hashes the
			// backend the run used, which --backend may have changed.
			c.Made = append(c.Made, Difference{"(spec as run, sha256)", short(a.Key.Spec), short(b.Key.Spec)})
		}
	}
	names := map[string]bool{}
	for m := range maps.Keys(a.Test) {
		names[m] = true
	}
	for m := range maps.Keys(b.Test) {
		names[m] = true
	}
	for _, m := range slices.Sorted(maps.Keys(names)) {
		va, oka := a.Test[m]
		vb, okb := b.Test[m]
		c.Metrics = append(c.Metrics, MetricChange{m, va, vb, oka, okb})
	}
	return c, nil
}

// fieldDiff lists the fields whose values differ (as given, or
// resolved), in a's order, then the fields only b has.
func fieldDiff(a, b *Info, given bool) []Difference {
	var paths []string
	for _, l := range slices.Concat(a.fields(given), b.fields(given)) {
		if !slices.Contains(paths, l.Path) {
			paths = append(paths, l.Path)
		}
	}
	var out []Difference
	for _, p := range paths {
		if va, vb := a.valueOf(p, given), b.valueOf(p, given); va != vb {
			out = append(out, Difference{p, va, vb})
		}
	}
	return out
}

// madeDiff lists what else differs in two runs' keys: pipe's version and
// each data file's checksum.
func madeDiff(a, b *Key) []Difference {
	var out []Difference
	if a.Version != b.Version {
		out = append(out, Difference{"(pipe version)", a.Version, b.Version})
	}
	sums := func(k *Key) []spec.Leaf {
		var l []spec.Leaf
		for _, s := range k.Data {
			l = append(l, spec.Leaf{Path: s.Name, Value: short(s.SHA256)})
		}
		return l
	}
	sa, sb := sums(a), sums(b)
	var files []string
	for _, l := range slices.Concat(sa, sb) {
		if !slices.Contains(files, l.Path) {
			files = append(files, l.Path)
		}
	}
	for _, f := range files {
		if va, vb := value(sa, f), value(sb, f); va != vb {
			out = append(out, Difference{"(data " + f + ")", va, vb})
		}
	}
	return out
}

// Write prints the comparison: the two runs, the fields that differ
// (a and b), and each test metric with its change b-a.
func (c *Comparison) Write(w io.Writer) error {
	for _, r := range []struct {
		label string
		info  *Info
	}{{"a", c.A}, {"b", c.B}} {
		fmt.Fprintf(w, "%s: %s (%s, %s)\n", r.label, r.info.Dir, r.info.Made.Format(DateLayout), r.info.Status())
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if diffs := slices.Concat(c.Spec, c.Made); len(diffs) > 0 {
		fmt.Fprintln(tw, "field\ta\tb")
		for _, d := range diffs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Path, d.A, d.B)
		}
	} else {
		fmt.Fprintln(tw, "the specs are the same")
	}
	fmt.Fprintln(tw)
	if len(c.Metrics) == 0 {
		fmt.Fprintln(tw, "neither run has test metrics")
		return tw.Flush()
	}
	fmt.Fprintln(tw, "metric\ta\tb\tb-a")
	for _, m := range c.Metrics {
		cells := []string{absent, absent, absent}
		if m.HasA {
			cells[0] = strconv.FormatFloat(m.A, 'f', 4, 64)
		}
		if m.HasB {
			cells[1] = strconv.FormatFloat(m.B, 'f', 4, 64)
		}
		if m.HasA && m.HasB {
			cells[2] = fmt.Sprintf("%+.4f", m.B-m.A)
		}
		fmt.Fprintf(tw, "%s\t%s\n", m.Name, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// short is the first 12 hex digits of a checksum, enough to tell two apart.
func short(sum string) string { return sum[:min(12, len(sum))] }
