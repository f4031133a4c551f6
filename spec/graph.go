package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// model decodes the model section: its blocks first, wherever they are
// written, since the layers use them; then the rest, and the checks of the
// graph that the layers and outputs make.
func (d *decoder) model(n *yaml.Node, v reflect.Value, path string) {
	d.blocks, d.aliases, d.inputs = nil, map[string]string{}, []string{InputName}
	m := v.Addr().Interface().(*Model)
	if n.Kind == yaml.MappingNode {
		if i := indexOfPair(n, "blocks"); i >= 0 {
			d.blocks = d.blockDefs(n.Content[i+1], join(path, "blocks"))
			rest := *n
			rest.Content = slices.Concat(n.Content[:i], n.Content[i+2:])
			n = &rest
		}
		// The inputs too, since the layers read them by name.
		if i := indexOfPair(n, "inputs"); i >= 0 {
			d.modelInputs(n, i, m, path)
			rest := *n
			rest.Content = slices.Concat(n.Content[:i], n.Content[i+2:])
			n = &rest
		}
	}
	d.structure(n, v, path, nil)
	if len(m.Layers) > 0 {
		d.checkGraph(m, path)
	}
}

// modelInputs decodes model.inputs, the pair at i of n, and makes their
// names what layers read instead of input.
func (d *decoder) modelInputs(n *yaml.Node, i int, m *Model, path string) {
	p := join(path, "inputs")
	d.value(n.Content[i+1], reflect.ValueOf(&m.Inputs).Elem(), p, FieldTag{Name: "inputs"})
	if indexOfPair(n, "input") >= 0 {
		d.fail(n.Content[i], p, "give either input (one input, named input) or inputs (several named ones), not both")
	}
	if n.Content[i+1].Kind == yaml.SequenceNode && len(m.Inputs) == 0 {
		d.fail(n.Content[i+1], p, "list at least one input")
	}
	d.inputs = nil
	seen := map[string]bool{}
	for k, in := range m.Inputs {
		q := fmt.Sprintf("%s[%d]", p, k)
		switch {
		case in.Name == "": // required: reported
		case !validLayerName(in.Name):
			d.errs.Add(d.pos[q+".name"], q+".name", "%q is not an input name: use letters, digits, _, - and /, starting with a letter", in.Name)
		case seen[in.Name]:
			d.errs.Add(d.pos[q+".name"], q+".name", "input name %q is used twice", in.Name)
		}
		seen[in.Name] = true
		d.inputs = append(d.inputs, in.Name)
		if c := in.Columns; c != nil && (len(c) != 2 || c[0] >= c[1]) {
			d.errs.Add(d.pos[q+".columns"], q+".columns", "want [from, to] with from < to: the columns from, ..., to-1 of the examples' last axis; got %v", c)
		}
	}
}

// unusedInputs reports the model's named inputs that no layer reads.
func (d *decoder) unusedInputs(m *Model, path string) {
	read := map[string]bool{}
	for _, l := range m.Layers {
		for _, in := range l.Inputs {
			read[in] = true
		}
	}
	for k, in := range m.Inputs {
		if in.Name != "" && !read[in.Name] {
			q := fmt.Sprintf("%s.inputs[%d]", path, k)
			d.errs.Add(d.pos[q], q, "no layer reads input %s: read it (inputs: [%s]) or remove it", in.Name, in.Name)
		}
	}
}

// checkGraph resolves the outputs and checks that the layers form a graph
// that can be computed: no cycle, and no layer whose output reaches no
// output. It puts the layers in an order that computes each after its
// inputs, keeping the written order where it can.
func (d *decoder) checkGraph(m *Model, path string) {
	index := map[string]int{}
	for i, l := range m.Layers {
		index[l.Name] = i
	}
	for i := range m.Outputs {
		o := &m.Outputs[i]
		p := fmt.Sprintf("%s.outputs[%d].layer", path, i)
		if a, ok := d.aliases[o.Layer]; ok {
			o.Layer = a
		}
		if _, ok := index[o.Layer]; !ok {
			d.errs.Add(d.pos[p], p, "no layer named %q%s", o.Layer, didYouMean(o.Layer, layerNames(m.Layers)))
			return
		}
		if o.Weight == 0 {
			o.Weight = 1
		}
	}
	if len(d.errs) > 0 {
		return // unknown names make the rest meaningless
	}
	d.unusedInputs(m, path)
	outputs := []string{m.Layers[len(m.Layers)-1].Name}
	if len(m.Outputs) > 0 {
		outputs = outputs[:0]
		for _, o := range m.Outputs {
			outputs = append(outputs, o.Layer)
		}
	}

	// Kahn's algorithm, taking the earliest written layer that is ready.
	waiting := make([]int, len(m.Layers))
	readers := make([][]int, len(m.Layers))
	for i, l := range m.Layers {
		for _, in := range l.Inputs {
			if j, ok := index[in]; ok {
				waiting[i]++
				readers[j] = append(readers[j], i)
			}
		}
	}
	var order []int
	done := make([]bool, len(m.Layers))
	for len(order) < len(m.Layers) {
		next := -1
		for i := range m.Layers {
			if !done[i] && waiting[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			l := m.Layers[cycleStart(m.Layers, index, done)]
			d.errs = append(d.errs, &Error{Pos: l.inputsAt, Path: l.Path + ".inputs", Msg: l.ErrorVia("the layers form a cycle: " + strings.Join(cycle(m.Layers, index, done), " -> "))})
			return
		}
		done[next] = true
		order = append(order, next)
		for _, r := range readers[next] {
			waiting[r]--
		}
	}

	// Every layer must lead to an output.
	used := make([]bool, len(m.Layers))
	var mark func(i int)
	mark = func(i int) {
		if used[i] {
			return
		}
		used[i] = true
		for _, in := range m.Layers[i].Inputs {
			if j, ok := index[in]; ok {
				mark(j)
			}
		}
	}
	for _, o := range outputs {
		mark(index[o])
	}
	for i, l := range m.Layers {
		if !used[i] {
			d.errs = append(d.errs, &Error{Pos: l.Pos, Path: l.Path, Msg: l.ErrorVia(fmt.Sprintf("the output of layer %s reaches no output of the model: connect it, remove it, or list it in model.outputs", l.Name))})
		}
	}
	sorted := make([]ModelLayer, len(order))
	for k, i := range order {
		sorted[k] = m.Layers[i]
	}
	m.Layers = sorted
}

func layerNames(layers []ModelLayer) []string {
	var names []string
	for _, l := range layers {
		names = append(names, l.Name)
	}
	return names
}

// cycleStart returns a layer on a cycle among the layers not done: walking
// back through inputs from any of them must come round.
func cycleStart(layers []ModelLayer, index map[string]int, done []bool) int {
	i := slices.Index(done, false)
	seen := map[int]bool{}
	for !seen[i] {
		seen[i] = true
		for _, in := range layers[i].Inputs {
			if j, ok := index[in]; ok && !done[j] {
				i = j
				break
			}
		}
	}
	return i
}

// cycle names the layers of the cycle through cycleStart, in the order the
// data flows.
func cycle(layers []ModelLayer, index map[string]int, done []bool) []string {
	start := cycleStart(layers, index, done)
	names := []string{layers[start].Name}
	i := start
	for {
		for _, in := range layers[i].Inputs {
			if j, ok := index[in]; ok && !done[j] {
				i = j
				break
			}
		}
		if i == start {
			break
		}
		names = append(names, layers[i].Name)
	}
	slices.Reverse(names)
	return append(names, names[0])
}
