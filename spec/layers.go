package spec

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ModelLayer is one layer of a model's graph: a registered layer with its
// params, its name and the names of the layers whose outputs it reads. After
// decoding every layer has a name (Keras-style automatic ones: dense,
// dense_1, ...) and its inputs ("input" is the model's input).
type ModelLayer struct {
	Component
	Name   string
	Inputs []string
	// Shares names an earlier layer whose weights this one uses (Keras'
	// shared layer: the same layer object called on another input). Its
	// kind and params are that layer's.
	Shares string
	// Via says through which use of a block the layer came, for errors found
	// after decoding: "in block residual, used at model.layers[3] (f.yaml:20:7)".
	Via string

	autoName, autoInputs bool // written back only when not automatic
	inputsAt             Pos  // where the inputs are written, or the layer
}

// InputName names the model's input (and, inside a block, the block's input).
const InputName = "input"

// Keys that sit beside a layer's kind in a model.layers entry.
var layerKeys = []string{"name", "inputs", "repeat", "shares"}

// rawLayer is an entry of model.layers (or of a block) before its params are
// decoded: blocks are expanded into rawLayers of their own.
type rawLayer struct {
	kind, params *yaml.Node // params may be nil: default params
	name         string
	nameNode     *yaml.Node
	inputs       []string
	inputsNode   *yaml.Node
	shares       *yaml.Node // the layer whose weights it uses; nil for none
	path         string     // field path of the entry in the file
	via          string
	startsUse    string // the use of a block whose first layer this is
}

// layerList decodes model.layers: entries, uses of blocks expanded, names
// given and inputs resolved.
func (d *decoder) layerList(n *yaml.Node, v reflect.Value, path string, blocks map[string]*block) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	var raws []rawLayer
	uses := map[string]int{}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		r, repeat, ok := d.rawLayer(item, p)
		if !ok {
			continue
		}
		b := blocks[r.kind.Value]
		if b == nil {
			if repeat != 0 {
				d.fail(item, p+".repeat", "repeat is for uses of a block; %s is a layer", r.kind.Value)
			}
			raws = append(raws, r)
			continue
		}
		for k := range max(repeat, 1) {
			// Uses are named like layers: residual, residual_1, ...; a
			// named use repeated: stage, stage_1, ...
			base := r.kind.Value
			if r.name != "" {
				base = r.name
			}
			use := numbered(base, uses[base])
			uses[base]++
			in := r.inputs
			if k > 0 {
				in = nil // each repetition reads the one before
			}
			raws = append(raws, d.expand(b, r, use, in, p)...)
		}
	}
	layers := d.resolve(raws)
	v.Set(reflect.ValueOf(layers))
}

func numbered(base string, n int) string {
	if n == 0 {
		return base
	}
	return fmt.Sprintf("%s_%d", base, n)
}

// rawLayer splits an entry into its kind, params and the keys beside them.
func (d *decoder) rawLayer(n *yaml.Node, path string) (r rawLayer, repeat int, ok bool) {
	r.path = path
	d.pos[path] = d.at(n)
	if n.Kind == yaml.ScalarNode {
		r.kind = n
		return r, 0, true
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a layer name, or a mapping with the layer name as key and its params as value; got %s", describe(n))
		return r, 0, false
	}
	keys, vals, good := d.mapping(n, path)
	if !good {
		return r, 0, false
	}
	for i, k := range keys {
		switch k.Value {
		case "name":
			if d.scalar(vals[i], join(path, "name"), "a layer name", "!!str") {
				r.name, r.nameNode = vals[i].Value, vals[i]
				if !validLayerName(r.name) {
					d.fail(vals[i], join(path, "name"), "%q is not a layer name: use letters, digits, _, - and /, starting with a letter", r.name)
					return r, 0, false
				}
			}
		case "inputs":
			r.inputsNode = vals[i]
			var names []string
			d.value(vals[i], reflect.ValueOf(&names).Elem(), join(path, "inputs"), FieldTag{})
			if len(names) == 0 && vals[i].Kind == yaml.SequenceNode {
				d.fail(vals[i], join(path, "inputs"), "list at least one input")
			}
			r.inputs = names
		case "shares":
			if d.scalar(vals[i], join(path, "shares"), "a layer name", "!!str") {
				r.shares = vals[i]
			}
		case "repeat":
			d.value(vals[i], reflect.ValueOf(&repeat).Elem(), join(path, "repeat"), FieldTag{Name: "repeat", Min: ptr(1.0), Max: ptr(1000.0)})
		default:
			if r.kind != nil {
				d.fail(k, join(path, k.Value), "a layer entry has one layer name as key (beside %s); got %s and %s", strings.Join(layerKeys, ", "), r.kind.Value, k.Value)
				return r, 0, false
			}
			r.kind, r.params = k, vals[i]
		}
	}
	if r.kind == nil && r.shares != nil {
		// A shared use: its kind and params are the shared layer's.
		r.kind = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "", Line: n.Line, Column: n.Column}
		return r, repeat, true
	}
	if r.kind != nil && r.shares != nil {
		d.fail(r.shares, join(path, "shares"), "a layer that shares %s's weights takes its kind and params: give shares: %s beside name and inputs only, without %s", r.shares.Value, r.shares.Value, r.kind.Value)
		return r, 0, false
	}
	if r.kind == nil {
		d.fail(n, path, "the entry names no layer: want a key such as dense: {units: 10} beside %s", strings.Join(layerKeys, ", "))
		return r, 0, false
	}
	return r, repeat, true
}

