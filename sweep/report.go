package sweep

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pipe-ml/pipe/evaluators"
)

// Metric is the series a sweep's trials are ranked by: a validation
// series (val_*) or, written train:NAME, a training series, at its last
// epoch. Never a test metric: choosing by the test split would leak it
// into the choice and make the test numbers optimistic.
type Metric struct {
	Series string // the history series
	Higher bool   // higher is better
}

// ParseMetric reads --metric: val_NAME or train:NAME. Without a sign,
// accuracy-like names (accuracy, auc, f1, precision, recall) are
// higher-is-better and the others (loss, rmse, mae) lower; a sign says it
// outright: +NAME is maximised, -NAME is minimised (its negation
// maximised), so --metric -val_loss picks the lowest validation loss.
func ParseMetric(s string) (Metric, error) {
	name := strings.TrimLeft(s, "+-")
	var m Metric
	switch {
	case len(s)-len(name) > 1:
		return Metric{}, fmt.Errorf("--metric %q: at most one sign (+ to maximise, - to minimise)", s)
	case strings.HasPrefix(name, "val_") && len(name) > 4:
		m.Series = name
	case strings.HasPrefix(name, "train:") && len(name) > 6:
		m.Series = strings.TrimPrefix(name, "train:")
	default:
		return Metric{}, fmt.Errorf("--metric %q: the best trial is chosen by a validation series (val_loss, val_accuracy, val_rmse, ...) or a training series (train:loss), never by a test metric, which would leak the test split into the choice", s)
	}
	switch s[0] {
	case '+':
		m.Higher = true
	case '-':
		m.Higher = false
	default:
		m.Higher = evaluators.HigherIsBetter(m.Series)
	}
	return m, nil
}

func (m Metric) String() string {
	if m.Higher {
		return m.Series + " (higher is better)"
	}
	return m.Series + " (lower is better)"
}

// value is the series' last value in o, NaN when o has none.
func (m Metric) value(o Outcome) float64 {
	v := o.History[m.Series]
	if o.Err != nil || len(v) == 0 {
		return math.NaN()
	}
	return v[len(v)-1]
}

// Ranked returns the outcomes' indices best first by m; failed trials and
// those without the series come last, in trial order. It is an error when
// no trial has the series (it names the series they have).
func Ranked(outs []Outcome, m Metric) ([]int, error) {
	idx := make([]int, len(outs))
	have := map[string]bool{}
	any := false
	for i, o := range outs {
		idx[i] = i
		for s := range o.History {
			have[s] = true
		}
		if !math.IsNaN(m.value(o)) {
			any = true
		}
	}
	if !any && len(outs) > 0 {
		names := make([]string, 0, len(have))
		for s := range have {
			names = append(names, s)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no trial's history has %s (its series: %s); a validation series needs train.validation set", m.Series, strings.Join(names, ", "))
	}
	sort.SliceStable(idx, func(a, b int) bool {
		va, vb := m.value(outs[idx[a]]), m.value(outs[idx[b]])
		switch {
		case math.IsNaN(va) || math.IsNaN(vb):
			return !math.IsNaN(va) && math.IsNaN(vb)
		case m.Higher:
			return va > vb
		default:
			return va < vb
		}
	})
	return idx, nil
}

// WriteTable writes the trials best first: their overridden fields, the
// chosen series, the test metrics and the run directory; then the best
// trial by m. order is Ranked's.
func WriteTable(w io.Writer, outs []Outcome, order []int, m Metric) error {
	var paths []string
	var tests []string
	for _, o := range outs {
		for _, p := range o.Trial.Params {
			if !slices.Contains(paths, p.Path) {
				paths = append(paths, p.Path)
			}
		}
		for k := range o.Test {
			if !slices.Contains(tests, k) {
				tests = append(tests, k)
			}
		}
	}
	sort.Strings(tests)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := append([]string{"trial"}, paths...)
	head = append(head, m.Series)
	for _, t := range tests {
		head = append(head, "test "+t)
	}
	head = append(head, "run")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, i := range order {
		o := outs[i]
		row := []string{fmt.Sprint(i + 1)}
		for _, p := range paths {
			v := ""
			for _, q := range o.Trial.Params {
				if q.Path == p {
					v = q.Value
				}
			}
			row = append(row, v)
		}
		row = append(row, num(m.value(o)))
		for _, t := range tests {
			if v, ok := o.Test[t]; ok {
				row = append(row, num(v))
			} else {
				row = append(row, "")
			}
		}
		switch {
		case o.Err != nil:
			row = append(row, "failed: "+o.Err.Error())
		case o.Reused:
			row = append(row, o.Dir+" (reused)")
		default:
			row = append(row, o.Dir)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(order) > 0 && !math.IsNaN(m.value(outs[order[0]])) {
		b := outs[order[0]]
		fmt.Fprintf(w, "\nbest by %s: trial %d (%s): %s %s -> %s\n", m, order[0]+1,
			strings.Join(b.Trial.Sets(), " "), m.Series, num(m.value(b)), b.Dir)
	}
	return nil
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.4f", v)
}
