package loaders

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("table", "A table of examples, one per row: CSV or TSV with a header (RFC 4180 quoting), Parquet, or Arrow IPC (Feather v2), one file or a glob. "+
		"Each entry of features names a column and its type: numeric (z-scored with the training split's mean and standard deviation), "+
		"categorical (a vocabulary declared or taken from the training split, plus an unknown bucket; one-hot, or an index for an embedding) or text (tokenized as imdb is, pre-padded to maxlen). "+
		"Feature keys: column, type (numeric|categorical|text), scale (zscore|none), missing (error|mean|mode|constant|drop), fill, max_categories, vocabulary, encoding (one_hot|index), num_words, maxlen. "+
		"The target is class labels (strings or integers, as int32 labels) or a number (task: regression, float32). "+
		"The test split is the rows a split_column marks test, or a seeded random (optionally stratified) test_fraction. "+
		"With data.stream the cache entry is built from the files a chunk of rows at a time, never holding the table (the same statistics; a random split then keeps file order, drawn by selection sampling; stratify, text columns and numeric missing: mode cannot stream).",
		func() Loader {
			return &Table{
				Format:        "auto",
				MissingValues: []string{"", "NA", "N/A", "NaN", "nan", "null", "?"},
				Task:          "classification",
				TargetMissing: "error",
				TestFraction:  0.2,
				SplitSeed:     1,
			}
		})
}

// Table reads tabular data: CSV/TSV (encoding/csv), Parquet and Arrow IPC
// files. Its shapes follow from the params alone (Schemas reads no data),
// so every categorical feature declares its size: a vocabulary, or
// max_categories for one taken from the training split.
//
// Layout of x, one example per row, features in the order listed:
//
//   - numeric and one-hot categorical features: float32 [F], a numeric
//     feature one value, a categorical one K+1 values (slot 0 the unknown
//     bucket, then the categories);
//   - index-encoded categorical features (all features index-encoded):
//     int32 [k], one id per feature; the ids of feature j are offset past
//     those of features before it, so that one embedding of input_dim
//     x.Classes (the sum of K+1) serves them all without collisions;
//   - one text feature (and nothing else): int32 [maxlen], Keras' word
//     indices (1 start, 2 out of vocabulary, rank r -> r + 3) with the
//     ranks of the training split, pre-padded with 0 and pre-truncated.
//
// Fitted statistics (means, standard deviations, fill values,
// vocabularies, word ranks) come from the training rows only, never the
// test rows. A run stores them (Fitted, table_fitted.go), and pipe
// predict encodes a new row with them.
type Table struct {
	Path          string        `pipe:"path,required" doc:"the file, or a glob of files read in sorted order and concatenated (adult/*.csv); relative to the data directory, or absolute. Extensions: .csv, .tsv/.tab, .parquet/.pq, .arrow/.feather/.ipc"`
	Format        string        `pipe:"format,oneof=auto|csv|tsv|parquet|arrow" doc:"file format; auto goes by each file's extension"`
	Delimiter     string        `pipe:"delimiter" doc:"CSV field separator, one character; empty: comma for csv, tab for tsv"`
	MissingValues []string      `pipe:"missing_values" doc:"values that mean missing (compared after trimming spaces), besides Parquet and Arrow nulls"`
	Features      []TableColumn `pipe:"features,required" doc:"the feature columns, in the order their values take in x; see the loader's description for the keys"`
	Target        string        `pipe:"target,required" doc:"the label column"`
	Task          string        `pipe:"task,oneof=classification|regression" doc:"classification: the target holds class names (strings or integers), labels are int32 indices into the classes; regression: the target is a number, float32"`
	Classes       []string      `pipe:"classes" doc:"classification: the class names, in label order; a target value not listed is an error"`
	NumClasses    int           `pipe:"num_classes,min=0" doc:"classification: how many classes there are (0 when classes lists them); their names are the target's values, sorted (numerically when all are integers)"`
	TargetMissing string        `pipe:"target_missing,oneof=error|drop" doc:"a row whose target is missing: error, or drop the row"`
	SplitColumn   string        `pipe:"split_column" doc:"a column that says train or test for every row; when given, test_fraction, split_seed and stratify do not apply"`
	TestFraction  float64       `pipe:"test_fraction,min=0.001,max=0.999" doc:"fraction of the rows held out at random as the test split, when there is no split_column"`
	SplitSeed     int           `pipe:"split_seed" doc:"seed of the random split; the rows of each split come in the order of the seeded shuffle, so that any prefix (train_limit, a validation fraction) is a random sample"`
	Stratify      bool          `pipe:"stratify" doc:"classification: hold out test_fraction of each class (rounded), so both splits keep the class proportions"`

	fitted *tableFit // the training split's statistics: fitted by Load, or restored from a run
}

