package ops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Size2 is a 2-D window size or stride: `5` means 5x5, `[5, 3]` means 5 rows by 3 columns.
type Size2 [2]int

// DecodeNode accepts a positive integer or a list of two.
func (s *Size2) DecodeNode(n *yaml.Node) error { return decodePair((*[2]int)(s), n, 1, "positive") }

// Pad2 is a 2-D padding, 0 or more per axis: `1` means one row and one
// column, `[1, 0]` one row.
type Pad2 [2]int

// DecodeNode accepts a non-negative integer or a list of two.
func (p *Pad2) DecodeNode(n *yaml.Node) error { return decodePair((*[2]int)(p), n, 0, "non-negative") }

func (p Pad2) String() string { return Size2(p).String() }

// decodePair decodes an integer (used for both axes) or a list of two, each at least least.
func decodePair(s *[2]int, n *yaml.Node, least int, what string) error {
	parse := func(m *yaml.Node) (int, error) {
		v, err := strconv.Atoi(m.Value)
		if m.Kind != yaml.ScalarNode || m.ShortTag() != "!!int" || err != nil {
			return 0, fmt.Errorf("want a %s integer or a list of two, got %q", what, m.Value)
		}
		if v < least {
			return 0, fmt.Errorf("must be at least %d, got %d", least, v)
		}
		return v, nil
	}
	switch {
	case n.Kind == yaml.ScalarNode:
		v, err := parse(n)
		*s = [2]int{v, v}
		return err
	case n.Kind == yaml.SequenceNode && len(n.Content) == 2:
		var err error
		for i := range s {
			if s[i], err = parse(n.Content[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("want a %s integer or a list of two", what)
}

func (s Size2) String() string {
	if s[0] == s[1] {
		return strconv.Itoa(s[0])
	}
	return fmt.Sprintf("[%d, %d]", s[0], s[1])
}

// axes checks that an example's shape in has one axis per name.
func axes(in []int, names ...string) error {
	if len(in) != len(names) {
		return fmt.Errorf("needs examples of shape (%s), got %d axes", strings.Join(names, ", "), len(in))
	}
	return nil
}

// windowOut is the output length of a sliding window over n positions,
// with Keras' rules: valid keeps whole windows, same pads to ceil(n/stride).
func windowOut(n, window, stride int, padding string) int {
	if padding == "same" {
		return (n + stride - 1) / stride
	}
	if n < window {
		return 0
	}
	return (n-window)/stride + 1
}

// Edges2 is how many rows and columns a layer adds or removes at each edge,
// as Keras' ZeroPadding2D and Cropping2D take them: `1` on every edge,
// `[1, 2]` for 1 row at the top and bottom and 2 columns at the left and
// right, `[[1, 0], [2, 3]]` for [[top, bottom], [left, right]].
type Edges2 [2][2]int

// DecodeNode accepts a non-negative integer, a list of two, or two pairs.
func (e *Edges2) DecodeNode(n *yaml.Node) error {
	const want = "want a non-negative integer, [rows, columns] or [[top, bottom], [left, right]]"
	if n.Kind == yaml.ScalarNode {
		v, err := edge(n, want)
		*e = Edges2{{v, v}, {v, v}}
		return err
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		return errors.New(want)
	}
	for i, m := range n.Content {
		var p Edges1
		if m.Kind == yaml.ScalarNode {
			v, err := edge(m, want)
			if err != nil {
				return err
			}
			p = Edges1{v, v}
		} else if err := p.decode(m, want); err != nil {
			return err
		}
		e[i] = p
	}
	return nil
}

func (e Edges2) String() string {
	return fmt.Sprintf("[[%d, %d], [%d, %d]]", e[0][0], e[0][1], e[1][0], e[1][1])
}

// Edges1 is how many steps a layer adds or removes at each end of a
// sequence, as Keras' ZeroPadding1D and Cropping1D take them: `1` at both
// ends, `[1, 2]` for [start, end].
type Edges1 [2]int

// DecodeNode accepts a non-negative integer or a list of two.
func (e *Edges1) DecodeNode(n *yaml.Node) error {
	const want = "want a non-negative integer or [start, end]"
	if n.Kind == yaml.ScalarNode {
		v, err := edge(n, want)
		*e = Edges1{v, v}
		return err
	}
	return e.decode(n, want)
}

func (e *Edges1) decode(n *yaml.Node, want string) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		return errors.New(want)
	}
	for i, m := range n.Content {
		v, err := edge(m, want)
		if err != nil {
			return err
		}
		e[i] = v
	}
	return nil
}

func (e Edges1) String() string { return fmt.Sprintf("[%d, %d]", e[0], e[1]) }

// edge parses one edge's count, a non-negative integer.
func edge(n *yaml.Node, want string) (int, error) {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil {
		return 0, fmt.Errorf("%s, got %q", want, n.Value)
	}
	if v < 0 || v > 1_000_000 {
		return 0, fmt.Errorf("must be between 0 and 1000000, got %d", v)
	}
	return v, nil
}

// pairSchema is the JSON Schema of an integer of at least least, or a list
// of two.
func pairSchema(least int) map[string]any {
	n := map[string]any{"type": "integer", "minimum": least}
	return map[string]any{"anyOf": []any{n, map[string]any{"type": "array", "items": n, "minItems": 2, "maxItems": 2}}}
}

// JSONSchema describes the forms DecodeNode accepts (spec.SchemaDescriber).
func (*Size2) JSONSchema() map[string]any { return pairSchema(1) }

// JSONSchema describes the forms DecodeNode accepts.
func (*Pad2) JSONSchema() map[string]any { return pairSchema(0) }

// JSONSchema describes the forms DecodeNode accepts.
func (*Edges1) JSONSchema() map[string]any { return pairSchema(0) }

// JSONSchema describes the forms DecodeNode accepts: a pair of pairs too.
func (*Edges2) JSONSchema() map[string]any {
	s := pairSchema(0)
	s["anyOf"] = append(s["anyOf"].([]any), map[string]any{"type": "array", "items": pairSchema(0), "minItems": 2, "maxItems": 2})
	return s
}
