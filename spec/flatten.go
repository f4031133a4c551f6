package spec

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Leaf is one value of a spec at its field path, as --set and errors
// write the path (train.epochs, model.layers[0].filters).
type Leaf struct {
	Path, Value string
}

// Flatten lists the leaf values of a spec's YAML (a run's spec.yaml) in
// document order, so that two runs' specs can be compared field by field
// (pipe runs, pipe diff). It reads the YAML alone, not the registries, so
// that it works on any run, even one made with components registered by
// another program.
//
// A component is a leaf holding its kind, with its params under it as
// --set addresses them: `- conv2d: {filters: 3}` at model.layers[0] gives
// model.layers[0]=conv2d and model.layers[0].filters=3. A list of plain
// values (a shape, the metrics) is one leaf, written [a, b].
func Flatten(src []byte) ([]Leaf, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	var out []Leaf
	if len(doc.Content) == 1 {
		flatten(doc.Content[0], "", &out)
	}
	return out, nil
}

func flatten(n *yaml.Node, path string, out *[]Leaf) {
	switch n.Kind {
	case yaml.AliasNode:
		flatten(n.Alias, path, out)
	case yaml.MappingNode:
		if kind, params, ok := component(n); ok {
			*out = append(*out, Leaf{path, kind})
			if params != nil {
				flatten(params, path, out)
			}
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			flatten(n.Content[i+1], key, out)
		}
	case yaml.SequenceNode:
		if v, ok := scalarList(n); ok {
			*out = append(*out, Leaf{path, v})
			return
		}
		for i, item := range n.Content {
			flatten(item, path+"["+strconv.Itoa(i)+"]", out)
		}
	default:
		*out = append(*out, Leaf{path, n.Value})
	}
}

// component recognises `kind: {params}` (or `kind:` with none): a
// mapping of one key whose value is a mapping or empty. No section of a
// resolved spec has that form (each holds several fields or a list), so
// only components do.
func component(n *yaml.Node) (kind string, params *yaml.Node, ok bool) {
	if len(n.Content) != 2 {
		return "", nil, false
	}
	v := n.Content[1]
	switch {
	case v.Kind == yaml.MappingNode:
		return n.Content[0].Value, v, true
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
		return n.Content[0].Value, nil, true
	}
	return "", nil, false
}

// scalarList writes a list of plain values as one flow-style value.
func scalarList(n *yaml.Node) (string, bool) {
	items := make([]string, len(n.Content))
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return "", false
		}
		items[i] = c.Value
	}
	return "[" + strings.Join(items, ", ") + "]", true
}