// TableColumn is one feature column of a table and how it is encoded.
// Zero values mean the defaults: type numeric, scale zscore, missing
// error, encoding one_hot. The decoder leaves the absent keys of a list
// item at their zero values and a run's resolved spec.yaml writes them
// back as they are, so each tag admits its zero value ("" in every oneof,
// min=0) for the spec to load again.
type TableColumn struct {
	Column        string   `pipe:"column,required" doc:"the column's name in the header"`
	Type          string   `pipe:"type,oneof=numeric|categorical|text|" doc:"numeric (the default), categorical or text"`
	Scale         string   `pipe:"scale,oneof=zscore|none|" doc:"numeric: zscore (the default; (value - mean) / standard deviation of the training split, a constant column divided by 1) or none (the value as it is)"`
	Missing       string   `pipe:"missing,oneof=error|mean|mode|constant|drop|" doc:"a missing value: error (the default, naming file, row and column), mean (numeric) or mode of the training split, constant (the fill value), or drop the row"`
	Fill          string   `pipe:"fill" doc:"the value that replaces a missing one, with missing: constant (a number for a numeric column; for a categorical one any value, one outside the vocabulary lands in the unknown bucket)"`
	MaxCategories int      `pipe:"max_categories,min=0" doc:"categorical: keep the max_categories most frequent values of the training split (ties by value); others go to the unknown bucket"`
	Vocabulary    []string `pipe:"vocabulary" doc:"categorical: the categories, in order; values not listed go to the unknown bucket"`
	Encoding      string   `pipe:"encoding,oneof=one_hot|index|" doc:"categorical: one_hot (the default; float32 values in x) or index (int32 ids for an embedding; then every feature must be an index-encoded categorical)"`
	NumWords      int      `pipe:"num_words,min=0" doc:"text: keep words whose index (rank + 3) is below num_words, as imdb does; 0 keeps every word"`
	MaxLen        int      `pipe:"maxlen,min=0" doc:"text: length of every sequence, pre-padded with 0 and pre-truncated as pad_sequences does"`
}

// Column kinds and their defaults: "" stands for the default.
func (c *TableColumn) kind() string     { return cmpOr(c.Type, "numeric") }
func (c *TableColumn) missing() string  { return cmpOr(c.Missing, "error") }
func (c *TableColumn) encoding() string { return cmpOr(c.Encoding, "one_hot") }
func (c *TableColumn) zscore() bool     { return c.Scale != "none" }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// categories is K, the size of a categorical column's vocabulary without
// the unknown bucket.
func (c *TableColumn) categories() int {
	if len(c.Vocabulary) > 0 {
		return len(c.Vocabulary)
	}
	return c.MaxCategories
}

// Validate checks the rules across params that the tags cannot state, so
// that a spec that cannot load fails at `pipe validate`, not after reading.
func (t *Table) Validate() error {
	if strings.TrimSpace(t.Path) == "" {
		return fmt.Errorf("path is empty")
	}
	if _, err := filepath.Match(t.Path, ""); err != nil {
		return fmt.Errorf("path %q is not a valid glob: %v", t.Path, err)
	}
	if t.Delimiter != "" {
		r, size := utf8.DecodeRuneInString(t.Delimiter)
		if size != len(t.Delimiter) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
			return fmt.Errorf("delimiter %q: want one character other than a quote or a line break", t.Delimiter)
		}
		if t.Format == "parquet" || t.Format == "arrow" {
			return fmt.Errorf("delimiter applies to csv and tsv files, not %s", t.Format)
		}
	}
	if len(t.Features) == 0 {
		return fmt.Errorf("features is empty: list at least one column")
	}
	if strings.TrimSpace(t.Target) == "" {
		return fmt.Errorf("target is empty: name the label column")
	}
	seen := map[string]string{t.Target: "target"}
	if t.SplitColumn != "" {
		if prev, dup := seen[t.SplitColumn]; dup {
			return fmt.Errorf("split_column %q is also the %s", t.SplitColumn, prev)
		}
		seen[t.SplitColumn] = "split_column"
	}
	var index, text, other int
	for i := range t.Features {
		c := &t.Features[i]
		where := fmt.Sprintf("features[%d] (%s)", i, c.Column)
		if strings.TrimSpace(c.Column) == "" {
			return fmt.Errorf("features[%d]: column is empty", i)
		}
		if prev, dup := seen[c.Column]; dup {
			return fmt.Errorf("%s: the column is also the %s", where, prev)
		}
		seen[c.Column] = fmt.Sprintf("features[%d]", i)
		if err := c.validate(); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		switch {
		case c.kind() == "text":
			text++
		case c.kind() == "categorical" && c.encoding() == "index":
			index++
		default:
			other++
		}
	}
	switch {
	case text > 0 && len(t.Features) > 1:
		return fmt.Errorf("a text feature must be the only feature: x is its int32 word indices")
	case index > 0 && other > 0:
		return fmt.Errorf("encoding: index gives int32 ids and numeric or one-hot features give float32 values; x holds one of the two, so either every feature is an index-encoded categorical or none is")
	}
	if t.Task == "regression" {
		if len(t.Classes) > 0 || t.NumClasses > 0 || t.Stratify {
			return fmt.Errorf("classes, num_classes and stratify apply to classification, not regression")
		}
	} else {
		if (len(t.Classes) > 0) == (t.NumClasses > 0) {
			return fmt.Errorf("classification needs the number of classes without reading data: give classes (the names, in label order) or num_classes (names from the data, sorted), not both")
		}
		if dup := firstDuplicate(t.Classes); dup != "" {
			return fmt.Errorf("classes lists %q twice", dup)
		}
	}
	if t.SplitColumn != "" && t.Stratify {
		return fmt.Errorf("stratify applies to the random split; split_column gives the split itself")
	}
	return nil
}

