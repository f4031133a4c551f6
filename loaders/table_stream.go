package loaders

import (
	"fmt"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
)

// A streamed table (data.stream) is read from its files a chunk of rows at
// a time, several times, and never held whole: the first pass checks the
// rows, counts them and finds the classes (and, with a split column, sums
// the training values); a random split needs the count first, so a second
// pass sums; the next takes the squared deviations from the means; the
// last encodes the rows and hands them to the sink. The statistics are
// those Load fits, to the last bit, when the training rows come in the
// same order: with a split column, file order in both.
//
// A random split is drawn by selection sampling (Knuth's algorithm S,
// seeded with split_seed): exactly round(test_fraction × rows) test rows,
// each split in file order — another split than Load's, which takes the
// rows in the order of a seeded shuffle, impossible without holding them.

// CannotStream names the param that keeps the table from streaming, and
// why; "" when it streams.
func (t *Table) CannotStream() (param, why string) {
	if t.Stratify {
		return "stratify", "a stratified split counts the rows of every class before drawing; a streamed table is split by selection sampling in one pass (drop stratify, or give a split_column)"
	}
	for i := range t.Features {
		c := &t.Features[i]
		switch {
		case c.kind() == "text":
			return fmt.Sprintf("features[%d].type", i), "a text column's vocabulary ranks every word of the training split, which a streamed table never holds; stream a table of numeric and categorical features"
		case c.kind() == "numeric" && c.missing() == "mode":
			return fmt.Sprintf("features[%d].missing", i), "the mode of a numeric column counts every distinct value; use mean or constant when streaming"
		}
	}
	return "", ""
}

