package spec

import (
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// loadTree parses the spec at path and, when it has `extends: base.yaml`
// (a path relative to the spec's own folder), merges it over its base:
//
//   - mappings merge key by key, recursively; the extending spec wins;
//   - lists and scalars are replaced whole (a layer list is never spliced).
//
// Bases may extend further bases; a cycle is an error. files records the
// file of every node that came from a base, for positioned errors; by is
// the position of the extends: that names path (zero for the top spec).
func loadTree(path string, by Pos, files map[*yaml.Node]string, seen []string) (*yaml.Node, error) {
	for _, s := range seen {
		if s == path {
			return nil, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("extends cycle: %s", strings.Join(append(seen, path), " -> "))}}
		}
	}
	root, err := readTree(path, by)
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return root, nil
	}
	i := indexOfPair(root, "extends")
	if i < 0 {
		return root, nil
	}
	ref := root.Content[i+1]
	if ref.Kind != yaml.ScalarNode || ref.Value == "" {
		return nil, ErrorList{{Pos: Pos{File: path, Line: ref.Line, Col: ref.Column}, Path: "extends", Msg: "want the path of a base spec"}}
	}
	basePath := filepath.Join(filepath.Dir(path), ref.Value)
	at := Pos{File: path, Line: ref.Line, Col: ref.Column}
	base, err := loadTree(basePath, at, files, append(seen, path))
	if err != nil {
		return nil, err
	}
	walk(base, func(n *yaml.Node) {
		if _, ok := files[n]; !ok {
			files[n] = basePath
		}
	})
	root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
	return merge(base, root), nil
}

// merge overlays top on base as loadTree describes.
func merge(base, top *yaml.Node) *yaml.Node {
	if base.Kind != yaml.MappingNode || top.Kind != yaml.MappingNode {
		return top
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: top.Tag, Line: top.Line, Column: top.Column}
	out.Content = append(out.Content, base.Content...)
	for j := 0; j+1 < len(top.Content); j += 2 {
		if k := indexOfPair(out, top.Content[j].Value); k >= 0 {
			out.Content[k+1] = merge(out.Content[k+1], top.Content[j+1])
			out.Content[k] = top.Content[j]
		} else {
			out.Content = append(out.Content, top.Content[j], top.Content[j+1])
		}
	}
	return out
}

func walk(n *yaml.Node, fn func(*yaml.Node)) {
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}

var overrideStep = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$`)

// step is one element of an override path: a key, or a list index.
type step struct {
	key   string
	index int // when key is ""
}

func parseOverridePath(path string) ([]step, error) {
	var steps []step
	for _, part := range strings.Split(path, ".") {
		m := overrideStep.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("bad path element %q", part)
		}
		steps = append(steps, step{key: m[1]})
		for _, idx := range regexp.MustCompile(`\d+`).FindAllString(m[2], -1) {
			i, _ := strconv.Atoi(idx)
			steps = append(steps, step{index: i})
		}
	}
	return steps, nil
}

// applyOverride sets one field, given as PATH=VALUE: PATH is a field path
// as errors print it (train.epochs, model.layers[0].filters) and VALUE is
// YAML (3, relu, [5, 3]). A listed component's params are addressed
// through it: model.layers[0].filters reaches into `- conv2d: {filters: 3}`.
func applyOverride(root *yaml.Node, override string) error {
	path, value, ok := strings.Cut(override, "=")
	if !ok || path == "" {
		return fmt.Errorf("want PATH=VALUE, e.g. train.epochs=3")
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) != 1 {
		return fmt.Errorf("value %q is not valid YAML", value)
	}
	walk(val.Content[0], func(n *yaml.Node) { n.Line, n.Column = -1, 0 }) // Pos prints "(--set)"
	steps, err := parseOverridePath(path)
	if err != nil {
		return err
	}
	n, fromList := root, false
	for i, st := range steps {
		last := i == len(steps)-1
		if st.key == "" {
			if n.Kind != yaml.SequenceNode || st.index >= len(n.Content) {
				return fmt.Errorf("the spec has no element %d there", st.index)
			}
			if last {
				n.Content[st.index] = val.Content[0]
				return nil
			}
			n, fromList = n.Content[st.index], true
			continue
		}
		n = componentParams(n, st.key, fromList)
		fromList = false
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", st.key)
		}
		k := indexOfPair(n, st.key)
		switch {
		case k >= 0 && last:
			n.Content[k+1] = val.Content[0]
			return nil
		case k >= 0:
			n = n.Content[k+1]
		case last:
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: st.key}, val.Content[0])
			return nil
		default:
			return fmt.Errorf("%s is not in the spec", st.key)
		}
	}
	return nil
}

// componentParams returns where the params of a component live when the
// path goes on with key: a bare name (`adam`, `- flatten`) becomes
// `name: {}`, and a listed `kind: {params}` is entered unless key is kind.
func componentParams(n *yaml.Node, key string, fromList bool) *yaml.Node {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		kind := *n
		*n = yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{&kind, {Kind: yaml.MappingNode}}}
		return n.Content[1]
	}
	if fromList && n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value != key && n.Content[0].Value != "name" {
		switch v := n.Content[1]; {
		case v.Kind == yaml.MappingNode:
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null": // `- dense:` with no params
			n.Content[1] = &yaml.Node{Kind: yaml.MappingNode}
		default: // the shorthand `- dropout: 0.5` becomes {rate: 0.5}
			m := &yaml.Node{Kind: yaml.MappingNode}
			if name, ok := shorthandName(n.Content[0].Value); ok {
				m.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, v}
			}
			n.Content[1] = m
		}
		return n.Content[1]
	}
	return n
}

// shorthandName is the param that the shorthand `kind: value` sets, when
// the registries that have a component called kind agree on it. The
// overrides work on YAML before decoding, where the registry of a listed
// component (layer, transform, metric) is not known.
func shorthandName(kind string) (string, bool) {
	var name string
	for _, k := range Kinds() {
		e, ok := RegistryFor(k).Lookup(kind)
		if !ok {
			continue
		}
		f, ok := shorthandParam(reflect.TypeOf(e.New()).Elem())
		if !ok || name != "" && name != f.Tag.Name {
			return "", false
		}
		name = f.Tag.Name
	}
	return name, name != ""
}