func (c *TableColumn) validate() error {
	kind := c.kind()
	if kind != "categorical" && (c.MaxCategories > 0 || len(c.Vocabulary) > 0 || c.Encoding != "") {
		return fmt.Errorf("max_categories, vocabulary and encoding apply to categorical columns, not %s", kind)
	}
	if kind != "text" && (c.NumWords > 0 || c.MaxLen > 0) {
		return fmt.Errorf("num_words and maxlen apply to text columns, not %s", kind)
	}
	if kind != "numeric" && c.Scale != "" {
		return fmt.Errorf("scale applies to numeric columns, not %s", kind)
	}
	switch m := c.missing(); {
	case m == "mean" && kind != "numeric":
		return fmt.Errorf("missing: mean needs a numeric column (mode or constant suit a %s one)", kind)
	case m == "mode" && kind == "text":
		return fmt.Errorf("missing: mode does not suit a text column (constant or drop do)")
	case m == "constant" && kind == "numeric":
		if _, err := parseTableNumber(c.Fill); err != nil {
			return fmt.Errorf("missing: constant needs a numeric fill: %v", err)
		}
	case m != "constant" && c.Fill != "":
		return fmt.Errorf("fill applies with missing: constant")
	}
	switch kind {
	case "categorical":
		if (c.MaxCategories > 0) == (len(c.Vocabulary) > 0) {
			return fmt.Errorf("a categorical column needs its size without reading data: give max_categories (the most frequent values of the training split) or vocabulary (the values), not both")
		}
		if dup := firstDuplicate(c.Vocabulary); dup != "" {
			return fmt.Errorf("vocabulary lists %q twice", dup)
		}
	case "text":
		if c.MaxLen == 0 {
			return fmt.Errorf("a text column needs maxlen, the length of its sequences")
		}
		if c.NumWords > 0 && c.NumWords <= textIndexFrom {
			return fmt.Errorf("num_words %d keeps no word: indices 0-2 are padding, start and out of vocabulary", c.NumWords)
		}
	}
	return nil
}

func firstDuplicate(list []string) string {
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s] {
			return s
		}
		seen[s] = true
	}
	return ""
}

// parseTableNumber parses a numeric cell: a finite decimal number that
// float32, the type of x and of regression targets, can hold.
func parseTableNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if f-f != 0 { // ±Inf; NaN is a missing value and never reaches here
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	if math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("%q is beyond float32's range", s)
	}
	return f, nil
}

// Folder is the folder holding the file(s): the path's directory, above
// any glob pattern. pipe checksums everything under it to key its cache,
// so a table in its own folder keeps that cheap. An absolute folder is
// returned as it is: pipe's cache currently looks for it under the data
// directory, does not find it, and loads without the cache.
func (t *Table) Folder() string {
	dir := filepath.Dir(filepath.Clean(t.Path))
	for hasMeta(dir) {
		dir = filepath.Dir(dir)
	}
	return dir
}

func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }

// Schemas follow from the declared features: see Table's comment.
func (t *Table) Schemas() (x, y data.Schema) {
	y = data.Schema{DType: data.Int32, Shape: []int{}, Classes: max(len(t.Classes), t.NumClasses)}
	if t.Task == "regression" {
		y = data.Schema{DType: data.Float32, Shape: []int{}}
	}
	if len(t.Features) == 1 && t.Features[0].kind() == "text" {
		c := &t.Features[0]
		return data.Schema{DType: data.Int32, Shape: []int{c.MaxLen}, Classes: c.NumWords}, y
	}
	if len(t.Features) > 0 && slices.IndexFunc(t.Features, func(c TableColumn) bool { return c.encoding() != "index" || c.kind() != "categorical" }) < 0 {
		ids := 0
		for i := range t.Features {
			ids += t.Features[i].categories() + 1
		}
		return data.Schema{DType: data.Int32, Shape: []int{len(t.Features)}, Classes: ids}, y
	}
	return data.Schema{DType: data.Float32, Shape: []int{t.width()}}, y
}

// width is the number of float32 values of x with numeric and one-hot
// features.
func (t *Table) width() int {
	n := 0
	for i := range t.Features {
		if c := &t.Features[i]; c.kind() == "categorical" {
			n += c.categories() + 1
		} else {
			n++
		}
	}
	return n
}
