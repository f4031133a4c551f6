package loaders

import (
	"bufio"
	"errors"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("ml100k", "MovieLens 100K (GroupLens) from DATA/ml-100k/u.data (tab separated user_id, item_id, rating, timestamp; no header): 100,000 ratings by 943 users of 1,682 movies, integers 1..5. Users and items are named by their numeric ids. X is the (user, item) index pair, Y the rating; test_fraction of the ratings is held out at random.",
		func() Loader { return &ML100k{RatingSplit: DefaultRatingSplit()} })
}

// ML100k reads DATA/ml-100k/u.data as GroupLens publishes it. Titles
// (u.item, Latin-1) are not read: items keep their numeric ids.
type ML100k struct {
	RatingSplit
}

// Folder is where its files sit under the data directory.
func (*ML100k) Folder() string { return "ml-100k" }

func (*ML100k) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

func (l *ML100k) Load(dataDir string) (*data.Dataset, error) {
	return l.load(dataDir, l.Folder(), "u.data", readUData, MovieLensScale)
}

// readUData reads GroupLens' u.data: user_id, item_id, rating, timestamp
// separated by tabs, one rating per line. Ids must be positive integers and
// ratings integers within scale.
func readUData(path string, scale [2]float32) ([]Rating, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), maxRatingLine)
	check := newRatingChecker(path, scale)
	var all []Rating
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if text == "" {
			return nil, check.lineErr(line, "empty line")
		}
		fields := strings.Split(text, "\t")
		if len(fields) != 4 {
			return nil, check.lineErr(line, "%d tab-separated fields, want 4 (user_id, item_id, rating, timestamp)", len(fields))
		}
		for i, name := range []string{"user_id", "item_id"} {
			if id, err := strconv.ParseUint(fields[i], 10, 31); err != nil || id == 0 {
				return nil, check.lineErr(line, "%s %q is not a positive integer", name, fields[i])
			}
		}
		if _, err := strconv.ParseInt(fields[3], 10, 64); err != nil {
			return nil, check.lineErr(line, "timestamp %q is not an integer", fields[3])
		}
		if _, err := strconv.Atoi(fields[2]); err != nil {
			return nil, check.lineErr(line, "rating %q is not an integer", fields[2])
		}
		r, err := check.add(line, fields[0], fields[1], fields[2])
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, check.lineErr(line+1, "line longer than %d bytes", maxRatingLine)
		}
		return nil, &data.DataError{Path: path, Err: err}
	}
	if len(all) == 0 {
		return nil, dataErr(path, "no ratings")
	}
	return all, nil
}
