package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Kinds lists the registry kinds linked into this program, sorted.
func Kinds() []string {
	kinds := make([]string, 0, len(registries))
	for k := range registries {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Param describes one declared param, for docs and `pipe doc`.
type Param struct {
	Name, Type, Default, Doc, Constraint string
	Required                             bool
	// Section is the path of the spec section this param opens
	// (train.early_stopping), "" for a param that is not a section.
	Section string
}

// Params describes the params of a config: its declaration, with the
// defaults its constructor fills in.
func Params(config any) []Param {
	return paramsOf(reflect.ValueOf(config).Elem(), "")
}

// paramsOf describes the params of struct value v, whose fields hold their
// defaults; path is v's place in a spec, for the sections it contains.
func paramsOf(v reflect.Value, path string) []Param {
	var out []Param
	for _, f := range Fields(v.Type()) {
		p := Param{Name: f.Tag.Name, Type: typeName(f.Type), Doc: f.Doc, Required: f.Tag.Required}
		if isSection(f.Type) {
			p.Section = join(path, f.Tag.Name)
		}
		fv := v.FieldByIndex(f.Index)
		// A number's zero is a default like any other (seed 0, train_limit
		// 0: all), so it is shown; an empty string, list or mapping means
		// the param is simply not set.
		switch k := fv.Kind(); {
		case !fv.IsZero(), k == reflect.Bool, k == reflect.Int, k == reflect.Int64, k == reflect.Float64, k == reflect.Float32:
			if p.Section == "" {
				p.Default = strings.TrimSpace(string(mustYAML(encodeValue(fv))))
			}
		}
		var cons []string
		if f.Tag.Min != nil {
			cons = append(cons, ">= "+number(*f.Tag.Min))
		}
		if f.Tag.Max != nil {
			cons = append(cons, "<= "+number(*f.Tag.Max))
		}
		if len(f.Tag.OneOf) > 0 {
			cons = append(cons, "one of "+strings.Join(f.Tag.OneOf, ", "))
		}
		if f.Tag.Registry != "" {
			cons = append(cons, Article(f.Tag.Registry)+" "+f.Tag.Registry)
		}
		p.Constraint = strings.Join(cons, "; ")
		out = append(out, p)
	}
	return out
}

// number writes a bound as a person would (1048576, not 1.048576e+06).
func number(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Plural is the plural of a registry kind, as headings and `pipe list`
// name them: layers, but losses.
func Plural(kind string) string {
	if strings.HasSuffix(kind, "s") || strings.HasSuffix(kind, "x") || strings.HasSuffix(kind, "ch") || strings.HasSuffix(kind, "sh") {
		return kind + "es"
	}
	return kind + "s"
}

// Article is the indefinite article before word: an optimizer, a loss.
// Every kind name is spelt as it sounds, so the first letter decides.
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Component]():
		return "component"
	case t == reflect.TypeFor[Validation]():
		return "test | none | fraction"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Array:
		return fmt.Sprintf("int or list of %d ints", t.Len())
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return "number"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "integer"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Struct:
		return "mapping"
	}
	return t.Kind().String()
}

// isSection reports whether a field of type t is a spec section of its
// own (a mapping with declared keys, such as train.early_stopping) rather
// than a value (a component, a validation, a number...).
func isSection(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != reflect.TypeFor[Component]() && t != reflect.TypeFor[Validation]()
}

// Section is a part of the spec with keys of its own: the top level, data,
// train, train.early_stopping..., for the reference and `pipe doc train`.
type Section struct {
	Path   string // "" for the top level
	Doc    string // the doc of the field that holds it
	Params []Param
}

// Title is how docs head the section.
func (s Section) Title() string {
	if s.Path == "" {
		return "(top level)"
	}
	return s.Path
}

// documentedDefaults is a spec with every default the decoder fills in,
// sections that are absent unless given (train.early_stopping) included:
// it is decoded from a spec that gives them empty, so that the docs show
// what decoding does rather than a copy of it. The errors (no name, data or
// model) do not matter here.
func documentedDefaults() *Spec {
	root, err := parseYAML("defaults", []byte("data: {stream: {}}\ntrain: {early_stopping: {}}\ngolden: {}\n"))
	if err != nil {
		panic(err)
	}
	s, _ := decode("defaults", root, nil)
	return s
}

// Sections lists the spec's sections, found from the declarations: every
// field that is a mapping of declared keys, at any depth, in declaration
// order (parents before their sections).
func Sections() []Section {
	var out []Section
	var walk func(path, doc string, v reflect.Value)
	walk = func(path, doc string, v reflect.Value) {
		out = append(out, Section{Path: path, Doc: doc, Params: paramsOf(v, path)})
		for _, f := range Fields(v.Type()) {
			if !isSection(f.Type) {
				continue
			}
			fv := v.FieldByIndex(f.Index)
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() { // no defaults: a section given empty is its zero value
					fv = reflect.New(fv.Type().Elem())
				}
				fv = fv.Elem()
			}
			walk(join(path, f.Tag.Name), f.Doc, fv)
		}
	}
	walk("", "the top level of a spec file", reflect.ValueOf(documentedDefaults()).Elem())
	return out
}

