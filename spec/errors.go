package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Pos is a position in a spec file. Line and Col are 1-based; Line 0 means
// "the whole file" (for example an empty file), and a negative Line a value
// given with --set.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Line < 0: // a value given on the command line
		return p.File + " (--set)"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem in a spec: where it is, which field, and what is wrong.
type Error struct {
	Pos  Pos
	Path string // field path such as model.layers[3].units; empty for the whole document
	Msg  string
	// Source is the file's line at Pos, shown under the message with a caret
	// at Pos.Col; empty where the column is not known to be the fault's.
	Source string
}

func (e *Error) Error() string {
	var s string
	if e.Path == "" {
		s = fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	} else {
		s = fmt.Sprintf("%s: %s: %s", e.Pos, e.Path, e.Msg)
	}
	if e.Source != "" {
		s += "\n" + snippet(e.Source, e.Pos.Col)
	}
	return s
}

// snippet renders line with a caret under column col (1-based, in
// characters). Tabs before the column are copied into the caret's line so
// that the caret stays under the column whatever the terminal's tab width.
func snippet(line string, col int) string {
	var pad strings.Builder
	for i, r := range []rune(line) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			pad.WriteRune('\t')
		} else {
			pad.WriteRune(' ')
		}
	}
	return "  " + line + "\n  " + pad.String() + "^"
}

// ErrorList collects every problem of a spec, so a user fixes them all in one
// pass instead of one per run.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Add appends an error at pos for path.
func (l *ErrorList) Add(pos Pos, path, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil for an empty list, so callers can `return errs.Err()`.
// The errors are sorted by position: that is the order a user reads the file.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l
}

// Suggest returns the candidate closest to name, or "" when none is close
// enough to be a plausible misspelling.
func Suggest(name string, candidates []string) string {
	if best := closest(name, candidates); len(best) > 0 {
		return best[0]
	}
	return ""
}

// closest returns the candidates at the smallest edit distance from name,
// sorted, when that distance makes a plausible misspelling.
func closest(name string, candidates []string) []string {
	var best []string
	bestDist := len(name)/2 + 2
	for _, c := range candidates {
		switch d := editDistance(name, c); {
		case d < bestDist:
			best, bestDist = []string{c}, d
		case d == bestDist && len(best) > 0:
			best = append(best, c)
		}
	}
	sort.Strings(best)
	return best
}

// DidYouMean formats the closest names as the tail of an error message:
// ` (did you mean "x"?)`, or the list of valid names.
func DidYouMean(name string, candidates []string) string { return didYouMean(name, candidates) }

// didYouMean formats Suggest's answer as the tail of an error message.
func didYouMean(name string, candidates []string) string {
	if best := closest(name, candidates); len(best) > 0 {
		quoted := make([]string, len(best))
		for i, b := range best {
			quoted[i] = strconv.Quote(b)
		}
		return fmt.Sprintf(" (did you mean %s?)", strings.Join(quoted, " or "))
	}
	if len(candidates) == 0 {
		return " (it takes no params)"
	}
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	return fmt.Sprintf(" (valid: %s)", strings.Join(sorted, ", "))
}

// editDistance is the Levenshtein distance, case-insensitive.
func editDistance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
