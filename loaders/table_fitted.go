package loaders

import (
	"encoding/json"
	"fmt"
)

// A table's fitted statistics travel with the run (fitted.json, under
// "data.loader") and with its cache entry, as the standardize transform's
// do: pipe predict, serve and evaluate encode new rows with the numbers
// the model was trained on, without the data directory or the cache.

// tableFitState is tableFit as JSON. Floats round-trip exactly through
// encoding/json, so a restored fit encodes bit for bit as the fitted one.
type tableFitState struct {
	Classes []string         `json:"classes,omitempty"`
	Columns []columnFitState `json:"columns"`
}

type columnFitState struct {
	Column string  `json:"column"`
	Mean   float64 `json:"mean"`
	Std    float64 `json:"std"`
	// FillNum (numeric) and Fill (categorical, text) replace a missing value.
	FillNum float64 `json:"fill_num,omitempty"`
	Fill    string  `json:"fill,omitempty"`
	// Categories are a categorical column's values, slot 1 first.
	Categories []string `json:"categories,omitempty"`
	Offset     int32    `json:"offset,omitempty"`
	// Words are a text column's training words by rank, rank 1 first,
	// cut where num_words would make them out of vocabulary anyway.
	Words []string `json:"words,omitempty"`
}

// Fitted is the statistics Load fitted on the training rows; nil before.
func (t *Table) Fitted() json.RawMessage {
	if t.fitted == nil {
		return nil
	}
	st := tableFitState{Classes: t.fitted.classes}
	for j := range t.Features {
		c, f := &t.Features[j], &t.fitted.cols[j]
		s := columnFitState{Column: c.Column, Mean: f.mean, Std: f.std, FillNum: f.fillNum, Fill: f.fill, Offset: f.offset}
		if f.cats != nil {
			s.Categories = make([]string, len(f.cats))
			for v, slot := range f.cats {
				s.Categories[slot-1] = v
			}
		}
		if f.words != nil {
			for id, r := range f.ranks {
				if r <= 0 || c.NumWords > 0 && int(r)+textIndexFrom >= c.NumWords {
					continue
				}
				for len(s.Words) < int(r) {
					s.Words = append(s.Words, "")
				}
				s.Words[r-1] = f.words.words[id]
			}
		}
		st.Columns = append(st.Columns, s)
	}
	b, _ := json.Marshal(st)
	return b
}

// Restore sets the statistics that Fitted gave, after checking that they
// are those of this loader's features.
func (t *Table) Restore(state json.RawMessage) error {
	var st tableFitState
	if err := json.Unmarshal(state, &st); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	if len(st.Columns) != len(t.Features) {
		return fmt.Errorf("table: the stored statistics are of %d features, the loader has %d", len(st.Columns), len(t.Features))
	}
	fit := &tableFit{classes: st.Classes, classIdx: classIndex(st.Classes), cols: make([]columnFit, len(t.Features))}
	for j := range t.Features {
		c, s, f := &t.Features[j], &st.Columns[j], &fit.cols[j]
		if s.Column != c.Column {
			return fmt.Errorf("table: the stored statistics of features[%d] are of column %q, not %q", j, s.Column, c.Column)
		}
		if c.kind() == "numeric" && s.Std == 0 {
			return fmt.Errorf("table: column %q: a standard deviation of 0", c.Column)
		}
		f.mean, f.std, f.fillNum, f.fill, f.offset = s.Mean, s.Std, s.FillNum, s.Fill, s.Offset
		switch c.kind() {
		case "categorical":
			if len(s.Categories) != c.categories() && len(c.Vocabulary) > 0 || len(s.Categories) > c.categories() {
				return fmt.Errorf("table: column %q: %d stored categories for a column of %d", c.Column, len(s.Categories), c.categories())
			}
			f.cats = make(map[string]int32, len(s.Categories))
			for i, v := range s.Categories {
				f.cats[v] = int32(i + 1)
			}
		case "text":
			f.words = newTextVocab()
			for _, w := range s.Words {
				f.words.id([]byte(w))
			}
			f.ranks = make([]int32, len(s.Words))
			for i := range f.ranks {
				f.ranks[i] = int32(i + 1)
			}
		}
	}
	t.fitted = fit
	return nil
}