// Reference writes the Markdown reference of the spec format and of every
// registered component, all generated from the declarations.
func Reference() string {
	var b strings.Builder
	b.WriteString("# pipe reference\n\nGenerated by `pipe doc --all` from the registry declarations; do not edit.\n\n")
	b.WriteString("## Spec sections\n\n")
	for _, sec := range Sections() {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", sec.Title(), sentence(sec.Doc))
		writeParams(&b, sec.Params)
	}
	for _, kind := range Kinds() {
		r := registries[kind]
		fmt.Fprintf(&b, "## %s\n\n", capitalize(Plural(kind)))
		for _, name := range r.Names() {
			e, _ := r.Lookup(name)
			fmt.Fprintf(&b, "### %s\n\n%s\n\n", name, e.Doc)
			writeParams(&b, Params(e.New()))
		}
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sentence turns a doc tag, a phrase, into a sentence.
func sentence(doc string) string {
	return capitalize(strings.TrimSuffix(doc, ".")) + "."
}

// Doc describes what `pipe doc NAME` names: a registered component, or a
// spec section by its path (train.early_stopping) or its last key
// (early_stopping); "spec" is the top level. Everything called name is
// described.
func Doc(name string) (string, error) {
	var b strings.Builder
	var all []string
	for _, kind := range Kinds() {
		r := registries[kind]
		all = append(all, r.Names()...)
		if e, ok := r.Lookup(name); ok {
			fmt.Fprintf(&b, "%s (%s)\n\n%s\n\n", name, kind, e.Doc)
			writeParams(&b, Params(e.New()))
		}
	}
	for _, sec := range Sections() {
		path := sec.Path
		if path == "" {
			path = "spec"
		}
		last := path[strings.LastIndex(path, ".")+1:]
		all = append(all, path)
		if last != path {
			all = append(all, last)
		}
		if name == path || name == last {
			fmt.Fprintf(&b, "%s (spec section)\n\n%s\n\n", path, sentence(sec.Doc))
			writeParams(&b, sec.Params)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("no component or spec section called %q%s", name, didYouMean(name, all))
	}
	return b.String(), nil
}

// writeParams writes a Markdown table of params. Every cell is escaped: a
// | in a type (test | none | fraction) or a doc would end the cell.
func writeParams(b *strings.Builder, params []Param) {
	if len(params) == 0 {
		b.WriteString("No params.\n\n")
		return
	}
	b.WriteString("| param | type | default | constraint | description |\n|---|---|---|---|---|\n")
	for _, p := range params {
		def := code(p.Default)
		if p.Required {
			def = "required"
		}
		typ := cell(p.Type)
		if p.Section != "" {
			typ = fmt.Sprintf("%s, see [%s](#%s)", typ, p.Section, anchor(p.Section))
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", p.Name, typ, def, cell(p.Constraint), cell(p.Doc))
	}
	b.WriteString("\n")
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func code(s string) string {
	if s == "" {
		return s
	}
	return "`" + cell(s) + "`"
}

// anchor is the id GitHub gives a Markdown heading: lower case, spaces to
// hyphens, other punctuation but - and _ dropped (train.early_stopping ->
// trainearly_stopping).
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// JSONSchema returns a JSON Schema (draft 2020-12) of specs, generated from
// the same declarations, for editors with yaml-language-server.
func JSONSchema() ([]byte, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	root := schemaOf(reflect.TypeFor[Spec](), FieldTag{})
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "pipe spec"
	return json.MarshalIndent(root, "", "  ")
}

type obj = map[string]any

// expanding holds the registries whose components componentSchema is
// describing (under schemaMu), so that a component with a component of
// its own registry (bidirectional's layer) does not recurse forever.
var (
	schemaMu  sync.Mutex
	expanding = map[string]bool{}
)

// SchemaDescriber is a param type with YAML forms of its own (a
// NodeDecoder) that describes them in JSON Schema.
type SchemaDescriber interface {
	JSONSchema() map[string]any
}

func schemaOf(t reflect.Type, tag FieldTag) obj {
	switch t {
	case reflect.TypeFor[Component]():
		return componentSchema(tag)
	case reflect.TypeFor[ModelLayer]():
		return layerEntrySchema(tag)
	}
	if d, ok := reflect.New(t).Interface().(SchemaDescriber); ok {
		return d.JSONSchema()
	}
	switch t.Kind() {
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": schemaOf(t.Elem(), FieldTag{})}
	case reflect.Pointer:
		return schemaOf(t.Elem(), tag)
	case reflect.Struct:
		if t == reflect.TypeFor[Validation]() {
			return obj{"anyOf": []any{obj{"enum": []string{"test", "none"}}, obj{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}}}
		}
		return structSchema(t, nil)
	case reflect.Slice:
		return obj{"type": "array", "items": schemaOf(t.Elem(), tag)}
	case reflect.Array:
		return obj{"anyOf": []any{obj{"type": "integer", "minimum": 1}, obj{"type": "array", "items": obj{"type": "integer", "minimum": 1}, "minItems": t.Len(), "maxItems": t.Len()}}}
	case reflect.String:
		if len(tag.OneOf) > 0 {
			return obj{"enum": tag.OneOf}
		}
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Float64, reflect.Float32:
		s := obj{"type": "number"}
		if t.Kind() == reflect.Int || t.Kind() == reflect.Int64 {
			s["type"] = "integer"
		}
		if tag.Min != nil {
			s["minimum"] = *tag.Min
		}
		if tag.Max != nil {
			s["maximum"] = *tag.Max
		}
		return s
	}
	return obj{}
}

// structSchema describes a struct's params; extra adds properties (the
// params of an inline component, which sit beside its fields).
func structSchema(t reflect.Type, extra obj) obj {
	props, required := obj{}, []string{}
	for _, f := range Fields(t) {
		s := schemaOf(f.Type, f.Tag)
		if f.Tag.Inline {
			s = obj{"enum": RegistryFor(f.Tag.Registry).Names()}
		}
		s["description"] = f.Doc
		props[f.Tag.Name] = s
		if f.Tag.Required {
			required = append(required, f.Tag.Name)
		}
	}
	for k, v := range extra {
		props[k] = v
	}
	s := obj{"type": "object", "properties": props}
	if !hasInline(t) { // an inline component's params are not known here
		s["additionalProperties"] = false
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func hasInline(t reflect.Type) bool {
	for _, f := range Fields(t) {
		if f.Tag.Inline {
			return true
		}
	}
	return false
}

// componentSchema accepts the forms of a component: its name, a mapping
// from its name to its params, a mapping from its name to the value of
// its one param (the shorthand), or its name under "name" with the params
// beside it.
func componentSchema(tag FieldTag) obj {
	r := RegistryFor(tag.Registry)
	if r == nil || expanding[tag.Registry] {
		return obj{} // a component within one of its own registry (a layer wrapping a layer): left open
	}
	expanding[tag.Registry] = true
	defer delete(expanding, tag.Registry)
	var forms []any
	for _, name := range r.Names() {
		e, _ := r.Lookup(name)
		params := structSchema(reflect.TypeOf(e.New()).Elem(), nil)
		params["description"] = e.Doc
		forms = append(forms,
			obj{"const": name, "description": e.Doc},
			obj{"type": "object", "properties": obj{name: params}, "required": []string{name}, "additionalProperties": false})
		if f, ok := shorthandParam(reflect.TypeOf(e.New()).Elem()); ok { // dropout: 0.5
			value := schemaOf(f.Type, f.Tag)
			value["description"] = f.Doc
			forms = append(forms, obj{"type": "object", "properties": obj{name: value}, "required": []string{name}, "additionalProperties": false})
		}
		named := structSchema(reflect.TypeOf(e.New()).Elem(), obj{"name": obj{"const": name}})
		named["required"] = append(anyStrings(named["required"]), "name")
		forms = append(forms, named)
	}
	return obj{"anyOf": forms}
}

// layerEntrySchema accepts an entry of model.layers: a layer in any of its
// component forms with name, inputs and repeat beside it, or the use of a
// block (any key that is not a layer's name).
func layerEntrySchema(tag FieldTag) obj {
	beside := obj{
		"name":   obj{"type": "string", "description": "the layer's name, for inputs of later layers"},
		"inputs": obj{"type": "array", "items": obj{"type": "string"}, "description": "the layers (or input) whose outputs it reads; default the entry before it"},
		"repeat": obj{"type": "integer", "minimum": 1, "description": "uses of a block in a row"},
	}
	var forms []any
	for _, f := range anySlice(componentSchema(tag)["anyOf"]) {
		form := f.(obj)
		if props, ok := form["properties"].(obj); ok && form["additionalProperties"] == false {
			if _, named := props["name"]; !named { // the {name: kind} form is not a layer's
				for k, v := range props { // `- add:` leaves the params null
					props[k] = obj{"anyOf": []any{v, obj{"type": "null"}}}
				}
				for k, v := range beside {
					props[k] = v
				}
				forms = append(forms, form)
			}
			continue
		}
		forms = append(forms, form)
	}
	r := RegistryFor(tag.Registry)
	if r != nil {
		forms = append(forms, obj{"type": "object", "description": "the use of a block of model.blocks", "properties": beside,
			"propertyNames": obj{"not": obj{"enum": r.Names()}}, "minProperties": 1})
	}
	return obj{"anyOf": forms}
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func anyStrings(v any) []string {
	s, _ := v.([]string)
	return s
}

func mustYAML(n any) []byte {
	b, _ := yamlMarshal(n)
	return b
}
