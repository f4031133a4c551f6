package loaders

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

// ratingSource says how to read a file of ratings: the generic `ratings`
// loader's params resolved, or the fixed configuration of a named loader
// (jester5k, movielense, ml100k). Every ratings loader reads through it.
type ratingSource struct {
	format string // formatText, formatParquet or formatArrow
	// Text files: the field delimiter, whether the first record names the
	// columns, and whether fields may be quoted (RFC 4180).
	delim          rune
	header, quotes bool
	// cols are the user, item, rating and timestamp columns, each a header
	// name or a 0-based index; the timestamp is "" when there is none.
	cols [nRoles]string
	// names are what messages call the columns of a headerless file (ml100k's
	// user_id, ...); "" for "column 2 (rating)".
	names [nRoles]string
	// fields is the field count of every record of a headerless text file;
	// 0 for "as many as the first record has".
	fields int
	scale  *[2]float32 // nil: the data's min and max
	// ml100k's own checks: ids are positive integers, ratings integers.
	integerIDs, integerRatings bool
	// exactHeader: the header must be cols and nothing else, as
	// recommenderlab's files are (a stray column means another file).
	exactHeader bool
}

const (
	formatText    = "text"
	formatParquet = "parquet"
	formatArrow   = "arrow"
)

// The roles of a rating file's columns, the index into ratingSource.cols.
const (
	roleUser = iota
	roleItem
	roleRating
	roleTime
	nRoles
)

var roleNames = [nRoles]string{"user", "item", "rating", "timestamp"}

// load reads the ratings at path (for the given split, its train and test
// files instead), then samples and splits them as p says.
func (src *ratingSource) load(path string, p RatingSplit) (*data.Dataset, error) {
	// Registry.Build validated a loader built from a spec; a program that
	// fills the params itself gets the same checks here.
	if err := p.validate(src.cols[roleTime] != ""); err != nil {
		return nil, err
	}
	check := &ratingChecker{src: src, seen: map[uint64]uint64{}}
	var (
		all      []Rating
		fromTest []bool
		err      error
	)
	where := path
	if g, ok := p.splitter().(*givenSplit); ok {
		dir := filepath.Dir(path)
		train, test := path, besides(dir, g.test)
		if g.train != "" {
			train = besides(dir, g.train)
		}
		where = train
		if all, err = src.read(train, check); err != nil {
			return nil, err
		}
		held, err := src.read(test, check)
		if err != nil {
			return nil, err
		}
		fromTest = make([]bool, len(all), len(all)+len(held))
		for range held {
			fromTest = append(fromTest, true)
		}
		all = append(all, held...)
	} else if all, err = src.read(path, check); err != nil {
		return nil, err
	}
	scale := [2]float32{check.lo, check.hi}
	if src.scale != nil {
		scale = *src.scale
	}
	ds, err := p.build(all, fromTest, src.cols[roleTime] != "", scale)
	if err != nil {
		var de *data.DataError
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, &data.DataError{Path: where, Err: err}
	}
	return ds, nil
}

// besides resolves a file named relative to dir, or absolute.
func besides(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

// read reads one file's ratings, checked by check (which the files of one
// dataset share, so that a pair rated in two files is caught).
func (src *ratingSource) read(path string, check *ratingChecker) ([]Rating, error) {
	check.files = append(check.files, path)
	var rs []Rating
	var err error
	switch src.format {
	case formatParquet:
		rs, err = src.readParquet(path, check)
	case formatArrow:
		rs, err = src.readArrow(path, check)
	default:
		rs, err = src.readText(path, check)
	}
	if err == nil && len(rs) == 0 {
		err = dataErr(path, "no ratings")
	}
	return rs, err
}

// columnLabels names the resolved columns in messages: `column "rating"`
// for a named column, `column 2 (rating)` for an unnamed one.
func (src *ratingSource) columnLabels(names []string, idx [nRoles]int) [nRoles]string {
	var labels [nRoles]string
	for r, i := range idx {
		switch {
		case i < 0:
		case names != nil:
			labels[r] = fmt.Sprintf("column %q", names[i])
		case src.names[r] != "":
			labels[r] = fmt.Sprintf("column %q", src.names[r])
		default:
			labels[r] = fmt.Sprintf("column %d (%s)", i, roleNames[r])
		}
	}
	return labels
}

// resolveColumns finds the columns of src.cols among a file's column names
// (nil for a headerless text file, which has n fields; where says what
// holds the names, for messages): a name that is a
// column's is that column, else an integer is an index from 0. A name that
// is neither lists the file's columns with the closest one.
func (src *ratingSource) resolveColumns(names []string, n int, where string) ([nRoles]int, error) {
	var idx [nRoles]int
	for r, col := range src.cols {
		idx[r] = -1
		if col == "" {
			continue
		}
		if i := indexOfName(names, col); i >= 0 {
			idx[r] = i
			continue
		}
		i, err := strconv.Atoi(col)
		switch {
		case err == nil && i >= 0 && i < n:
			idx[r] = i
		case err == nil && i >= 0:
			return idx, fmt.Errorf("%s column index %d is out of range: the file has %d columns (indices 0..%d)", roleNames[r], i, n, n-1)
		case names == nil:
			return idx, fmt.Errorf("%s column %q: a file without a header has no column names; give the column's index from 0", roleNames[r], col)
		default:
			hint := ""
			if s := closestName(col, names); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			}
			return idx, fmt.Errorf("%s column %q is not in the %s (its columns: %s%s)", roleNames[r], col, where, quoteList(names), hint)
		}
	}
	return idx, nil
}

