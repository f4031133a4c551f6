package loaders

import (
	"fmt"
	"math"
	"strconv"
)

// valueColumn is one column of a Parquet row group or an Arrow record
// batch, read whole into the one of three forms that its type maps to, so
// that both formats share the conversion to ids, ratings and times.
type valueColumn struct {
	typ      string    // the file's type, for messages
	ints     []int64   // integer types (unsigned 64-bit ones as their bits)
	unsigned bool      // ints are unsigned
	floats   []float64 // floating-point types
	strs     []string  // strings and binary
	null     []bool    // nil when no value is null
}

func (c *valueColumn) len() int {
	switch {
	case c.ints != nil:
		return len(c.ints)
	case c.floats != nil:
		return len(c.floats)
	}
	return len(c.strs)
}

// gather returns the column of the values at rows (-1: null), typed typ:
// a dictionary-encoded column expanded.
func (c *valueColumn) gather(rows []int, typ string) *valueColumn {
	out := &valueColumn{typ: typ, unsigned: c.unsigned}
	switch {
	case c.strs != nil:
		out.strs = make([]string, len(rows))
	case c.ints != nil:
		out.ints = make([]int64, len(rows))
	default:
		out.floats = make([]float64, len(rows))
	}
	for i, j := range rows {
		if j < 0 || c.null != nil && c.null[j] {
			if out.null == nil {
				out.null = make([]bool, len(rows))
			}
			out.null[i] = true
			continue
		}
		switch {
		case c.strs != nil:
			out.strs[i] = c.strs[j]
		case c.ints != nil:
			out.ints[i] = c.ints[j]
		default:
			out.floats[i] = c.floats[j]
		}
	}
	return out
}

// id is the value at i as a user or item id: a string as it is, an
// integer in decimal, and a float only when it holds an integer (pandas
// writes integer ids as floats when a column had a missing value).
func (c *valueColumn) id(i int) (string, error) {
	switch {
	case c.strs != nil:
		return c.strs[i], nil
	case c.ints != nil && c.unsigned:
		return strconv.FormatUint(uint64(c.ints[i]), 10), nil
	case c.ints != nil:
		return strconv.FormatInt(c.ints[i], 10), nil
	}
	f := c.floats[i]
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return "", fmt.Errorf("id %v (%s) is not an integer", f, c.typ)
	}
	return strconv.FormatInt(int64(f), 10), nil
}

// value is the value at i as a rating, and its text for messages.
func (c *valueColumn) value(i int) (float64, string, error) {
	switch {
	case c.floats != nil:
		return c.floats[i], strconv.FormatFloat(c.floats[i], 'g', -1, 64), nil
	case c.ints != nil && c.unsigned:
		return float64(uint64(c.ints[i])), strconv.FormatUint(uint64(c.ints[i]), 10), nil
	case c.ints != nil:
		return float64(c.ints[i]), strconv.FormatInt(c.ints[i], 10), nil
	}
	v, err := strconv.ParseFloat(c.strs[i], 64)
	if err != nil {
		return 0, "", fmt.Errorf("rating %q is not a finite number", c.strs[i])
	}
	return v, c.strs[i], nil
}

// time is the value at i as a timestamp: integers and Arrow's and
// Parquet's timestamp and date types in their own unit, floats floored,
// and strings as a text file's.
func (c *valueColumn) time(i int, check *ratingChecker) (int64, error) {
	switch {
	case c.ints != nil && c.unsigned && c.ints[i] < 0:
		return 0, fmt.Errorf("timestamp %d does not fit an int64", uint64(c.ints[i]))
	case c.ints != nil:
		return c.ints[i], nil
	case c.floats != nil:
		f := c.floats[i]
		if !(f >= math.MinInt64 && f < math.MaxInt64) {
			return 0, fmt.Errorf("timestamp %v is not a finite number in the int64 range", f)
		}
		return int64(math.Floor(f)), nil
	}
	return check.parseTime(c.strs[i])
}

// addColumns checks the rows of one row group or record batch, whose first
// row is row number first (from 1), and appends their ratings to out.
// cols holds the user, item, rating and timestamp columns (nil for none).
func addColumns(path string, first int, cols [nRoles]*valueColumn, labels *[nRoles]string, check *ratingChecker, out []Rating) ([]Rating, error) {
	n := cols[roleUser].len()
	for r, c := range cols {
		if c != nil && c.len() != n {
			return out, dataErr(path, "rows %d..: %s has %d values, the user column %d", first, labels[r], c.len(), n)
		}
	}
	file := len(check.files) - 1
	for i := range n {
		at := location{path: path, file: file, n: first + i, row: true}
		for r, c := range cols {
			if c != nil && c.null != nil && c.null[i] {
				return out, at.errf(labels[r], "missing %s, a null", roleNames[r])
			}
		}
		user, err := cols[roleUser].id(i)
		if err != nil {
			return out, at.errf(labels[roleUser], "%v", err)
		}
		item, err := cols[roleItem].id(i)
		if err != nil {
			return out, at.errf(labels[roleItem], "%v", err)
		}
		v, raw, err := cols[roleRating].value(i)
		if err != nil {
			return out, at.errf(labels[roleRating], "%v", err)
		}
		var t int64
		if c := cols[roleTime]; c != nil {
			if t, err = c.time(i, check); err != nil {
				return out, at.errf(labels[roleTime], "%v", err)
			}
		}
		rt, err := check.add(at, labels, user, item, v, raw, t)
		if err != nil {
			return out, err
		}
		out = append(out, rt)
	}
	return out, nil
}
