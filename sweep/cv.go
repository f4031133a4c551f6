package sweep

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pipe-ml/pipe/spec"
)

// Folds are the trials of a k-fold cross-validation over the test split:
// fold i of k for i in 0..k-1, with the spec's split_seed as the folds'
// seed, so that the folds partition the same shuffle. Only the rating
// loaders (those with split:) take it; the spec is loaded with sets to
// check that and to read its split_seed.
func Folds(specPath string, sets []string, k int) ([]Trial, error) {
	if k < 2 {
		return nil, fmt.Errorf("--folds %d: cross-validation needs at least 2 folds", k)
	}
	s, err := spec.Load(specPath, sets...)
	if err != nil {
		return nil, err
	}
	src, err := spec.Encode(s)
	if err != nil {
		return nil, err
	}
	leaves, err := spec.Flatten(src)
	if err != nil {
		return nil, err
	}
	seed := ""
	for _, l := range leaves {
		if l.Path == "data.split_seed" {
			seed = l.Value
		}
	}
	probe := fmt.Sprintf("data.split={kind: kfold, k: %d, fold: 0, seed: %s}", k, seed)
	if _, err := spec.Load(specPath, append(append([]string(nil), sets...), probe)...); seed == "" || err != nil {
		return nil, &NoSplitError{Spec: specPath, Loader: s.Data.Loader.Kind}
	}
	trials := make([]Trial, k)
	for i := range trials {
		trials[i] = Trial{[]Param{{"data.split", fmt.Sprintf("{kind: kfold, k: %d, fold: %d, seed: %s}", k, i, seed)}}}
	}
	return trials, nil
}

// NoSplitError says that a spec's loader takes no split: (pipe cv on
// MNIST, say): a usage error, not a bad spec.
type NoSplitError struct{ Spec, Loader string }

func (e *NoSplitError) Error() string {
	return fmt.Sprintf("%s: loader %s takes no split:, so it has no test folds; pipe cv runs the rating loaders (jester5k, movielense, ml100k, ratings)", e.Spec, e.Loader)
}

// Summary is each test metric's value per fold, with their mean and
// sample standard deviation (n-1), as Surprise's cross_validate reports.
type Summary struct {
	Metrics []string
	Folds   [][]float64 // Folds[m][fold]
	Mean    []float64
	Std     []float64
}

// Summarize reads the folds' test metrics. A failed fold is an error: a
// mean over the folds that ran would not be a k-fold estimate.
func Summarize(outs []Outcome) (*Summary, error) {
	if len(outs) == 0 {
		return nil, fmt.Errorf("no folds")
	}
	for i, o := range outs {
		if o.Err != nil {
			return nil, fmt.Errorf("fold %d: %w", i, o.Err)
		}
	}
	s := &Summary{}
	for m := range outs[0].Test {
		s.Metrics = append(s.Metrics, m)
	}
	sort.Strings(s.Metrics)
	for _, m := range s.Metrics {
		vals := make([]float64, len(outs))
		for i, o := range outs {
			v, ok := o.Test[m]
			if !ok {
				return nil, fmt.Errorf("fold %d has no test %s", i, m)
			}
			vals[i] = v
		}
		mean, std := MeanStd(vals)
		s.Folds = append(s.Folds, vals)
		s.Mean, s.Std = append(s.Mean, mean), append(s.Std, std)
	}
	return s, nil
}

// MeanStd is the mean and the sample standard deviation (n-1; 0 for one
// value).
func MeanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}

// Write prints one row per metric, one column per fold, then the mean
// and std, and a line per metric "rmse 0.9130 ± 0.0044".
func (s *Summary) Write(w io.Writer, outs []Outcome) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"metric"}
	for i := range outs {
		head = append(head, fmt.Sprintf("fold %d", i))
	}
	head = append(head, "mean", "std")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for m, name := range s.Metrics {
		row := []string{name}
		for _, v := range s.Folds[m] {
			row = append(row, num(v))
		}
		row = append(row, num(s.Mean[m]), num(s.Std[m]))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for m, name := range s.Metrics {
		fmt.Fprintf(w, "%s %.4f ± %.4f\n", name, s.Mean[m], s.Std[m])
	}
	for i, o := range outs {
		mark := ""
		if o.Reused {
			mark = " (reused)"
		}
		fmt.Fprintf(w, "fold %d: %s%s\n", i, o.Dir, mark)
	}
	return nil
}