// LoadStream implements Streamer.
func (t *Table) LoadStream(dataDir string, rows int, out SplitSink) ([]string, error) {
	if param, why := t.CannotStream(); param != "" {
		return nil, fmt.Errorf("%s: %s", param, why)
	}
	files, err := t.tableFiles(dataDir)
	if err != nil {
		return nil, err
	}
	path := files[0]
	scan := func(fn func(raw *tableRaw, kept []int) error) error {
		raw := newTableRaw(t.wanted(), t.MissingValues)
		raw.chunk, raw.flush = rows, func(raw *tableRaw) error {
			kept, err := t.checkRows(raw)
			if err != nil {
				return err
			}
			return fn(raw, kept)
		}
		return t.readInto(raw, files)
	}
	fits := make([]columnFit, len(t.Features))
	stats := make([]numericStats, len(t.Features))
	counts := make([]map[string]int, len(t.Features))
	for j := range counts {
		counts[j] = map[string]int{}
	}
	sum := func(tr *tableRows) {
		raw := tr.raw
		for j := range t.Features {
			switch t.Features[j].kind() {
			case "numeric":
				for _, row := range tr.train {
					if !raw.missing[j][row] {
						v, _ := parseTableNumber(raw.cols[j][row]) // checked in checkRows
						stats[j].add(v)
					}
				}
			case "categorical":
				countCategories(counts[j], raw, j, tr.train)
			}
		}
	}

	// Pass 1: check, count, classes; with a split column, sum.
	var kept, trainRows, testRows int
	found, seen := []string{}, map[string]bool{}
	err = scan(func(raw *tableRaw, k []int) error {
		kept += len(k)
		tr := &tableRows{raw: raw}
		if t.Task != "regression" && len(t.Classes) == 0 {
			for _, row := range k {
				if v := raw.cols[len(t.Features)][row]; !seen[v] {
					seen[v] = true
					found = append(found, v)
				}
			}
		} else if err := t.targets(tr, k); err != nil {
			return err
		}
		if t.SplitColumn == "" {
			return nil
		}
		if err := t.assignByColumn(tr, k); err != nil {
			return err
		}
		trainRows, testRows = trainRows+len(tr.train), testRows+len(tr.test)
		sum(tr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if kept == 0 {
		return nil, dataErr(path, "every row was dropped for a missing value")
	}
	labeled := *t // labels rows with the classes found
	if t.Task != "regression" && len(t.Classes) == 0 {
		if err := t.checkClasses(found, path); err != nil {
			return nil, err
		}
		labeled.Classes, labeled.NumClasses = found, 0
	}
	if t.SplitColumn == "" {
		testRows = t.testCount(kept)
		trainRows = kept - testRows
	}
	if err := checkSplitSizes(path, trainRows, testRows); err != nil {
		return nil, err
	}
	// pass reads the rows again, labelled and split.
	pass := func(fn func(tr *tableRows) error) error {
		sel := selection{rng: rand.New(rand.NewPCG(uint64(t.SplitSeed), 0x7ab1e)), need: testRows, left: kept}
		return scan(func(raw *tableRaw, k []int) error {
			tr := &tableRows{raw: raw}
			if err := labeled.targets(tr, k); err != nil {
				return err
			}
			if t.SplitColumn != "" {
				if err := t.assignByColumn(tr, k); err != nil {
					return err
				}
			} else {
				for _, row := range k {
					if sel.take() {
						tr.test = append(tr.test, row)
					} else {
						tr.train = append(tr.train, row)
					}
				}
			}
			return fn(tr)
		})
	}

	// Pass 2: a random split's sums.
	if t.SplitColumn == "" {
		if err := pass(func(tr *tableRows) error { sum(tr); return nil }); err != nil {
			return nil, err
		}
	}
	zscore := false
	for j := range t.Features {
		stats[j].endSums()
		zscore = zscore || t.Features[j].kind() == "numeric" && t.Features[j].zscore()
	}

	// Pass 3: squared deviations, for the standard deviations.
	if zscore {
		err := pass(func(tr *tableRows) error {
			for j := range t.Features {
				if t.Features[j].kind() != "numeric" {
					continue
				}
				for _, row := range tr.train {
					if !tr.raw.missing[j][row] {
						v, _ := parseTableNumber(tr.raw.cols[j][row])
						stats[j].addDeviation(v)
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	t.indexOffsets(fits)
	for j := range t.Features {
		c, f := &t.Features[j], &fits[j]
		if c.kind() == "numeric" {
			err = stats[j].fit(c, f, 0, path)
		} else {
			err = fitCategoryCounts(c, f, counts[j], path)
		}
		if err != nil {
			return nil, err
		}
	}
	classes := labeled.Classes
	fit := &tableFit{classes: classes, classIdx: classIndex(classes), cols: fits}

	// Pass 4: encode and write, in batches of rows examples.
	if err := out.Begin(trainRows, testRows); err != nil {
		return nil, err
	}
	xs, ys := t.Schemas()
	pending := [2]data.Split{}
	for i := range pending {
		pending[i] = data.Split{X: data.Array{Schema: xs}, Y: data.Array{Schema: ys}}
	}
	emit := func(test int, all bool) error {
		p := &pending[test]
		for p.Len() >= rows || all && p.Len() > 0 {
			n := min(rows, p.Len())
			b := p.Slice(0, n)
			if err := out.Write(test == 1, &b); err != nil {
				return err
			}
			*p = cut(p, n)
		}
		return nil
	}
	err = pass(func(tr *tableRows) error {
		tr.fit = *fit
		for i, part := range [][]int{tr.train, tr.test} {
			s, err := t.split(tr, part)
			if err != nil {
				return err
			}
			appendSplit(&pending[i], &s)
			if err := emit(i, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = emit(0, true)
	}
	if err == nil {
		err = emit(1, true)
	}
	if err != nil {
		return nil, err
	}
	t.fitted = fit
	return classes, nil
}

// selection draws need of left items, each with probability need/left
// (Knuth's algorithm S): exactly need in all, whatever the order.
type selection struct {
	rng        *rand.Rand
	need, left int
}

func (s *selection) take() bool {
	pick := s.rng.IntN(s.left) < s.need
	s.left--
	if pick {
		s.need--
	}
	return pick
}

// appendSplit appends src's examples to dst (of the same schemas).
func appendSplit(dst, src *data.Split) {
	dst.X.Float, dst.X.Int = append(dst.X.Float, src.X.Float...), append(dst.X.Int, src.X.Int...)
	dst.Y.Float, dst.Y.Int = append(dst.Y.Float, src.Y.Float...), append(dst.Y.Int, src.Y.Int...)
}

// cut drops the first n examples of s, moving the rest to the front of
// its slices for the next batch.
func cut(s *data.Split, n int) data.Split {
	rest := s.Slice(n, s.Len())
	out := data.Split{X: data.Array{Schema: s.X.Schema}, Y: data.Array{Schema: s.Y.Schema}}
	out.X.Float, out.X.Int = append(s.X.Float[:0], rest.X.Float...), append(s.X.Int[:0], rest.X.Int...)
	out.Y.Float, out.Y.Int = append(s.Y.Float[:0], rest.Y.Float...), append(s.Y.Int[:0], rest.Y.Int...)
	return out
}
