package spec

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// NodeDecoder is implemented by param types with their own YAML forms, such
// as a kernel size that is either 5 or [5, 3]. The returned error's text
// becomes the message; the decoder adds file, line and field path.
type NodeDecoder interface {
	DecodeNode(n *yaml.Node) error
}

// FieldTag is the parsed `pipe:"..."` struct tag that declares a param:
//
//	pipe:"units,required,min=1"          an int that must be given, at least 1
//	pipe:"padding,oneof=valid|same"      one of the listed strings
//	pipe:"activation,oneof=@activation"  one of the strings of a named list (RegisterChoices)
//	pipe:"layers,registry=layer"         components of the layer registry
//	pipe:"loader,registry=loader,inline" the loader's params sit beside it
type FieldTag struct {
	Name     string
	Required bool
	Min, Max *float64
	OneOf    []string
	Registry string
	Inline   bool
}

// ParseTag parses a field's pipe tag; ok is false for untagged fields.
func ParseTag(f reflect.StructField) (t FieldTag, ok bool) {
	raw, ok := f.Tag.Lookup("pipe")
	if !ok || raw == "-" {
		return t, false
	}
	parts := strings.Split(raw, ",")
	t.Name = parts[0]
	for _, p := range parts[1:] {
		key, val, _ := strings.Cut(p, "=")
		switch key {
		case "required":
			t.Required = true
		case "min", "max":
			v, err := strconv.ParseFloat(val, 64)
			if err != nil {
				panic(fmt.Sprintf("spec: bad %s in tag of %s: %q", key, f.Name, raw))
			}
			if key == "min" {
				t.Min = &v
			} else {
				t.Max = &v
			}
		case "oneof":
			if name, ok := strings.CutPrefix(val, "@"); ok {
				list, known := choices[name]
				if !known {
					panic(fmt.Sprintf("spec: no choices named %q (tag of %s); RegisterChoices declares them", name, f.Name))
				}
				t.OneOf = append([]string(nil), list...)
			} else {
				t.OneOf = strings.Split(val, "|")
			}
		case "registry":
			t.Registry = val
		case "inline":
			t.Inline = true
		default:
			panic(fmt.Sprintf("spec: unknown option %q in tag of %s", key, f.Name))
		}
	}
	return t, true
}

var choices = map[string][]string{}

// RegisterChoices names a list of strings that params declare with
// `oneof=@name`, so that a list shared by many params (the activations of
// every layer) is written once; decoding, `pipe doc` and the JSON Schema
// read it as they read an inline oneof. Call it from a package-level
// variable's initialiser, so that the list exists before any tag is read;
// it returns values. A duplicate name is a programming error.
func RegisterChoices(name string, values ...string) []string {
	if _, dup := choices[name]; dup {
		panic("spec: duplicate choices " + name)
	}
	choices[name] = values
	return values
}

// decoder walks a yaml.Node tree into Go values, checking each param against
// its declaration and recording every error with its position and path.
type decoder struct {
	file  string
	files map[*yaml.Node]string // nodes from an extended base file
	errs  ErrorList
	pos   map[string]Pos // field path -> position, for errors found after decoding
	// via, while a layer expanded from a block is decoded, names the use
	// of the block, added to every error about it.
	via string
	// blocks and aliases of the model being decoded (blocks.go).
	blocks  map[string]*block
	aliases map[string]string
	// inputs are the names of the model's inputs: input, or model.inputs'.
	inputs []string
}

