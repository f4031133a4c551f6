package loaders

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// ReadUserRatings reads one user's ratings for `pipe predict`: a CSV file
// (RFC 4180, so a title with a comma is quoted) of item,rating records with
// an optional item,rating header, items named by their external ids in
// info (MovieLense titles, Jester's j1..j100). It returns the ratings by
// dense item index. Every mistake is a DataError naming the file, line and
// field.
func ReadUserRatings(path string, info *data.RatingInfo) (map[int32]float32, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	index := itemIndex(info)
	r := csv.NewReader(&lineLimiter{r: bufio.NewReader(f), max: maxRatingLine, line: 1})
	r.FieldsPerRecord = -1 // checked here, with a clearer message
	lineErr := func(line int, format string, args ...any) error {
		return &data.DataError{Path: fmt.Sprintf("%s:%d", path, line), Err: fmt.Errorf(format, args...)}
	}
	ratings := map[int32]float32{}
	firstLine := map[int32]int{}
	for rec := 0; ; rec++ {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			var le *longLineError
			switch {
			case errors.As(err, &pe):
				return nil, lineErr(pe.Line, "%v", pe.Err)
			case errors.As(err, &le):
				return nil, lineErr(le.line, "line too long (more than %d bytes)", le.max)
			}
			return nil, &data.DataError{Path: path, Err: err}
		}
		line, _ := r.FieldPos(0)
		// An unquoted id with a comma, before trimming takes its spaces.
		joined := strings.TrimSpace(strings.Join(row[:max(len(row)-1, 0)], ","))
		for i := range row {
			row[i] = strings.TrimSpace(row[i])
		}
		if rec == 0 && len(row) > 0 {
			row[0] = strings.TrimPrefix(row[0], "\ufeff")
		}
		if len(row) != 2 {
			hint := ""
			if _, ok := index[joined]; len(row) > 2 && ok {
				hint = fmt.Sprintf(`: quote an item that holds a comma, as "%s"`, joined)
			}
			return nil, lineErr(line, "%d fields, want 2 (item,rating)%s", len(row), hint)
		}
		v, err := strconv.ParseFloat(row[1], 64)
		if _, known := index[row[0]]; rec == 0 && err != nil && !known { // a header, not a rating
			if !strings.EqualFold(row[0], "item") || !strings.EqualFold(row[1], "rating") {
				return nil, lineErr(line, "header is %q, want item,rating (or no header)", row)
			}
			continue
		}
		item, err := checkUserRating(index, info, row[0], row[1], v, err)
		if err != nil {
			return nil, lineErr(line, "%v", err)
		}
		if first, dup := firstLine[item]; dup {
			return nil, lineErr(line, "item %q is rated twice (first on line %d)", row[0], first)
		}
		ratings[item], firstLine[item] = float32(v), line
	}
	if len(ratings) == 0 {
		return nil, dataErr(path, "no ratings (want item,rating lines)")
	}
	if err := checkLeftToPredict(ratings, info); err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	return ratings, nil
}

// suggestItems names the ids closest to an unknown one: a near
// misspelling, else up to three ids that contain it (a title given without
// its year), as the tail of an error message.
func suggestItems(id string, items []string) string {
	if s := spec.Suggest(id, items); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	var hits []string
	lower := strings.ToLower(id)
	for _, it := range items {
		if strings.Contains(strings.ToLower(it), lower) {
			hits = append(hits, strconv.Quote(it))
		}
	}
	if len(hits) == 0 {
		return ""
	}
	slices.Sort(hits)
	more := ""
	if len(hits) > 3 {
		hits, more = hits[:3], fmt.Sprintf(" (%d more)", len(hits)-3)
	}
	return fmt.Sprintf(" (did you mean %s%s?)", strings.Join(hits, " or "), more)
}
