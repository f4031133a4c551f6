package loaders

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("ratings", "Any file of ratings, one (user, item, rating[, timestamp]) per row: delimited text (CSV, TSV; RFC 4180 quoting; .gz read through gzip), Parquet or Arrow IPC (Feather v2, or an IPC stream). Columns are named as in the file's header or schema, or by index from 0. X is the (user, item) index pair, Y the rating; the split params choose the test ratings.",
		func() Loader {
			return &RatingsFile{Format: "auto", Header: true, Quotes: true, User: "user", Item: "item", Rating: "rating", RatingSplit: DefaultRatingSplit()}
		})
}

// RatingsFile reads a ratings file of the user's, wherever its columns
// are. The named rating loaders (jester5k, movielense, ml100k) are fixed
// configurations of the same reader.
type RatingsFile struct {
	Path      string    `pipe:"path,required" doc:"the ratings file, relative to the data directory, or absolute"`
	Format    string    `pipe:"format,oneof=auto|csv|tsv|parquet|arrow" doc:"file format; auto goes by the extension: .parquet/.pq Parquet, .arrow/.feather/.ipc Arrow IPC, .tsv/.tab tab-separated, anything else comma-separated (a trailing .gz is read through gzip)"`
	Delimiter string    `pipe:"delimiter" doc:"field delimiter of a text file, one character (tab may be written \\t or tab); default: the format's"`
	Header    bool      `pipe:"header" doc:"whether a text file's first line names its columns"`
	Quotes    bool      `pipe:"quotes" doc:"whether a text file's fields may be double-quoted (RFC 4180); false splits every line at the delimiter as it is, as in GroupLens' tab-separated files"`
	User      string    `pipe:"user" doc:"column of the user ids: its name, or its index from 0"`
	Item      string    `pipe:"item" doc:"column of the item ids: its name, or its index from 0"`
	Rating    string    `pipe:"rating" doc:"column of the ratings: its name, or its index from 0"`
	Timestamp string    `pipe:"timestamp" doc:"column of the ratings' times, if any (leave_last_out needs it): numbers in any unit, timestamp or date columns, or dates as text (2006-01-02, 2006-01-02 15:04:05, RFC 3339)"`
	Scale     []float64 `pipe:"scale" doc:"lowest and highest rating, e.g. [1, 5]: a rating outside is an error (default: the data's minimum and maximum)"`
	RatingSplit
}

func (*RatingsFile) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

// InputColumns are the user and item columns of the pairs.
func (*RatingsFile) InputColumns() []data.Columns { return data.RatingColumns() }

// Validate checks what decoding each param alone cannot: the delimiter,
// the scale, columns that a headerless file cannot name, and a split the
// file's columns cannot serve.
func (l *RatingsFile) Validate() error {
	if strings.TrimSpace(l.Path) == "" {
		return errors.New("path must name a ratings file")
	}
	src, err := l.source()
	if err != nil {
		return err
	}
	if len(l.Scale) != 0 && (len(l.Scale) != 2 || !(l.Scale[0] < l.Scale[1])) {
		return fmt.Errorf("scale must be [lowest, highest] with lowest < highest, got %v", l.Scale)
	}
	seen := map[string]string{}
	for r, col := range src.cols {
		if col == "" {
			if r != roleTime {
				return fmt.Errorf("the %s column must be given", roleNames[r])
			}
			continue
		}
		if other, dup := seen[col]; dup {
			return fmt.Errorf("%s and %s name the same column %q", other, roleNames[r], col)
		}
		seen[col] = roleNames[r]
		if i, err := strconv.Atoi(col); src.format == formatText && !src.header && (err != nil || i < 0) {
			return fmt.Errorf("%s: %q is not a column index; a text file without a header has its columns numbered from 0", roleNames[r], col)
		}
	}
	return l.RatingSplit.validate(l.Timestamp != "")
}

// source resolves the params into the reader's configuration.
func (l *RatingsFile) source() (*ratingSource, error) {
	src := &ratingSource{header: l.Header, quotes: l.Quotes, cols: [nRoles]string{l.User, l.Item, l.Rating, l.Timestamp}}
	name := strings.ToLower(strings.TrimSuffix(l.Path, ".gz"))
	format := l.Format
	if format == "auto" {
		switch filepath.Ext(name) {
		case ".parquet", ".pq":
			format = "parquet"
		case ".arrow", ".feather", ".ipc":
			format = "arrow"
		case ".tsv", ".tab":
			format = "tsv"
		default:
			format = "csv"
		}
	}
	switch format {
	case "parquet":
		src.format = formatParquet
	case "arrow":
		src.format = formatArrow
	default:
		src.format, src.delim = formatText, ','
		if format == "tsv" {
			src.delim = '\t'
		}
	}
	if l.Delimiter != "" {
		if src.format != formatText {
			return nil, fmt.Errorf("delimiter applies to text files, and %s is read as %s", l.Path, src.format)
		}
		d, err := parseDelimiter(l.Delimiter)
		if err != nil {
			return nil, err
		}
		src.delim = d
	}
	if len(l.Scale) == 2 {
		src.scale = &[2]float32{float32(l.Scale[0]), float32(l.Scale[1])}
	}
	return src, nil
}

// parseDelimiter reads the delimiter param: one character, or tab as \t
// or "tab" (a YAML plain scalar cannot hold a tab). encoding/csv takes
// neither quotes nor line breaks as delimiters.
func parseDelimiter(s string) (rune, error) {
	if s == `\t` || strings.EqualFold(s, "tab") {
		return '\t', nil
	}
	d, size := utf8.DecodeRuneInString(s)
	if size != len(s) || d == utf8.RuneError {
		return 0, fmt.Errorf("delimiter must be one character, got %q", s)
	}
	if d == '"' || d == '\r' || d == '\n' {
		return 0, fmt.Errorf("delimiter %q cannot be a quote or a line break", s)
	}
	return d, nil
}

// file is the ratings file's path under dataDir.
func (l *RatingsFile) file(dataDir string) string {
	if filepath.IsAbs(l.Path) {
		return l.Path
	}
	return filepath.Join(dataDir, l.Path)
}

// Folder is what pipe checksums to key the cache: the file itself (a
// folder's walk of a file is the file), or its folder when the given split
// reads files beside it. pipe joins it under the data directory, so a file
// outside the data directory has no such path; it gets one that cannot
// exist (a NUL byte), whose checksum fails, and pipe then loads the data
// without caching rather than from a cache that missed a change.
func (l *RatingsFile) Folder() string {
	outside := filepath.IsAbs(l.Path)
	folder := filepath.Clean(l.Path)
	if g, ok := l.splitter().(*givenSplit); ok {
		folder = filepath.Dir(folder)
		for _, f := range []string{g.train, g.test} {
			rel := filepath.Clean(f)
			if f == "" {
				continue
			}
			if filepath.IsAbs(f) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				outside = true
			}
		}
	}
	if outside {
		return "\x00not cached: the ratings are outside the data directory"
	}
	return folder
}

func (l *RatingsFile) Load(dataDir string) (*data.Dataset, error) {
	src, err := l.source()
	if err != nil {
		return nil, err
	}
	return src.load(l.file(dataDir), l.RatingSplit)
}
