package spec

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError positions yaml/v3's rejection of src. yaml/v3 names only the
// line where the enclosing block starts, often far above the fault, so
// goccy/go-yaml's parser, whose errors carry the offending token, is asked
// where the fault is. yaml/v3 stays the judge of what is valid: when goccy
// accepts the document, yaml/v3's line is the best there is.
func syntaxError(file string, src []byte, err error) *Error {
	if line, col, msg := locate(src, err); line > 0 {
		return &Error{Pos: Pos{File: file, Line: line, Col: col}, Msg: "invalid YAML: " + msg, Source: sourceLine(src, line)}
	}
	line, msg := 0, err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &Error{Pos: Pos{File: file, Line: line, Col: 1}, Msg: "invalid YAML: " + msg}
}

// locateMax bounds the input handed to goccy/go-yaml, which is slower than
// yaml/v3 (seconds for a megabyte); a spec is a few kilobytes.
const locateMax = 1 << 20

// locate returns where goccy/go-yaml rejects src and why; line is 0 when
// it does not. v3err is yaml/v3's error: when it is about nesting too deep,
// goccy is not asked, since its parser takes time quadratic in the depth
// (minutes at the depth yaml/v3 refuses) and could say no more.
func locate(src []byte, v3err error) (line, col int, msg string) {
	if len(src) > locateMax || strings.Contains(v3err.Error(), "exceeded max depth") {
		return 0, 0, ""
	}
	defer func() {
		if recover() != nil { // a bug there must not hide yaml/v3's error
			line, col, msg = 0, 0, ""
		}
	}()
	// Duplicate keys are the decoder's to report, with the field path.
	_, err := parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
	var e goccy.Error
	if !errors.As(err, &e) {
		return 0, 0, ""
	}
	tk, msg := e.GetToken(), printable(e.GetMessage())
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 || tk.Position.Column < 1 {
		return 0, 0, ""
	}
	if open := unclosed(tk, msg); open != nil {
		return open.Position.Line, open.Position.Column, fmt.Sprintf("this %q is not closed (%s before line %d)", open.Value, msg, tk.Position.Line)
	}
	if l := overIndented(tk, msg); l > 0 {
		return l, indent(sourceLine(src, l)) + 1, "this line is indented deeper than the key above it, so YAML reads it as more of that key's value, where ':' is not allowed"
	}
	return tk.Position.Line, tk.Position.Column, msg
}

// overIndented returns the line of the ':' that follows tk when tk is a
// plain scalar that ran on into that line: goccy points at the scalar's
// start, a line above the one whose indentation is wrong.
func overIndented(tk *token.Token, msg string) int {
	next := tk.Next
	if msg != "mapping value is not allowed in this context" || next == nil || next.Type != token.MappingValueType ||
		next.Position == nil || next.Position.Line <= tk.Position.Line {
		return 0
	}
	return next.Position.Line
}

// indent returns the number of blanks that line starts with.
func indent(line string) int {
	return len(line) - len(strings.TrimLeft(line, " \t"))
}

// unclosed returns the opening bracket of the flow collection that tk was
// found in, when tk starts a line where a ',' or closing bracket was
// expected: the fault then is the bracket left open lines above, not tk.
func unclosed(tk *token.Token, msg string) *token.Token {
	if msg != "',' or '}' must be specified" && msg != "',' or ']' must be specified" {
		return nil
	}
	prev := tk.Prev
	for prev != nil && prev.Type == token.CommentType {
		prev = prev.Prev
	}
	if prev == nil || prev.Position == nil || prev.Position.Line >= tk.Position.Line {
		return nil
	}
	depth := 0
	for t := prev; t != nil; t = t.Prev {
		switch t.Type {
		case token.MappingEndType, token.SequenceEndType:
			depth++
		case token.MappingStartType, token.SequenceStartType:
			if depth == 0 {
				if t.Position == nil {
					return nil
				}
				return t
			}
			depth--
		}
	}
	return nil
}

// printable escapes the characters goccy quotes raw, such as the tab in
// "found character '\t'", which would otherwise print as blank space.
func printable(msg string) string {
	var b strings.Builder
	for _, r := range msg {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
		}
	}
	return b.String()
}

// sourceLine returns line n (1-based) of src, without its line break.
func sourceLine(src []byte, n int) string {
	lines := bytes.Split(src, []byte("\n"))
	if n < 1 || n > len(lines) {
		return ""
	}
	return string(bytes.TrimSuffix(lines[n-1], []byte("\r")))
}
