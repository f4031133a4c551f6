package sweep

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pipe-ml/pipe/spec"
)

// Folds are the trials of a cross-validation over the test split: fold i
// of k for i in 0..k-1, with the spec's split_seed as the folds' seed, so
// that the folds partition the same shuffle. Only the rating loaders
// (those with split:) take it; the spec is loaded with sets to check that
// and to read its split_seed.
//
// A spec with a cv: section says which folds: folds: K (k-fold, seeded
// by cv.seed when it has one), blocks: K (consecutive blocks, unseeded),
// given: files, or seeds: N (the spec's own split under N seeds, a
// repeated sample rather than folds); k, when not 0, replaces K or N.
// Each trial also sets cv to null, so that it is an ordinary run of one
// split, with the run key pipe cv gives the same spec without cv:. k 0 on
// a spec without cv: is an error.
func Folds(specPath string, sets []string, k int) ([]Trial, error) {
	s, err := spec.Load(specPath, sets...)
	if err != nil {
		return nil, err
	}
	mode := "folds"
	var given []spec.GivenFold
	if s.CV != nil {
		n := 0
		for _, m := range []bool{s.CV.Folds > 0, s.CV.Blocks > 0, s.CV.Seeds > 0, len(s.CV.Given) > 0} {
			if m {
				n++
			}
		}
		switch {
		case n > 1:
			return nil, spec.ErrorList{s.Errorf("cv", "cv takes one of folds (k-fold), blocks (consecutive blocks), seeds (repeated splits) or given (files)")}
		case n == 0:
			return nil, spec.ErrorList{s.Errorf("cv", "cv needs folds: K (k-fold test folds), blocks: K, seeds: N or given: [{train: FILE, test: FILE}, ...]")}
		case len(s.CV.Given) == 1:
			return nil, spec.ErrorList{s.Errorf("cv.given", "cross-validation needs at least 2 folds; one given fold is split: {kind: given, ...}")}
		case (len(s.CV.Given) > 0 || s.CV.Blocks > 0) && s.CV.Seed != nil:
			return nil, spec.ErrorList{s.Errorf("cv.seed", "seed applies to folds: K and seeds: N, not to blocks or given files")}
		}
		given = s.CV.Given
		switch {
		case s.CV.Blocks > 0:
			mode = "blocks"
		case s.CV.Seeds > 0:
			mode = "seeds"
		case len(given) > 0:
			mode = "given"
		}
		if k == 0 {
			k = max(s.CV.Folds, s.CV.Blocks, s.CV.Seeds)
		}
	}
	if len(given) > 0 {
		if k != 0 {
			return nil, fmt.Errorf("--folds %d: the spec's cv.given names its %d folds", k, len(given))
		}
		k = len(given)
	}
	if k < 2 {
		return nil, fmt.Errorf("--folds %d: cross-validation needs at least 2 folds", k)
	}
	src, err := spec.Encode(s)
	if err != nil {
		return nil, err
	}
	leaves, err := spec.Flatten(src)
	if err != nil {
		return nil, err
	}
	leaf := map[string]string{}
	for _, l := range leaves {
		leaf[l.Path] = l.Value
	}
	seed := leaf["data.split_seed"]
	if s.CV != nil && s.Train.Validation.Split == "test" {
		// In a fold, validation: test is the test fold: what watches a
		// validation series would choose by it.
		for _, l := range leaves {
			if (l.Path == "train.early_stopping.monitor" || l.Path == "train.lr_schedule.monitor") && strings.HasPrefix(l.Value, "val_") {
				return nil, spec.ErrorList{s.Errorf("train.validation", "with cv:, train.validation: test would be each test fold, and %s watches %s on it; hold out a fraction of each fold's training part instead (train.validation: 0.1)", l.Path, l.Value)}
			}
		}
	}
	if s.CV != nil && s.CV.Seed != nil {
		seed = fmt.Sprint(*s.CV.Seed)
	}
	var pre []Param
	if s.CV != nil {
		pre = []Param{{"cv", "null"}}
	}
	split := func(i int) []Param {
		switch mode {
		case "given":
			g := given[i]
			train := ""
			if g.Train != "" {
				train = fmt.Sprintf("train: %s, ", strconv.Quote(g.Train))
			}
			return []Param{{"data.split", fmt.Sprintf("{kind: given, %stest: %s}", train, strconv.Quote(g.Test))}}
		case "blocks":
			return []Param{{"data.split", fmt.Sprintf("{kind: blocks, k: %d, fold: %d}", k, i)}}
		case "seeds":
			return seedParams(leaf, seed, i)
		}
		return []Param{{"data.split", fmt.Sprintf("{kind: kfold, k: %d, fold: %d, seed: %s}", k, i, seed)}}
	}
	probe := append(append([]string(nil), sets...), Trial{append(pre, split(0)...)}.Sets()...)
	if _, err := spec.Load(specPath, probe...); seed == "" || err != nil {
		if s.CV != nil {
			// The spec asked for folds its loader cannot make: the spec
			// is wrong, and the error points at its cv:.
			return nil, spec.ErrorList{s.Errorf("cv", "loader %s takes no split:, so it has no test folds; cv: needs a rating loader (jester5k, movielense, ml100k, ratings)", s.Data.Loader.Kind)}
		}
		return nil, &NoSplitError{Spec: specPath, Loader: s.Data.Loader.Kind}
	}
	if mode == "seeds" && !splitSeeded(leaf) {
		return nil, spec.ErrorList{s.Errorf("cv.seeds", "split %s takes no seed and the loader samples no users (sample_users), so every seed would make the same split", leaf["data.split.kind"])}
	}
	trials := make([]Trial, k)
	for i := range trials {
		trials[i] = Trial{append(append([]Param(nil), pre...), split(i)...)}
	}
	return trials, nil
}