func (d *decoder) at(n *yaml.Node) Pos {
	file := d.file
	if f, ok := d.files[n]; ok {
		file = f
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	if d.via != "" {
		format += " (" + strings.ReplaceAll(d.via, "%", "%%") + ")"
	}
	d.errs.Add(d.at(n), path, format, args...)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// value decodes n into v, a settable value.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, tag FieldTag) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.pos[path] = d.at(n)
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(NodeDecoder); ok {
			if err := nd.DecodeNode(n); err != nil {
				d.fail(n, path, "%v", err)
			}
			return
		}
	}
	switch v.Type() {
	case reflect.TypeFor[Model]():
		d.model(n, v, path)
		return
	case reflect.TypeFor[[]ModelLayer]():
		d.layerList(n, v, path, d.blocks)
		return
	}
	if v.Type() == reflect.TypeFor[Component]() {
		d.component(n, v.Addr().Interface().(*Component), path, tag.Registry)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path, tag)
	case reflect.Struct:
		d.structure(n, v, path, nil)
	case reflect.Slice:
		d.sequence(n, v, path, tag)
	case reflect.String:
		if !d.scalar(n, path, "a string", "!!str", "!!int", "!!float", "!!bool") {
			return
		}
		if len(tag.OneOf) > 0 && !contains(tag.OneOf, n.Value) {
			d.fail(n, path, "%q is not supported%s", n.Value, didYouMean(n.Value, tag.OneOf))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if !d.scalar(n, path, "true or false", "!!bool") {
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int, reflect.Int64:
		if !d.scalar(n, path, "an integer", "!!int") {
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			d.fail(n, path, "%q is not an integer", n.Value)
			return
		}
		if d.inRange(n, path, float64(i), tag) {
			v.SetInt(i)
		}
	case reflect.Float64, reflect.Float32:
		if !d.scalar(n, path, "a number", "!!int", "!!float") {
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "%q is not a finite number", n.Value)
			return
		}
		if d.inRange(n, path, f, tag) {
			v.SetFloat(f)
		}
	default:
		panic(fmt.Sprintf("spec: cannot decode into %s at %s", v.Type(), path))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar checks that n is a scalar with one of the accepted YAML tags.
func (d *decoder) scalar(n *yaml.Node, path, want string, tags ...string) bool {
	if n.Kind == yaml.ScalarNode && contains(tags, n.ShortTag()) {
		return true
	}
	d.fail(n, path, "want %s, got %s", want, describe(n))
	return false
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing (null)"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!bool":
		return "the boolean " + n.Value
	}
	return n.Value
}

func (d *decoder) inRange(n *yaml.Node, path string, x float64, tag FieldTag) bool {
	if tag.Min != nil && x < *tag.Min {
		d.fail(n, path, "must be at least %v, got %s", *tag.Min, n.Value)
		return false
	}
	if tag.Max != nil && x > *tag.Max {
		d.fail(n, path, "must be at most %v, got %s", *tag.Max, n.Value)
		return false
	}
	return true
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string, tag FieldTag) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i), tag)
	}
	v.Set(out)
}

// mapping returns the key/value pairs of a mapping node, reporting duplicate keys.
func (d *decoder) mapping(n *yaml.Node, path string) (keys []*yaml.Node, vals []*yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return nil, nil, false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			d.fail(k, join(path, k.Value), "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		keys = append(keys, k)
		vals = append(vals, n.Content[i+1])
	}
	return keys, vals, true
}

// structure decodes a mapping into a struct whose fields carry pipe tags.
// extra, when not nil, receives the keys that no field claims (for an inline
// component); otherwise such keys are errors with a suggestion.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string, extra *[]*yaml.Node) {
	keys, vals, ok := d.mapping(n, path)
	if !ok {
		return
	}
	fields := Fields(v.Type())
	byName := map[string]Field{}
	var names []string
	var inline *Field
	for i, f := range fields {
		byName[f.Tag.Name] = f
		names = append(names, f.Tag.Name)
		if f.Tag.Inline {
			inline = &fields[i]
		}
	}
	given := map[string]bool{}
	var leftovers []int
	for i, k := range keys {
		f, known := byName[k.Value]
		if !known {
			leftovers = append(leftovers, i)
			continue
		}
		given[k.Value] = true
		if f.Tag.Inline {
			continue // decoded below, with the leftovers
		}
		d.value(vals[i], v.FieldByIndex(f.Index), join(path, k.Value), f.Tag)
	}
	if inline != nil && given[inline.Tag.Name] {
		var kv []*yaml.Node
		for _, i := range leftovers {
			kv = append(kv, keys[i], vals[i])
		}
		params := &yaml.Node{Kind: yaml.MappingNode, Content: kv, Line: n.Line, Column: n.Column}
		kindNode := vals[indexOf(keys, inline.Tag.Name)]
		d.pos[join(path, inline.Tag.Name)] = d.at(kindNode)
		// The params sit beside the name, in this mapping: their paths are
		// data.train_limit, not data.loader.train_limit.
		c := v.FieldByIndex(inline.Index).Addr().Interface().(*Component)
		d.inlineComponent(kindNode, params, c, join(path, inline.Tag.Name), path, inline.Tag.Registry, names)
		leftovers = nil
	}
	if extra != nil {
		for _, i := range leftovers {
			*extra = append(*extra, keys[i])
		}
	} else {
		for _, i := range leftovers {
			d.fail(keys[i], join(path, keys[i].Value), "unknown field %q%s", keys[i].Value, didYouMean(keys[i].Value, names))
		}
	}
	for _, f := range fields {
		if f.Tag.Required && !given[f.Tag.Name] {
			d.fail(n, join(path, f.Tag.Name), "required field is missing")
		}
	}
}

