package loaders

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

// tableRows is a table read, checked and split: rows index raw.
type tableRows struct {
	raw         *tableRaw
	labels      []int32   // classification: per raw row (kept rows only meaningful)
	targets     []float32 // regression: per raw row
	train, test []int
	fit         tableFit
}

func (t *Table) Load(dataDir string) (*data.Dataset, error) {
	tr, err := t.prepare(dataDir)
	if err != nil {
		return nil, err
	}
	t.fitted = &tr.fit
	ds := &data.Dataset{Classes: tr.fit.classes}
	for _, s := range []struct {
		rows []int
		out  *data.Split
	}{{tr.train, &ds.Train}, {tr.test, &ds.Test}} {
		if *s.out, err = t.split(tr, s.rows); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// prepare reads the files, applies the missing-value policies, labels the
// rows, splits them and fits the features on the training rows.
func (t *Table) prepare(dataDir string) (*tableRows, error) {
	files, err := t.tableFiles(dataDir)
	if err != nil {
		return nil, err
	}
	raw, err := t.readFiles(files, t.wanted())
	if err != nil {
		return nil, err
	}
	tr := &tableRows{raw: raw}
	kept, err := t.checkRows(raw)
	if err != nil {
		return nil, err
	}
	if len(kept) == 0 {
		return nil, dataErr(raw.files[0].path, "every row was dropped for a missing value")
	}
	if err := t.targets(tr, kept); err != nil {
		return nil, err
	}
	if t.SplitColumn != "" {
		err = t.splitByColumn(tr, kept)
	} else {
		err = t.splitAtRandom(tr, kept)
	}
	if err != nil {
		return nil, err
	}
	if tr.fit.cols, err = t.fitColumns(raw, tr.train); err != nil {
		return nil, err
	}
	return tr, nil
}

// checkRows goes through the rows in file order, so that the first
// problem reported is the first in the file: a missing value where the
// policy is error, a numeric cell that is not a number. It returns the
// rows kept after missing: drop.
func (t *Table) checkRows(raw *tableRaw) ([]int, error) {
	target := len(t.Features)
	kept := make([]int, 0, raw.len())
rows:
	for row := range raw.len() {
		drop := false
		for j := range t.Features {
			c := &t.Features[j]
			if raw.missing[j][row] {
				switch c.missing() {
				case "error":
					return nil, raw.errAt(row, j, "missing value (missing: error; mean, mode, constant or drop would fill it or drop the row)")
				case "drop":
					drop = true
				}
				continue
			}
			if c.kind() == "numeric" {
				if _, err := parseTableNumber(raw.cols[j][row]); err != nil {
					return nil, raw.errAt(row, j, "%v", err)
				}
			}
		}
		if raw.missing[target][row] {
			if t.TargetMissing != "drop" {
				return nil, raw.errAt(row, target, "missing target (target_missing: drop would drop the row)")
			}
			continue rows
		}
		if !drop {
			kept = append(kept, row)
		}
	}
	return kept, nil
}

// targets parses the target of the kept rows: class names to labels, or
// numbers.
func (t *Table) targets(tr *tableRows, kept []int) error {
	raw, j := tr.raw, len(t.Features)
	if t.Task == "regression" {
		tr.targets = make([]float32, raw.len())
		for _, row := range kept {
			v, err := parseTableNumber(raw.cols[j][row])
			if err != nil {
				return raw.errAt(row, j, "%v (task: regression wants a number)", err)
			}
			tr.targets[row] = float32(v)
		}
		return nil
	}
	classes := t.Classes
	if len(classes) == 0 {
		seen := map[string]bool{}
		for _, row := range kept {
			if v := raw.cols[j][row]; !seen[v] {
				seen[v] = true
				classes = append(classes, v)
			}
		}
		if err := t.checkClasses(classes, raw.files[0].path); err != nil {
			return err
		}
	}
	tr.fit.classes, tr.fit.classIdx = classes, classIndex(classes)
	tr.labels = make([]int32, raw.len())
	for _, row := range kept {
		label, ok := tr.fit.classIdx[raw.cols[j][row]]
		if !ok {
			return raw.errAt(row, j, "class %q is not one of classes %s", raw.cols[j][row], quoteAll(classes))
		}
		tr.labels[row] = label
	}
	return nil
}

// checkClasses sorts the classes found in the target column and checks
// that num_classes counted them.
func (t *Table) checkClasses(classes []string, path string) error {
	sortClasses(classes)
	if len(classes) != t.NumClasses {
		return dataErr(path, "column %q has %d classes, num_classes says %d: %s", t.Target, len(classes), t.NumClasses, quoteAll(classes[:min(len(classes), 50)]))
	}
	return nil
}

// splitByColumn takes the split the file gives: train or test per row.
func (t *Table) splitByColumn(tr *tableRows, kept []int) error {
	if err := t.assignByColumn(tr, kept); err != nil {
		return err
	}
	return t.checkSplits(tr)
}

// assignByColumn appends each kept row to the split its cell names.
func (t *Table) assignByColumn(tr *tableRows, kept []int) error {
	raw, j := tr.raw, len(t.Features)+1
	for _, row := range kept {
		switch v := strings.ToLower(raw.cols[j][row]); {
		case raw.missing[j][row]:
			return raw.errAt(row, j, "missing split: every row must say train or test")
		case v == "train" || v == "training":
			tr.train = append(tr.train, row)
		case v == "test" || v == "testing":
			tr.test = append(tr.test, row)
		default:
			return raw.errAt(row, j, "%q is not a split: want train or test", raw.cols[j][row])
		}
	}
	return nil
}

// splitAtRandom holds out test_fraction of the rows (of each class, with
// stratify), drawn by a permutation seeded with split_seed. Both splits
// keep the permutation's order: a prefix of either is a random sample,
// even of a file sorted by class.
func (t *Table) splitAtRandom(tr *tableRows, kept []int) error {
	rng := rand.New(rand.NewPCG(uint64(t.SplitSeed), 0x7ab1e))
	perm := slices.Clone(kept)
	rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
	isTest := make(map[int]bool, len(perm))
	if t.Stratify {
		byClass := map[int32][]int{}
		for _, row := range perm {
			byClass[tr.labels[row]] = append(byClass[tr.labels[row]], row)
		}
		for _, rows := range byClass {
			for _, row := range rows[:t.testCount(len(rows))] {
				isTest[row] = true
			}
		}
	} else {
		for _, row := range perm[:t.testCount(len(perm))] {
			isTest[row] = true
		}
	}
	for _, row := range perm {
		if isTest[row] {
			tr.test = append(tr.test, row)
		} else {
			tr.train = append(tr.train, row)
		}
	}
	return t.checkSplits(tr)
}

func (t *Table) testCount(n int) int {
	return int(math.Round(t.TestFraction * float64(n)))
}

func (t *Table) checkSplits(tr *tableRows) error {
	return checkSplitSizes(tr.raw.files[0].path, len(tr.train), len(tr.test))
}

func checkSplitSizes(path string, train, test int) error {
	switch {
	case train == 0:
		return dataErr(path, "no training rows (of %d)", train+test)
	case test == 0:
		return dataErr(path, "no test rows (of %d): raise test_fraction or mark rows test in the split column", train+test)
	}
	return nil
}

// split encodes the given rows as one split of the dataset.
func (t *Table) split(tr *tableRows, rows []int) (data.Split, error) {
	xs, ys := t.Schemas()
	x := data.Array{Schema: xs}
	y := data.Array{Schema: ys}
	if xs.DType == data.Float32 {
		x.Float = make([]float32, 0, len(rows)*data.Elements(xs.Shape))
	} else {
		x.Int = make([]int32, 0, len(rows)*data.Elements(xs.Shape))
	}
	var err error
	for _, row := range rows {
		if x.Float, x.Int, err = t.encodeRow(tr.fit.cols, tr.raw, row, x.Float, x.Int); err != nil {
			return data.Split{}, err
		}
		if ys.DType == data.Float32 {
			y.Float = append(y.Float, tr.targets[row])
		} else {
			y.Int = append(y.Int, tr.labels[row])
		}
	}
	return data.Split{X: x, Y: y}, nil
}

// InputKind: a file of one row, in any of the formats the loader reads.
func (t *Table) InputKind() InputKind {
	return InputKind{File: true, What: "a file with a header and one row of the feature columns (CSV, TSV, Parquet or Arrow)"}
}

// DecodeInput reads a file holding one row of the feature columns (the
// target may be there or not) for `pipe predict`, encoded with the
// statistics of the training split: those Load fitted, or those a run
// stored (Restore), never fitted again from the data directory, whose
// files may have changed since. The table readers take
// files, so the content is written to a temporary file of the input's
// base name (the format goes by its extension; messages name it).
func (t *Table) DecodeInput(_, name string, content []byte) (data.Array, error) {
	tmp, err := os.MkdirTemp("", "pipe-row-")
	if err != nil {
		return data.Array{}, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, filepath.Base(name))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		return data.Array{}, err
	}
	x, err := t.decodeRow(path)
	var de *data.DataError
	if errors.As(err, &de) && de.Path == path {
		de.Path = name
	}
	return x, err
}

// decodeRow encodes the one row of the file at path.
func (t *Table) decodeRow(path string) (data.Array, error) {
	if t.fitted == nil {
		return data.Array{}, fmt.Errorf("the table loader has no fitted statistics: a run stores them in fitted.json, which pipe predict reads")
	}
	var want []string
	for _, c := range t.Features {
		want = append(want, c.Column)
	}
	// The input's own extension says its format first: a CSV row can be
	// given to a model trained on Parquet files.
	u := *t
	if _, ok := formatByExt(path); ok {
		u.Format = "auto"
	}
	raw, err := u.readFiles([]string{path}, want)
	if err != nil {
		return data.Array{}, err
	}
	if raw.len() != 1 {
		return data.Array{}, dataErr(path, "%d rows: pipe predict takes one row per file", raw.len())
	}
	xs, _ := t.Schemas()
	x := data.Array{Schema: xs}
	x.Float, x.Int, err = t.encodeRow(t.fitted.cols, raw, 0, nil, nil)
	if xs.DType == data.Float32 {
		x.Int = nil
	} else {
		x.Float = nil
	}
	return x, err
}
