package loaders

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// tableFit is what a table loader learns from the training rows: the
// preprocessing that predict must apply to a new row the same way.
type tableFit struct {
	classes  []string
	classIdx map[string]int32
	cols     []columnFit // one per feature
}

// columnFit is the fitted encoding of one feature.
type columnFit struct {
	mean, std float64          // numeric: z-score (0 and 1 with scale: none)
	fillNum   float64          // numeric: what a missing value becomes (mean, mode, constant)
	fill      string           // categorical, text: what a missing value becomes (mode, constant)
	cats      map[string]int32 // categorical: value -> slot 1..K; 0 is the unknown bucket
	offset    int32            // index encoding: this feature's ids start here
	words     *textVocab       // text: the training split's words
	ranks     []int32          // text: rank of each word of words
}

// fitColumns fits every feature on the training rows.
func (t *Table) fitColumns(raw *tableRaw, train []int) ([]columnFit, error) {
	fits := make([]columnFit, len(t.Features))
	t.indexOffsets(fits)
	for j := range t.Features {
		c, f := &t.Features[j], &fits[j]
		var err error
		switch c.kind() {
		case "numeric":
			err = fitNumeric(c, f, raw, j, train)
		case "categorical":
			err = fitCategorical(c, f, raw, j, train)
		case "text":
			f.fill = c.Fill
			f.words = newTextVocab()
			docs := make([][]int32, 0, len(train))
			for _, row := range train {
				s := raw.cols[j][row]
				if raw.missing[j][row] {
					s = f.fill
				}
				docs = append(docs, f.words.tokens([]byte(s), false, nil))
			}
			f.ranks = textFrequencyRanks(len(f.words.words), docs)
		}
		if err != nil {
			return nil, err
		}
	}
	return fits, nil
}

// indexOffsets sets where each categorical feature's ids start, for the
// index encoding: after the vocabularies and unknown buckets before it.
func (t *Table) indexOffsets(fits []columnFit) {
	offset := int32(0)
	for j := range t.Features {
		if c := &t.Features[j]; c.kind() == "categorical" {
			fits[j].offset = offset
			offset += int32(c.categories() + 1)
		}
	}
}

// fitNumeric takes the mean and population standard deviation (as
// scikit-learn's StandardScaler does) of the training values that are
// present, and the fill value of missing ones.
func fitNumeric(c *TableColumn, f *columnFit, raw *tableRaw, j int, train []int) error {
	var vals []float64
	for _, row := range train {
		if !raw.missing[j][row] {
			v, _ := parseTableNumber(raw.cols[j][row]) // checked in checkRows
			vals = append(vals, v)
		}
	}
	var st numericStats
	for _, v := range vals {
		st.add(v)
	}
	st.endSums()
	for _, v := range vals {
		st.addDeviation(v)
	}
	var mode float64
	if c.missing() == "mode" && len(vals) > 0 {
		mode = numericMode(vals)
	}
	return st.fit(c, f, mode, raw.files[0].path)
}

// numericStats fits a numeric column in two passes over its training
// values, in the same order each time: their sum, then (after endSums)
// their squared deviations from the mean. A table in memory and one
// streamed from its files go through it alike, so both fit the same
// numbers to the last bit.
type numericStats struct {
	n         int
	sum, mean float64
	ss        float64
}

func (s *numericStats) add(v float64) { s.n++; s.sum += v }

func (s *numericStats) endSums() {
	if s.n > 0 {
		s.mean = s.sum / float64(s.n)
	}
}

func (s *numericStats) addDeviation(v float64) { s.ss += (v - s.mean) * (v - s.mean) }

// fit sets f from the statistics (mode: the values' mode, for missing:
// mode). A constant column is divided by 1, as StandardScaler does,
// rather than by 0.
func (s *numericStats) fit(c *TableColumn, f *columnFit, mode float64, path string) error {
	needStats := c.zscore() || c.missing() == "mean" || c.missing() == "mode"
	if s.n == 0 && needStats {
		return dataErr(path, "column %q has no values in the training split to fit", c.Column)
	}
	f.mean, f.std = 0, 1
	if s.n > 0 {
		switch c.missing() {
		case "mean":
			f.fillNum = s.mean
		case "mode":
			f.fillNum = mode
		}
		if c.zscore() {
			f.mean = s.mean
			if std := math.Sqrt(s.ss / float64(s.n)); std > 0 {
				f.std = std
			}
		}
	}
	if c.missing() == "constant" {
		f.fillNum, _ = parseTableNumber(c.Fill) // checked in Validate
	}
	return nil
}

// numericMode is the most frequent value, the smallest of equals.
func numericMode(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	best, bestN := s[0], 0
	for i := 0; i < len(s); {
		k := i
		for k < len(s) && s[k] == s[i] {
			k++
		}
		if k-i > bestN {
			best, bestN = s[i], k-i
		}
		i = k
	}
	return best
}