func indexOfName(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// closestName is the column a misspelt name most likely meant: one that
// differs only in case, else the nearest within an edit per three letters
// (column names are short: a looser bound suggests "user" for "item").
func closestName(name string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	best, bestDist := "", max(1, len(name)/3)+1
	for _, n := range names {
		if d := editDistance(strings.ToLower(name), strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

func quoteList(names []string) string {
	const most = 20 // a wide file's header would drown the message
	q := make([]string, 0, min(len(names), most))
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("... %d more", len(names)-most))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// location is where a rating sits, for messages: a text file's line or a
// columnar file's row (both from 1).
type location struct {
	path string
	file int // index into ratingChecker.files
	n    int
	row  bool
}

func (l location) String() string {
	if l.row {
		return fmt.Sprintf("row %d", l.n)
	}
	return fmt.Sprintf("line %d", l.n)
}

// errf is a DataError at l naming the column: "file:line: msg (column
// "rating")" for text, "file: row N: msg (column "rating")" for columnar
// files. The column comes last so that the named loaders' messages read as
// they always did ("ratings.csv:3: rating 42 is outside the scale").
func (l location) errf(column, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if column != "" {
		msg += " (" + column + ")"
	}
	if l.row {
		return &data.DataError{Path: l.path, Err: fmt.Errorf("row %d: %s", l.n, msg)}
	}
	return &data.DataError{Path: fmt.Sprintf("%s:%d", l.path, l.n), Err: errors.New(msg)}
}

// ratingChecker validates each rating, rejects a (user, item) pair rated
// twice and tracks the range of the ratings.
type ratingChecker struct {
	src          *ratingSource
	users, items ratingIDs
	files        []string
	seen         map[uint64]uint64 // (user, item) -> file<<32 | line of its first rating
	lo, hi       float32
	n            int
	timeKind     byte // 'n' numbers or 'd' dates, once a timestamp is read
}

// ratingIDs numbers external ids and keeps one copy of each, so that the
// ratings share their id strings instead of holding one per line.
type ratingIDs struct {
	index map[string]int32
	names []string
}

func (r *ratingIDs) id(s string) (int32, string) {
	if i, ok := r.index[s]; ok {
		return i, r.names[i]
	}
	if r.index == nil {
		r.index = map[string]int32{}
	}
	s = strings.Clone(s)
	i := int32(len(r.names))
	r.index[s] = i
	r.names = append(r.names, s)
	return i, s
}

// add checks one rating. raw is the rating as the file wrote it, for
// messages; labels name the columns.
func (c *ratingChecker) add(at location, labels *[nRoles]string, user, item string, v float64, raw string, t int64) (Rating, error) {
	for r, id := range []string{user, item} {
		if id == "" {
			return Rating{}, at.errf(labels[r], "empty %s id", roleNames[r])
		}
		if c.src.integerIDs {
			if n, err := strconv.ParseUint(id, 10, 31); err != nil || n == 0 {
				return Rating{}, at.errf(labels[r], "%s id %q is not a positive integer", roleNames[r], id)
			}
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Rating{}, at.errf(labels[roleRating], "rating %q is not a finite number", raw)
	}
	if c.src.integerRatings && v != math.Trunc(v) {
		return Rating{}, at.errf(labels[roleRating], "rating %s is not an integer", raw)
	}
	if s := c.src.scale; s != nil && (v < float64(s[0]) || v > float64(s[1])) {
		return Rating{}, at.errf(labels[roleRating], "rating %s is outside the scale [%g, %g]", raw, s[0], s[1])
	} else if s == nil && math.Abs(v) > math.MaxFloat32 {
		return Rating{}, at.errf(labels[roleRating], "rating %s does not fit a float32", raw)
	}
	u, user := c.users.id(user)
	i, item := c.items.id(item)
	key := uint64(uint32(u))<<32 | uint64(uint32(i))
	if first, dup := c.seen[key]; dup {
		file, n := int(first>>32), int(uint32(first))
		prev := location{path: c.files[file], n: n, row: at.row}.String()
		if file != at.file {
			prev = c.files[file] + " " + prev
		}
		return Rating{}, at.errf("", "duplicate rating of item %q by user %q (first on %s)", item, user, prev)
	}
	c.seen[key] = uint64(at.file)<<32 | uint64(uint32(at.n))
	r := Rating{User: user, Item: item, Value: float32(v), Time: t}
	if c.n == 0 || r.Value < c.lo {
		c.lo = r.Value
	}
	if c.n == 0 || r.Value > c.hi {
		c.hi = r.Value
	}
	c.n++
	return r, nil
}
