package spec

import (
	"sort"
)

// Registry maps names to component constructors: layers, loaders, transforms,
// optimizers, losses, metrics. Each package that provides components owns one
// registry and fills it from init(); the spec decoder finds registries by kind,
// the way database/sql finds drivers, so spec does not import its users.
//
// New returns a pointer to a config struct with its defaults filled in. The
// struct's `pipe` and `doc` tags are the declaration of the component's
// params: decoding, validation, `pipe doc` and the JSON Schema all read them.
type Registry struct {
	Kind    string // "layer", "loader", ...
	entries map[string]Entry
}

// Entry is one registered component.
type Entry struct {
	Name string
	Doc  string
	New  func() any
}

var registries = map[string]*Registry{}

// NewRegistry creates the registry for kind. Kinds are unique.
func NewRegistry(kind string) *Registry {
	if _, dup := registries[kind]; dup {
		panic("spec: duplicate registry kind " + kind)
	}
	r := &Registry{Kind: kind, entries: map[string]Entry{}}
	registries[kind] = r
	return r
}

// RegistryFor returns the registry of kind, or nil when no package provides it.
func RegistryFor(kind string) *Registry { return registries[kind] }

// Register adds a component. A duplicate name is a programming error.
func (r *Registry) Register(name, doc string, newConfig func() any) {
	if _, dup := r.entries[name]; dup {
		panic("spec: duplicate " + r.Kind + " " + name)
	}
	r.entries[name] = Entry{Name: name, Doc: doc, New: newConfig}
}

// Lookup returns the entry called name.
func (r *Registry) Lookup(name string) (Entry, bool) {
	e, ok := r.entries[name]
	return e, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Component is a registry entry chosen in a spec, with its decoded params.
type Component struct {
	Kind   string // the entry's name, e.g. "conv2d"
	Config any    // what the entry's New returned, filled from the spec
	Pos    Pos
	Path   string // field path of the component, e.g. model.layers[2]
}