// fitCategorical builds the vocabulary (declared, or the max_categories
// most frequent training values, ties by value) and the mode.
func fitCategorical(c *TableColumn, f *columnFit, raw *tableRaw, j int, train []int) error {
	counts := map[string]int{}
	countCategories(counts, raw, j, train)
	return fitCategoryCounts(c, f, counts, raw.files[0].path)
}

// countCategories counts the values of column j present in rows.
func countCategories(counts map[string]int, raw *tableRaw, j int, rows []int) {
	for _, row := range rows {
		if !raw.missing[j][row] {
			counts[raw.cols[j][row]]++
		}
	}
}

// fitCategoryCounts fits a categorical column from the counts of its
// training values.
func fitCategoryCounts(c *TableColumn, f *columnFit, counts map[string]int, path string) error {
	byCount := make([]string, 0, len(counts))
	for v := range counts {
		byCount = append(byCount, v)
	}
	slices.SortFunc(byCount, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b)) })
	vocab := c.Vocabulary
	if len(vocab) == 0 {
		vocab = byCount[:min(len(byCount), c.MaxCategories)]
	}
	f.cats = make(map[string]int32, len(vocab))
	for i, v := range vocab {
		f.cats[v] = int32(i + 1)
	}
	switch c.missing() {
	case "mode":
		if len(byCount) == 0 {
			return dataErr(path, "column %q has no values in the training split to take the mode of", c.Column)
		}
		f.fill = byCount[0]
	case "constant":
		f.fill = c.Fill
	}
	return nil
}

// encodeRow appends the features of row to x (float32 values) or ids
// (int32 ids or word indices), as Schemas lays them out. A missing value
// takes its fill; with missing: drop or error there is none (Load has
// dropped or refused such rows; predict refuses them here).
func (t *Table) encodeRow(fits []columnFit, raw *tableRaw, row int, x []float32, ids []int32) ([]float32, []int32, error) {
	for j := range t.Features {
		c, f := &t.Features[j], &fits[j]
		missing := raw.missing[j][row]
		if missing {
			switch m := c.missing(); m {
			case "error":
				return x, ids, raw.errAt(row, j, "missing value (missing: error; mean, mode, constant or drop would fill it or drop the row)")
			case "drop":
				return x, ids, raw.errAt(row, j, "missing value, and missing: drop leaves no prediction for the row")
			}
		}
		switch c.kind() {
		case "numeric":
			v := f.fillNum
			if !missing {
				var err error
				if v, err = parseTableNumber(raw.cols[j][row]); err != nil {
					return x, ids, raw.errAt(row, j, "%v", err)
				}
			}
			z := float32((v - f.mean) / f.std)
			if math.IsInf(float64(z), 0) { // a test row far outside a narrow training range
				return x, ids, raw.errAt(row, j, "%q is %.3g standard deviations from the training mean, beyond float32", raw.cols[j][row], (v-f.mean)/f.std)
			}
			x = append(x, z)
		case "categorical":
			s := raw.cols[j][row]
			if missing {
				s = f.fill
			}
			slot := f.cats[s] // 0 (unknown) when absent
			if c.encoding() == "index" {
				ids = append(ids, f.offset+slot)
			} else {
				at := len(x)
				x = append(x, make([]float32, c.categories()+1)...)
				x[at+int(slot)] = 1
			}
		case "text":
			s := raw.cols[j][row]
			if missing {
				s = f.fill
			}
			ids = f.textIndices(ids, s, c.NumWords, c.MaxLen)
		}
	}
	return x, ids, nil
}

// textIndices appends the Keras indices of text (start, then rank + 3, or
// out of vocabulary for words the training split lacks or num_words cuts),
// pre-truncated or pre-padded with 0 to maxlen, as imdb with pad_sequences
// gives.
func (f *columnFit) textIndices(dst []int32, text string, numWords, maxLen int) []int32 {
	seq := []int32{textStart}
	textTokenize([]byte(text), false, func(w []byte) {
		idx := int32(textOOV)
		if id, ok := f.words.ids[string(w)]; ok && f.ranks[id] > 0 {
			idx = f.ranks[id] + textIndexFrom
			if numWords > 0 && int(idx) >= numWords {
				idx = textOOV
			}
		}
		seq = append(seq, idx)
	})
	if len(seq) > maxLen {
		seq = seq[len(seq)-maxLen:]
	}
	for range maxLen - len(seq) {
		dst = append(dst, textPad)
	}
	return append(dst, seq...)
}

// sortClasses orders class names found in the data: numerically when all
// are integers (so 10 follows 9), else by string.
func sortClasses(names []string) {
	nums := make(map[string]int64, len(names))
	for _, n := range names {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			slices.Sort(names)
			return
		}
		nums[n] = v
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(nums[a], nums[b]), strings.Compare(a, b)) })
}

// classIndex maps class names to labels.
func classIndex(classes []string) map[string]int32 {
	m := make(map[string]int32, len(classes))
	for i, c := range classes {
		m[c] = int32(i)
	}
	return m
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("[%s]", strings.Join(q, ", "))
}
