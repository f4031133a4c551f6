package spec

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// block is a small named graph of layers with params, defined once under
// model.blocks and used in model.layers as if it were a layer:
//
//	blocks:
//	  residual:
//	    params: {filters: 16, strides: 1}   # defaults; null: the use must give it
//	    layers:
//	      - conv2d: {filters: $filters, kernel: 3, strides: $strides, padding: same}
//	      - ...
//	      - add
//	        inputs: [input, conv2d_1]           # input: what the block reads
//	layers:
//	  - residual: {filters: 32, strides: 2}
//	    repeat: 3
//
// A use is expanded where it stands: its layers are named use/layer, the
// block's last layer is what the use's name stands for, and $param scalars
// take the use's values. Expanded nodes keep their place in the file, so an
// error points at the block's line and says through which use it came.
type block struct {
	name     string
	params   map[string]*yaml.Node // default values; a null node: required
	order    []string              // params in the order written
	layers   []*yaml.Node
	path     string
	nameNode *yaml.Node
}

// blockDefs decodes model.blocks.
func (d *decoder) blockDefs(n *yaml.Node, path string) map[string]*block {
	keys, vals, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	out := map[string]*block{}
	for i, k := range keys {
		p := join(path, k.Value)
		if !validLayerName(k.Value) {
			d.fail(k, p, "%q is not a block name: use letters, digits, _ and -, starting with a letter", k.Value)
			continue
		}
		if _, ok := RegistryFor("layer").Lookup(k.Value); ok {
			d.fail(k, p, "block %s has the name of a layer; call it something else", k.Value)
			continue
		}
		b := &block{name: k.Value, params: map[string]*yaml.Node{}, path: p, nameNode: k}
		bk, bv, ok := d.mapping(vals[i], p)
		if !ok {
			continue
		}
		for j, key := range bk {
			switch key.Value {
			case "params":
				pk, pv, ok := d.mapping(bv[j], join(p, "params"))
				if !ok {
					continue
				}
				for m, name := range pk {
					b.params[name.Value] = pv[m]
					b.order = append(b.order, name.Value)
				}
			case "layers":
				if bv[j].Kind != yaml.SequenceNode || len(bv[j].Content) == 0 {
					d.fail(bv[j], join(p, "layers"), "want a list of at least one layer, got %s", describe(bv[j]))
					continue
				}
				b.layers = bv[j].Content
			default:
				d.fail(key, join(p, key.Value), "unknown field %q of a block%s", key.Value, didYouMean(key.Value, []string{"params", "layers"}))
			}
		}
		if b.layers == nil {
			d.fail(vals[i], join(p, "layers"), "required field is missing")
			continue
		}
		out[k.Value] = b
	}
	return out
}

// blockInput stands, in an expanded layer's inputs, for what the use of the
// block reads when the use names no input: the entry before it, whose name
// is known only once every entry is named.
const blockInput = "\x00before "

// expand turns one use of b into its layers. inputs are the use's own (nil:
// the entry before it).
func (d *decoder) expand(b *block, use rawLayer, name string, inputs []string, usePath string) []rawLayer {
	via := fmt.Sprintf("in block %s, used at %s (%s)", b.name, usePath, d.at(use.kind))
	values := map[string]*yaml.Node{}
	if use.params != nil && use.params.ShortTag() != "!!null" {
		keys, vals, ok := d.mapping(use.params, join(usePath, b.name))
		if !ok {
			return nil
		}
		for i, k := range keys {
			if _, ok := b.params[k.Value]; !ok {
				d.fail(k, join(join(usePath, b.name), k.Value), "block %s has no param %q%s", b.name, k.Value, didYouMean(k.Value, b.order))
				continue
			}
			values[k.Value] = vals[i]
		}
	}
	for _, p := range b.order {
		if values[p] == nil {
			if b.params[p].ShortTag() == "!!null" {
				d.fail(use.kind, join(join(usePath, b.name), p), "block %s needs param %s", b.name, p)
				return nil
			}
			values[p] = b.params[p]
		}
	}
	in := blockInput + name
	if inputs != nil {
		if len(inputs) != 1 {
			d.fail(use.inputsNode, join(usePath, "inputs"), "a block reads one input, got %d", len(inputs))
			return nil
		}
		in = inputs[0]
	}

	var out []rawLayer
	local := map[string]string{InputName: in}
	count := map[string]int{}
	for j, item := range b.layers {
		path := fmt.Sprintf("%s.layers[%d]", b.path, j)
		d.via = via
		r, repeat, ok := d.rawLayer(d.substitute(item, values, b, path), path)
		if ok && repeat != 0 {
			d.fail(item, path+".repeat", "repeat is for uses of a block in model.layers")
		}
		d.via = ""
		if !ok {
			continue
		}
		r.via = via
		short := r.name
		if short == "" {
			short = numbered(r.kind.Value, count[r.kind.Value])
			for local[short] != "" {
				count[r.kind.Value]++
				short = numbered(r.kind.Value, count[r.kind.Value])
			}
			count[r.kind.Value]++
		}
		r.name = name + "/" + short
		if r.inputs == nil {
			r.inputs = []string{in}
			if len(out) > 0 {
				r.inputs = []string{out[len(out)-1].name}
			}
		} else {
			for k, s := range r.inputs {
				q, ok := local[s]
				if !ok {
					d.via = via
					d.fail(r.inputsNode, join(path, "inputs"), "no layer %q before it in block %s%s", s, b.name, didYouMean(s, slices.Sorted(mapKeys(local))))
					d.via = ""
					r.inputs[k] = "" // reported: resolve passes over it
					continue
				}
				r.inputs[k] = q
			}
		}
		if len(out) == 0 {
			r.startsUse = name
		}
		local[short] = r.name
		out = append(out, r)
	}
	if len(out) > 0 {
		// The use's name stands for the block's output.
		d.aliases[name] = out[len(out)-1].name
	}
	return out
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !strings.HasPrefix(k, "\x00") && !yield(k) {
				return
			}
		}
	}
}

// substitute copies n, replacing every scalar "$param" by the use's value.
// The copies keep their positions in the file.
func (d *decoder) substitute(n *yaml.Node, values map[string]*yaml.Node, b *block, path string) *yaml.Node {
	if n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, "$") && n.Style == 0 {
		if v, ok := values[n.Value[1:]]; ok {
			return v
		}
		d.fail(n, path, "block %s has no param %s%s", b.name, n.Value[1:], didYouMean(n.Value[1:], b.order))
		return n
	}
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			c.Content[i] = d.substitute(x, values, b, path)
		}
	}
	if f, ok := d.files[n]; ok {
		d.files[&c] = f // a block defined in an extended base file
	}
	return &c
}