func ptr[T any](v T) *T { return &v }

func validLayerName(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '_' || r == '-' || r == '/')) {
			return false
		}
	}
	return s != ""
}

// resolve decodes the params of every entry, gives the unnamed ones Keras'
// names (kind, kind_1, ... skipping names taken) and reads an entry without
// inputs from the entry before it.
func (d *decoder) resolve(raws []rawLayer) []ModelLayer {
	taken := map[string]bool{}
	for _, in := range d.modelInputNames() {
		taken[in] = true
	}
	for _, r := range raws {
		if r.name == "" {
			continue
		}
		if taken[r.name] {
			d.via = r.via
			what := "is used twice"
			if slices.Contains(d.modelInputNames(), r.name) {
				what = "names a model input"
			}
			d.fail(r.nameNode, join(r.path, "name"), "layer name %q %s", r.name, what)
			d.via = ""
		}
		taken[r.name] = true
	}
	count := map[string]int{}
	out := make([]ModelLayer, 0, len(raws))
	prev := d.modelInputNames()[0]
	if len(d.modelInputNames()) > 1 {
		prev = noInput
	}
	for _, r := range raws {
		if r.startsUse != "" {
			d.aliases[blockInput+r.startsUse] = prev
		}
		l := ModelLayer{Name: r.name, Inputs: r.inputs, Via: r.via, inputsAt: d.at(r.kind)}
		if r.inputsNode != nil {
			l.inputsAt = d.at(r.inputsNode)
		}
		if l.Name == "" {
			l.autoName = true
			base := r.kind.Value
			if r.shares != nil { // enc, enc_shared, enc_shared_1, ...
				base = r.shares.Value + "_shared"
			}
			for l.Name == "" || taken[l.Name] {
				l.Name = numbered(base, count[base])
				count[base]++
			}
			taken[l.Name] = true
		}
		if l.Inputs == nil {
			l.Inputs, l.autoInputs = []string{prev}, true
		}
		if r.shares != nil {
			l.Shares = r.shares.Value
			k := slices.IndexFunc(out, func(o ModelLayer) bool { return o.Name == l.Shares })
			switch {
			case k < 0:
				d.fail(r.shares, join(r.path, "shares"), "no earlier layer named %q%s: a layer shares the weights of one written before it", l.Shares, didYouMean(l.Shares, layerNames(out)))
			case out[k].Shares != "":
				l.Shares = out[k].Shares // the weights' owner
				fallthrough
			default:
				l.Component = out[k].Component
				l.Component.Path = r.path
				out = append(out, l)
			}
			prev = l.Name
			continue
		}
		params := r.params
		if params == nil || params.ShortTag() == "!!null" {
			params = &yaml.Node{Kind: yaml.MappingNode, Line: r.kind.Line, Column: r.kind.Column}
		}
		d.via = r.via
		ok := true
		if params.Kind != yaml.MappingNode {
			params, ok = d.shorthand(r.kind, params, r.path, "layer")
		}
		if ok {
			d.inlineComponent(r.kind, params, &l.Component, r.path, r.path, "layer", nil)
		}
		d.via = ""
		if l.Config != nil {
			out = append(out, l)
		}
		prev = l.Name
	}
	for i := range out {
		l := &out[i]
		for k, in := range l.Inputs {
			if a, ok := d.aliases[in]; ok {
				l.Inputs[k], in = a, a
			}
			if in == noInput {
				d.errs = append(d.errs, &Error{Pos: l.inputsAt, Path: l.Path + ".inputs", Msg: l.ErrorVia(fmt.Sprintf("layer %s reads no input: the model has several (%s), so the first layer names what it reads (inputs: [...])", l.Name, strings.Join(d.modelInputNames(), ", ")))})
			} else if !taken[in] && in != "" {
				d.errs = append(d.errs, &Error{Pos: l.inputsAt, Path: l.Path + ".inputs", Msg: l.ErrorVia(fmt.Sprintf("no layer named %q%s", in, didYouMean(in, slices.Sorted(maps.Keys(taken)))))})
			}
		}
	}
	return out
}

// noInput is what the first layer reads when it names no input and the
// model has several: an error.
const noInput = "\x00"

// modelInputNames are the names of the model's inputs.
func (d *decoder) modelInputNames() []string {
	if len(d.inputs) == 0 {
		return []string{InputName}
	}
	return d.inputs
}

// ErrorVia returns msg with the use of the block the layer came through.
func (l ModelLayer) ErrorVia(msg string) string {
	if l.Via == "" {
		return msg
	}
	return msg + " (" + l.Via + ")"
}

// encodeLayer writes a layer back as `kind: {params}`, with its name and
// inputs beside it where they are not the automatic ones.
func encodeLayer(l ModelLayer) *yaml.Node {
	c := encodeComponent(l.Component)
	if l.Shares != "" {
		c = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("shares"), {Kind: yaml.ScalarNode, Tag: "!!str", Value: l.Shares}}}
	}
	if l.autoName && l.autoInputs {
		return c
	}
	if c.Kind == yaml.ScalarNode {
		c = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{c, {Kind: yaml.MappingNode, Style: yaml.FlowStyle}}}
	}
	if !l.autoName {
		c.Content = append(c.Content, scalar("name"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: l.Name})
	}
	if !l.autoInputs {
		in := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range l.Inputs {
			in.Content = append(in.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
		}
		c.Content = append(c.Content, scalar("inputs"), in)
	}
	return c
}
