package spec

import (
	"fmt"
	"reflect"
	"sort"
)

// Registry maps names to the components of one kind: layers, loaders,
// transforms, optimizers, losses, metrics, rating models. Each package that
// provides components owns the registry of its kind and fills it from
// init(); the spec decoder finds registries by kind, the way database/sql
// finds drivers, so spec does not import its users.
//
// A component is registered with a constructor of its params struct, its
// defaults filled in. The struct's `pipe` and `doc` tags are the
// declaration of the component's params: decoding, validation, `pipe doc`
// and the JSON Schema all read them. T is what the registry gives back
// after decoding (a Layer, a Loader, ...): the params struct itself, which
// holds no state but the user's params.
type Registry[T any] struct {
	kind    string
	entries map[string]entry[T]
}

type entry[T any] struct {
	doc    string
	params func() T
}

// Entry describes one registered component whatever its kind, for the
// decoder and the docs.
type Entry struct {
	Name string
	Doc  string
	New  func() any // a fresh params struct (a pointer) with its defaults
}

// Kind is what the decoder and the docs need of a registry of any T.
type Kind interface {
	Kind() string
	Names() []string
	Lookup(name string) (Entry, bool)
}

var registries = map[string]Kind{}

// NewRegistry creates the registry for kind. Kinds are unique.
func NewRegistry[T any](kind string) *Registry[T] {
	if _, dup := registries[kind]; dup {
		panic("spec: duplicate registry kind " + kind)
	}
	r := &Registry[T]{kind: kind, entries: map[string]entry[T]{}}
	registries[kind] = r
	return r
}

// RegistryFor returns the registry of kind, or nil when no package provides it.
func RegistryFor(kind string) Kind { return registries[kind] }

// Register adds a component. params returns its params struct, a pointer,
// with the defaults filled in. A duplicate name or params that are not a
// struct pointer are programming errors, reported when the program starts.
func (r *Registry[T]) Register(name, doc string, params func() T) {
	if _, dup := r.entries[name]; dup {
		panic("spec: duplicate " + r.kind + " " + name)
	}
	if t := reflect.TypeOf(params()); t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("spec: %s %s: params must be a struct pointer, got %v", r.kind, name, t))
	}
	r.entries[name] = entry[T]{doc: doc, params: params}
}

// Kind is the registry's kind, as struct tags name it (registry=layer).
func (r *Registry[T]) Kind() string { return r.kind }

// Lookup returns the entry called name.
func (r *Registry[T]) Lookup(name string) (Entry, bool) {
	e, ok := r.entries[name]
	if !ok {
		return Entry{}, false
	}
	return Entry{Name: name, Doc: e.doc, New: func() any { return e.params() }}, true
}

// Names returns the registered names, sorted.
func (r *Registry[T]) Names() []string {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validator is a component with a rule across its params that struct tags
// cannot state; Build runs it.
type Validator interface {
	Validate() error
}

// Build returns the component that c chose, decoded from a spec of this
// registry's kind, or a positioned error (nil when built): a component of
// another kind, or params that its Validate rejects. It is the one way
// from a decoded spec to a typed component. The component is a copy of
// the spec's params, so nothing done with it changes the spec.
func (r *Registry[T]) Build(c Component) (T, *Error) {
	var zero T
	if _, known := r.entries[c.Kind]; !known || c.Config == nil {
		return zero, &Error{Pos: c.Pos, Path: c.Path, Msg: fmt.Sprintf("%q is not a %s", c.Kind, r.kind)}
	}
	v := reflect.ValueOf(c.Config)
	cp := reflect.New(v.Type().Elem())
	cp.Elem().Set(v.Elem())
	t, ok := cp.Interface().(T)
	if !ok {
		return zero, &Error{Pos: c.Pos, Path: c.Path, Msg: fmt.Sprintf("%q is not a %s", c.Kind, r.kind)}
	}
	if v, ok := any(t).(Validator); ok {
		if err := v.Validate(); err != nil {
			return zero, &Error{Pos: c.Pos, Path: c.Path, Msg: fmt.Sprintf("%s: %v", c.Kind, err)}
		}
	}
	return t, nil
}

// New returns the component called name with its default params, for code
// that picks a component without a spec (the metrics every run reports).
func (r *Registry[T]) New(name string) (T, bool) {
	e, ok := r.entries[name]
	if !ok {
		var zero T
		return zero, false
	}
	return e.params(), true
}

// Component is a registry entry chosen in a spec, with its decoded params.
type Component struct {
	Kind   string // the entry's name, e.g. "conv2d"
	Config any    // the entry's params struct, filled from the spec
	Pos    Pos
	Path   string // field path of the component, e.g. model.layers[2]
}