// Field is one declared param of a config struct.
type Field struct {
	Index []int // for reflect.Value.FieldByIndex
	Tag   FieldTag
	Doc   string
	Type  reflect.Type
}

// Fields lists the declared params of struct type t, in order. The fields
// of an embedded struct count as t's own, so components can share a group
// of params (the rating split of every ratings loader, say).
func Fields(t reflect.Type) []Field {
	var out []Field
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous {
			continue
		}
		if tag, ok := ParseTag(f); ok {
			out = append(out, Field{Index: f.Index, Tag: tag, Doc: f.Tag.Get("doc"), Type: f.Type})
		}
	}
	return out
}

func indexOf(keys []*yaml.Node, name string) int {
	for i, k := range keys {
		if k.Value == name {
			return i
		}
	}
	return -1
}

// component decodes one registry choice. It accepts the forms
//
//	flatten                       the name alone: default params
//	dense: {units: 10}            the name as the only key, params inside
//	{name: adam, learning_rate: 0.01}   the name under "name", params beside it
//	dropout: 0.5                  shorthand: the value of the one param (see shorthand)
func (d *decoder) component(n *yaml.Node, c *Component, path, kind string) {
	switch {
	case n.Kind == yaml.ScalarNode:
		d.inlineComponent(n, &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}, c, path, path, kind, nil)
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value != "name":
		params := n.Content[1]
		for params.Kind == yaml.AliasNode {
			params = params.Alias
		}
		switch {
		case params.ShortTag() == "!!null":
			params = &yaml.Node{Kind: yaml.MappingNode, Line: params.Line, Column: params.Column}
		case params.Kind != yaml.MappingNode:
			var ok bool
			if params, ok = d.shorthand(n.Content[0], params, path, kind); !ok {
				return
			}
		}
		d.inlineComponent(n.Content[0], params, c, path, path, kind, nil)
	case n.Kind == yaml.MappingNode && indexOfPair(n, "name") >= 0:
		i := indexOfPair(n, "name")
		var rest []*yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if j != i {
				rest = append(rest, n.Content[j], n.Content[j+1])
			}
		}
		d.inlineComponent(n.Content[i+1], &yaml.Node{Kind: yaml.MappingNode, Content: rest, Line: n.Line, Column: n.Column}, c, path, path, kind, []string{"name"})
	default:
		d.fail(n, path, "want a %s name, or a mapping with one key (the %s name) whose value holds its params; got %s", kind, kind, describe(n))
	}
}

