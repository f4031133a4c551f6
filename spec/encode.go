package spec

import (
	"reflect"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Encode writes s back as YAML with every default filled in: the resolved
// spec that a run directory keeps, which `pipe run` accepts again.
func Encode(s *Spec) ([]byte, error) {
	return yaml.Marshal(encodeValue(reflect.ValueOf(s).Elem()))
}

// encodeValue turns a decoded value into a yaml.Node, reading the same
// pipe tags that decoding reads.
func encodeValue(v reflect.Value) *yaml.Node {
	switch val := v.Interface().(type) {
	case Validation:
		return scalar(val.String())
	case ModelLayer:
		return encodeLayer(val)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		}
		return encodeValue(v.Elem())
	case reflect.Struct:
		if c, ok := v.Interface().(Component); ok {
			return encodeComponent(c)
		}
		return encodeStruct(v, nil)
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := 0; i < v.Len(); i++ {
			item := encodeValue(v.Index(i))
			if item.Kind != yaml.ScalarNode {
				n.Style = 0
			}
			n.Content = append(n.Content, item)
		}
		return n
	case reflect.Array: // fixed-size params such as a 2-D size
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, encodeValue(v.Index(i)))
		}
		return n
	case reflect.String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.String()}
	case reflect.Bool:
		return scalar(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int64:
		return scalar(strconv.FormatInt(v.Int(), 10))
	case reflect.Float64, reflect.Float32:
		return scalar(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	}
	return scalar(v.String())
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// encodeStruct writes the tagged fields of a struct; an inline component
// contributes its name under its key and its params beside it.
func encodeStruct(v reflect.Value, n *yaml.Node) *yaml.Node {
	if n == nil {
		n = &yaml.Node{Kind: yaml.MappingNode}
	}
	for _, field := range Fields(v.Type()) {
		tag, f := field.Tag, v.FieldByIndex(field.Index)
		if f.Kind() == reflect.Pointer && f.IsNil() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
			continue
		}
		if c, ok := f.Interface().(Component); ok && c.Kind == "" {
			continue // an optional component left out
		}
		if unset(tag, f) {
			continue
		}
		if tag.Inline {
			c := f.Interface().(Component)
			n.Content = append(n.Content, scalar(tag.Name), scalar(c.Kind))
			if c.Config != nil {
				encodeStruct(reflect.ValueOf(c.Config).Elem(), n)
			}
			continue
		}
		n.Content = append(n.Content, scalar(tag.Name), encodeValue(f))
	}
	return n
}

// unset reports a zero value that its field's range excludes (cv's
// folds, blocks and seeds, of which a spec gives one): the field was not
// given, and writing it would make the text fail to decode.
func unset(tag FieldTag, f reflect.Value) bool {
	if !f.IsZero() {
		return false
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64, reflect.Float32:
		return tag.Min != nil && *tag.Min > 0
	case reflect.String:
		return len(tag.OneOf) > 0 && !slices.Contains(tag.OneOf, "")
	}
	return false
}

// encodeComponent writes `kind: {params}`, or the bare kind without params.
func encodeComponent(c Component) *yaml.Node {
	if c.Config == nil {
		return scalar(c.Kind)
	}
	params := encodeStruct(reflect.ValueOf(c.Config).Elem(), nil)
	if len(params.Content) == 0 {
		return scalar(c.Kind)
	}
	params.Style = yaml.FlowStyle
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar(c.Kind), params}}
}

// EncodeComponent writes one component as YAML with every param resolved,
// e.g. "scale: {divide: 255, subtract: 0, on: x}": a stable text of what
// the component does, which the data cache hashes.
func EncodeComponent(c Component) ([]byte, error) {
	return yaml.Marshal(encodeComponent(c))
}

func yamlMarshal(v any) ([]byte, error) { return yaml.Marshal(v) }
