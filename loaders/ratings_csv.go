package loaders

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

// The rating loaders of the course's collaborative-filtering workloads:
// jester5k and movielense (recommenderlab's objects written as
// user,item,rating CSV) and ml100k (GroupLens' u.data). Each embeds
// RatingSplit, so test_fraction, split_seed and sample_users sit beside the
// loader name in a spec.

func init() {
	Loaders.Register("jester5k", "Jester5k jokes ratings (recommenderlab's 5,000-user sample of Jester dataset 1) from DATA/jester5k/ratings.csv (user,item,rating): 362,106 ratings of 100 jokes, continuous in [-10, 10]. X is the (user, item) index pair, Y the rating; test_fraction of the ratings is held out at random.",
		func() Loader { return &Jester5k{RatingSplit: DefaultRatingSplit()} })
	Loaders.Register("movielense", "MovieLense (recommenderlab's MovieLens 100K matrix, items named by title) from DATA/movielense/ratings.csv (user,item,rating): 99,392 ratings by 943 users of 1,664 movies, integers 1..5. X is the (user, item) index pair, Y the rating; test_fraction of the ratings is held out at random.",
		func() Loader { return &MovieLense{RatingSplit: DefaultRatingSplit()} })
}

// Jester5k reads DATA/jester5k/ratings.csv.
type Jester5k struct {
	RatingSplit
}

// JesterScale is the Jester rating scale.
var JesterScale = [2]float32{-10, 10}

// Folder is where its files sit under the data directory.
func (*Jester5k) Folder() string { return "jester5k" }

func (*Jester5k) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

func (l *Jester5k) Load(dataDir string) (*data.Dataset, error) {
	return l.load(dataDir, l.Folder(), "ratings.csv", readRatingsCSV, JesterScale)
}

// MovieLense reads DATA/movielense/ratings.csv; items are movie titles.
type MovieLense struct {
	RatingSplit
}

// MovieLensScale is the MovieLens star scale.
var MovieLensScale = [2]float32{1, 5}

// Folder is where its files sit under the data directory.
func (*MovieLense) Folder() string { return "movielense" }

func (*MovieLense) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

func (l *MovieLense) Load(dataDir string) (*data.Dataset, error) {
	return l.load(dataDir, l.Folder(), "ratings.csv", readRatingsCSV, MovieLensScale)
}

// maxRatingLine bounds one line of a ratings file: a corrupt file without
// newlines fails early instead of being read whole into one record.
const maxRatingLine = 64 << 10

// lineLimiter passes bytes through and fails once a line grows past max.
type lineLimiter struct {
	r    io.Reader
	max  int
	run  int // bytes since the last newline
	line int // 1-based line being read
}

// longLineError is lineLimiter's complaint.
type longLineError struct{ line, max int }

func (e *longLineError) Error() string {
	return fmt.Sprintf("line %d is longer than %d bytes", e.line, e.max)
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
			l.line++
			continue
		}
		l.run++
		if l.run > l.max {
			return 0, &longLineError{line: l.line, max: l.max}
		}
	}
	return n, err
}

// ratingChecker validates values and rejects duplicate (user, item) pairs.
type ratingChecker struct {
	path         string
	scale        [2]float32
	users, items ratingIDs
	seen         map[uint64]int // (user, item) -> line of its first rating
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

func newRatingChecker(path string, scale [2]float32) *ratingChecker {
	return &ratingChecker{path: path, scale: scale, seen: map[uint64]int{}}
}

func (c *ratingChecker) lineErr(line int, format string, args ...any) error {
	return &data.DataError{Path: fmt.Sprintf("%s:%d", c.path, line), Err: fmt.Errorf(format, args...)}
}

// add checks one row and returns its Rating.
func (c *ratingChecker) add(line int, user, item, value string) (Rating, error) {
	if user == "" {
		return Rating{}, c.lineErr(line, "empty user id")
	}
	if item == "" {
		return Rating{}, c.lineErr(line, "empty item id")
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Rating{}, c.lineErr(line, "rating %q is not a finite number", value)
	}
	if v < float64(c.scale[0]) || v > float64(c.scale[1]) {
		return Rating{}, c.lineErr(line, "rating %s is outside the scale [%g, %g]", value, c.scale[0], c.scale[1])
	}
	u, user := c.users.id(user)
	i, item := c.items.id(item)
	key := uint64(uint32(u))<<32 | uint64(uint32(i))
	if first, dup := c.seen[key]; dup {
		return Rating{}, c.lineErr(line, "duplicate rating of item %q by user %q (first on line %d)", item, user, first)
	}
	c.seen[key] = line
	return Rating{User: user, Item: item, Value: float32(v)}, nil
}

// readRatingsCSV reads an RFC 4180 file whose header is user,item,rating,
// one rating per record, validating every row against scale.
func readRatingsCSV(path string, scale [2]float32) ([]Rating, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(&lineLimiter{r: bufio.NewReaderSize(f, 1<<16), max: maxRatingLine, line: 1})
	r.FieldsPerRecord = -1 // checked here, with a clearer message
	r.ReuseRecord = true
	check := newRatingChecker(path, scale)
	var all []Rating
	for rec := 0; ; rec++ {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, check.lineErr(pe.Line, "%v", pe.Err)
			}
			var le *longLineError
			if errors.As(err, &le) {
				return nil, check.lineErr(le.line, "line too long (more than %d bytes)", le.max)
			}
			return nil, &data.DataError{Path: path, Err: err}
		}
		line, _ := r.FieldPos(0)
		if rec == 0 {
			if len(row) > 0 {
				row[0] = strings.TrimPrefix(row[0], "\ufeff")
			}
			if len(row) != 3 || row[0] != "user" || row[1] != "item" || row[2] != "rating" {
				return nil, check.lineErr(line, "header is %q, want user,item,rating", row)
			}
			continue
		}
		if len(row) != 3 {
			return nil, check.lineErr(line, "%d fields, want 3 (user,item,rating)", len(row))
		}
		rt, err := check.add(line, row[0], row[1], row[2])
		if err != nil {
			return nil, err
		}
		all = append(all, rt)
	}
	if len(all) == 0 {
		return nil, dataErr(path, "no ratings")
	}
	return all, nil
}