// seedParams are repeated sample i of cv: {seeds: N}: split_seed (the
// user sample's seed, and the split's when the spec gives no split:) is
// first+i, and so is the seed of a split that takes one.
func seedParams(leaf map[string]string, first string, i int) []Param {
	s, err := strconv.Atoi(first)
	if err != nil {
		s = 1
	}
	ps := []Param{{"data.split_seed", strconv.Itoa(s + i)}}
	switch leaf["data.split.kind"] {
	case "random", "per_user", "kfold":
		ps = append(ps, Param{"data.split.seed", strconv.Itoa(s + i)})
	}
	return ps
}

// splitSeeded says whether split_seed or the split's own seed changes the
// test split: the default and the random splits are drawn, a user sample
// is too; leave_last_out, blocks and given are fixed.
func splitSeeded(leaf map[string]string) bool {
	switch leaf["data.split.kind"] {
	case "leave_last_out", "blocks", "given":
		return leaf["data.sample_users"] != "" && leaf["data.sample_users"] != "0"
	}
	return true
}

// HasCV says whether the spec, with sets, declares cv:.
func HasCV(specPath string, sets []string) (bool, error) {
	s, err := spec.Load(specPath, sets...)
	if err != nil {
		return false, err
	}
	return s.CV != nil, nil
}

// CheckNested refuses a nested sweep (a spec with cv:) that would choose
// by the test fold: a validation series with train.validation: test is
// measured on it. ParseMetric has already refused test metrics.
func CheckNested(specPath string, sets []string, m Metric) error {
	s, err := spec.Load(specPath, sets...)
	if err != nil {
		return err
	}
	if strings.HasPrefix(m.Series, "val_") && s.Train.Validation.Split == "test" {
		return fmt.Errorf("--metric %s: with cv:, train.validation: test is each test fold, so %s would choose by the test split; hold out a fraction of each fold's training part (train.validation: 0.1)", m.Series, m.Series)
	}
	return nil
}

// Nested is a sweep inside each test fold: every trial once per fold,
// fold by fold (fold f's trials are [f*len(trials), (f+1)*len(trials))),
// the fold's overrides first.
func Nested(folds, trials []Trial) []Trial {
	out := make([]Trial, 0, len(folds)*len(trials))
	for _, f := range folds {
		for _, t := range trials {
			out = append(out, Trial{append(append([]Param(nil), f.Params...), t.Params...)})
		}
	}
	return out
}

// Choice is the trial a nested sweep chose in one test fold.
type Choice struct {
	Trial int     // index among the sweep's trials (not the nested ones)
	Value float64 // its value of the metric
}

// ChooseInFolds ranks each fold's trials by m, a validation or training
// series (ParseMetric refuses test metrics), and returns the best trial's
// outcome per fold with the choice. outs are the outcomes of Nested's
// trials for nFolds folds. A fold whose trials all failed or lack the
// series is an error: its test metrics would be no nested estimate.
func ChooseInFolds(outs []Outcome, nFolds int, m Metric) ([]Outcome, []Choice, error) {
	if nFolds < 1 || len(outs)%nFolds != 0 {
		return nil, nil, fmt.Errorf("%d outcomes are not %d folds of the same trials", len(outs), nFolds)
	}
	n := len(outs) / nFolds
	chosen := make([]Outcome, nFolds)
	choices := make([]Choice, nFolds)
	for f := range nFolds {
		fold := outs[f*n : (f+1)*n]
		order, err := Ranked(fold, m)
		if err != nil {
			return nil, nil, fmt.Errorf("fold %d: %w", f, err)
		}
		best := order[0]
		if v := m.value(fold[best]); math.IsNaN(v) {
			return nil, nil, fmt.Errorf("fold %d: no trial has %s", f, m.Series)
		}
		chosen[f] = fold[best]
		choices[f] = Choice{Trial: best, Value: m.value(fold[best])}
	}
	return chosen, choices, nil
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
