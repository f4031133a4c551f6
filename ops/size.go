package ops

import (
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