// shorthand turns `kind: value` (a scalar or a list in place of the params
// mapping) into the mapping {param: value}, where param is the component's
// only declared param or, failing that, its only required one: `dropout:
// 0.5`, `activation: relu`, `kernel_regularizer: {l2: 0.0001}`. A component
// with no such param gets a positioned error that shows the mapping form.
// An unknown kind is left to inlineComponent, which reports it.
func (d *decoder) shorthand(kindNode, value *yaml.Node, path, kind string) (*yaml.Node, bool) {
	empty := &yaml.Node{Kind: yaml.MappingNode, Line: value.Line, Column: value.Column}
	reg := RegistryFor(kind)
	if reg == nil || kindNode.Kind != yaml.ScalarNode {
		return empty, true
	}
	entry, ok := reg.Lookup(kindNode.Value)
	if !ok {
		return empty, true
	}
	cfg := reflect.ValueOf(entry.New()).Elem()
	fields := Fields(cfg.Type())
	target, ok := shorthandParam(cfg.Type())
	if !ok {
		d.fail(value, path, "%s takes its params as a mapping, e.g. %s: %s; got %s", entry.Name, entry.Name, exampleParams(cfg, fields), describe(value))
		return nil, false
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: target.Tag.Name, Line: value.Line, Column: value.Column}
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{key, value}, Line: value.Line, Column: value.Column}, true
}

// shorthandParam is the param that `kind: value` sets in a config of type
// t: its only param, or else its only required one.
func shorthandParam(t reflect.Type) (Field, bool) {
	fields := Fields(t)
	if len(fields) == 1 {
		return fields[0], !fields[0].Tag.Inline
	}
	var required []Field
	for _, f := range fields {
		if f.Tag.Required {
			required = append(required, f)
		}
	}
	if len(required) == 1 && !required[0].Tag.Inline {
		return required[0], true
	}
	return Field{}, false
}

// exampleParams writes the params of a config in flow style with their
// defaults, or "..." for params without one: {mean: 0, stddev: 0.05}.
func exampleParams(cfg reflect.Value, fields []Field) string {
	if len(fields) == 0 {
		return "{}"
	}
	var parts []string
	for _, f := range fields {
		v := "..."
		fv := cfg.FieldByIndex(f.Index)
		if !f.Tag.Required && fv.Kind() != reflect.Struct && (!fv.IsZero() || fv.Kind() != reflect.String && fv.Kind() != reflect.Slice && fv.Kind() != reflect.Pointer) {
			if b, err := yaml.Marshal(encodeValue(fv)); err == nil {
				v = strings.TrimSpace(string(b))
			}
		}
		parts = append(parts, f.Tag.Name+": "+v)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func indexOfPair(n *yaml.Node, key string) int {
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			return j
		}
	}
	return -1
}

// inlineComponent resolves the name in kindNode against the registry of kind
// and decodes params into a fresh config. path names the component,
// paramsPath the mapping its params sit in; siblings are the other field
// names valid there, offered as suggestions for an unknown key.
func (d *decoder) inlineComponent(kindNode, params *yaml.Node, c *Component, path, paramsPath, kind string, siblings []string) {
	reg := RegistryFor(kind)
	if reg == nil {
		panic("spec: no registry of kind " + kind + " is linked in")
	}
	if kindNode.Kind != yaml.ScalarNode || kindNode.ShortTag() != "!!str" {
		d.fail(kindNode, path, "want a %s name, got %s", kind, describe(kindNode))
		return
	}
	entry, ok := reg.Lookup(kindNode.Value)
	if !ok {
		d.fail(kindNode, path, "unknown %s %q%s", kind, kindNode.Value, didYouMean(kindNode.Value, reg.Names()))
		return
	}
	*c = Component{Kind: entry.Name, Config: entry.New(), Pos: d.at(kindNode), Path: path}
	cfg := reflect.ValueOf(c.Config).Elem()
	var extra []*yaml.Node
	d.structure(params, cfg, paramsPath, &extra)
	names := append(paramNames(cfg.Type()), siblings...)
	for _, k := range extra {
		d.fail(k, join(paramsPath, k.Value), "unknown field %q for %s %s%s", k.Value, kind, entry.Name, didYouMean(k.Value, names))
	}
}

// paramNames lists the declared param names of a config struct type.
func paramNames(t reflect.Type) []string {
	var names []string
	for _, f := range Fields(t) {
		names = append(names, f.Tag.Name)
	}
	return names
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
