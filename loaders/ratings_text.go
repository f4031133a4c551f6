package loaders

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pipe-ml/pipe/data"
)

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

// recordReader yields the records of a delimited text file with the line
// each starts on; io.EOF after the last.
type recordReader func() (fields []string, line int, err error)

// quotedRecords reads RFC 4180 records (fields may be double-quoted and
// then hold the delimiter, quotes as "" and line breaks) with
// encoding/csv, which skips blank lines.
func quotedRecords(path string, r io.Reader, delim rune) recordReader {
	cr := csv.NewReader(&lineLimiter{r: r, max: maxRatingLine, line: 1})
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // checked by the caller, with a clearer message
	cr.ReuseRecord = true
	return func() ([]string, int, error) {
		row, err := cr.Read()
		if err == io.EOF {
			return nil, 0, err
		}
		if err != nil {
			var pe *csv.ParseError
			var le *longLineError
			switch {
			case errors.As(err, &pe):
				return nil, 0, &data.DataError{Path: fmt.Sprintf("%s:%d", path, pe.Line), Err: pe.Err}
			case errors.As(err, &le):
				return nil, 0, &data.DataError{Path: fmt.Sprintf("%s:%d", path, le.line), Err: fmt.Errorf("line too long (more than %d bytes)", le.max)}
			}
			return nil, 0, &data.DataError{Path: path, Err: err}
		}
		line, _ := cr.FieldPos(0)
		return row, line, nil
	}
}

// plainRecords splits each line at the delimiter as it is, with no
// quoting: tab-separated files such as GroupLens' u.data, whose titles may
// hold a quote. Blank lines are skipped, as encoding/csv does, and a
// line's \r\n ending is taken whole.
func plainRecords(path string, r io.Reader, delim rune) recordReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxRatingLine)
	sep := string(delim)
	line := 0
	var fields []string
	return func() ([]string, int, error) {
		for sc.Scan() {
			line++
			text := strings.TrimSuffix(sc.Text(), "\r")
			if text == "" {
				continue
			}
			fields = fields[:0]
			for {
				f, rest, more := strings.Cut(text, sep)
				fields = append(fields, f)
				if !more {
					break
				}
				text = rest
			}
			return fields, line, nil
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, 0, &data.DataError{Path: fmt.Sprintf("%s:%d", path, line+1), Err: fmt.Errorf("line too long (more than %d bytes)", maxRatingLine)}
			}
			return nil, 0, &data.DataError{Path: path, Err: err}
		}
		return nil, 0, io.EOF
	}
}

// readText reads a delimited text file, gzip-compressed when its name ends
// in .gz.
func (src *ratingSource) readText(path string, check *ratingChecker) ([]Rating, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var in io.Reader = bufio.NewReaderSize(f, 1<<16)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, dataErr(path, "not a gzip file: %v", err)
		}
		in = zr
	}
	return src.parseText(path, in, check)
}

// parseText reads the records of one text file; the fuzz target calls it
// on arbitrary bytes.
func (src *ratingSource) parseText(path string, in io.Reader, check *ratingChecker) ([]Rating, error) {
	next := quotedRecords(path, in, src.delim)
	if !src.quotes {
		next = plainRecords(path, in, src.delim)
	}
	file := len(check.files) - 1
	var (
		all    []Rating
		idx    [nRoles]int
		labels [nRoles]string
		fields int // every record's field count
		what   string
	)
	for rec := 0; ; rec++ {
		row, line, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		at := location{path: path, file: file, n: line}
		if rec == 0 {
			row[0] = strings.TrimPrefix(row[0], "\ufeff") // a byte-order mark is not part of the name
			var names []string
			fields, what = len(row), "the first record has"
			if src.header {
				names, what = append([]string(nil), row...), "the header has"
			} else if src.fields > 0 {
				fields, what = src.fields, "the format has"
			}
			if want := slices.DeleteFunc(slices.Clone(src.cols[:]), func(c string) bool { return c == "" }); src.exactHeader && !slices.Equal(row, want) {
				return nil, at.errf("", "header is %q, want %s", row, strings.Join(want, ","))
			}
			if idx, err = src.resolveColumns(names, fields, "header"); err != nil {
				return nil, at.errf("", "%v", err)
			}
			labels = src.columnLabels(names, idx)
			if src.header {
				continue
			}
		}
		if len(row) != fields {
			return nil, at.errf("", "%d %s fields, want %d (as %s)", len(row), separated(src.delim), fields, what)
		}
		raw := row[idx[roleRating]]
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, at.errf(labels[roleRating], "rating %q is not a finite number", raw)
		}
		if src.integerRatings {
			if _, err := strconv.Atoi(raw); err != nil {
				return nil, at.errf(labels[roleRating], "rating %q is not an integer", raw)
			}
		}
		var t int64
		if i := idx[roleTime]; i >= 0 {
			if t, err = check.parseTime(row[i]); err != nil {
				return nil, at.errf(labels[roleTime], "%v", err)
			}
		}
		r, err := check.add(at, &labels, row[idx[roleUser]], row[idx[roleItem]], v, raw, t)
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, nil
}

// timeLayouts are the date and time forms a text timestamp may take
// besides a number.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"}

// parseTime reads a text timestamp: an integer in any unit (Unix seconds,
// milliseconds), a decimal number (floored), or a date or time, taken as
// Unix seconds. Only the order of a user's timestamps is used, so a file
// must not mix numbers and dates, whose units would not compare.
func (c *ratingChecker) parseTime(s string) (int64, error) {
	kind, t, ok := byte('n'), int64(0), false
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		t, ok = i, true
	} else if f, err := strconv.ParseFloat(s, 64); err == nil && f >= math.MinInt64 && f < math.MaxInt64 {
		t, ok = int64(math.Floor(f)), true
	} else {
		for _, layout := range timeLayouts {
			if tm, err := time.Parse(layout, s); err == nil {
				kind, t, ok = 'd', tm.Unix(), true
				break
			}
		}
	}
	if !ok {
		return 0, fmt.Errorf("timestamp %q is neither a number nor a date such as 2006-01-02, 2006-01-02 15:04:05 or RFC 3339", s)
	}
	if c.timeKind != 0 && c.timeKind != kind {
		return 0, fmt.Errorf("timestamp %q: the file mixes numbers and dates, whose order cannot be compared", s)
	}
	c.timeKind = kind
	return t, nil
}

// separated names a delimiter in messages: "3 tab-separated fields".
func separated(d rune) string {
	switch d {
	case ',':
		return "comma-separated"
	case '\t':
		return "tab-separated"
	}
	return strconv.QuoteRune(d) + "-separated"
}
