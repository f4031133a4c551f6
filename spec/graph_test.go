package spec_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// graphSpec is a small residual network: a block used twice, a skip
// connection, named layers and explicit inputs.
const graphSpec = `name: g
data: {loader: mnist}
model:
  input: {shape: [28, 28, 1]}
  blocks:
    res:
      params: {filters: 4, kernel: 3}
      layers:
        - conv2d: {filters: $filters, kernel: $kernel, padding: same}
        - conv2d: {filters: $filters, kernel: 3, padding: same}
          name: second
        - add:
          inputs: [input, second]
  layers:
    - conv2d: {filters: 4, kernel: 3, padding: same}
      name: stem
    - res: {kernel: 5}
      repeat: 2
    - flatten
    - dense: {units: 10}
train: {loss: mse, optimizer: sgd}
`

func TestGraphLayers(t *testing.T) {
	s, err := spec.Parse("g.yaml", []byte(graphSpec))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range s.Model.Layers {
		got = append(got, l.Name+"<-"+strings.Join(l.Inputs, "+"))
	}
	want := []string{"stem<-input", "res/conv2d<-stem", "res/second<-res/conv2d", "res/add<-stem+res/second",
		"res_1/conv2d<-res/add", "res_1/second<-res_1/conv2d", "res_1/add<-res/add+res_1/second",
		"flatten<-res_1/add", "dense<-flatten"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("layers:\n got %v\nwant %v", got, want)
	}
	// $kernel took the use's value, $filters the default.
	c := s.Model.Layers[1].Config
	if !strings.Contains(encode(t, c), "kernel: [5, 5]") || !strings.Contains(encode(t, c), "filters: 4") {
		t.Errorf("substituted params: %s", encode(t, c))
	}
	// The resolved spec reads back to the same graph.
	out, err := spec.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := spec.Parse("resolved.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i, l := range back.Model.Layers {
		if l.Name != s.Model.Layers[i].Name || strings.Join(l.Inputs, ",") != strings.Join(s.Model.Layers[i].Inputs, ",") {
			t.Errorf("layer %d after the round trip: %s <- %v, want %s <- %v", i, l.Name, l.Inputs, s.Model.Layers[i].Name, s.Model.Layers[i].Inputs)
		}
	}
}

// TestNamedBlockRepeated: a named use of a block, repeated, names its uses
// name, name_1, ...
func TestNamedBlockRepeated(t *testing.T) {
	src := strings.Replace(graphSpec, "    - res: {kernel: 5}\n      repeat: 2\n", "    - res: {kernel: 5}\n      name: stage\n      repeat: 2\n", 1)
	s, err := spec.Parse("g.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range s.Model.Layers {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, " "); got != "stem stage/conv2d stage/second stage/add stage_1/conv2d stage_1/second stage_1/add flatten dense" {
		t.Errorf("layers %s", got)
	}
}

func encode(t *testing.T, config any) string {
	t.Helper()
	b, err := spec.EncodeComponent(spec.Component{Kind: "conv2d", Config: config})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGraphErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown input", "inputs: [input, second]", "inputs: [input, secnd]",
			`g.yaml:13:19: model.blocks.res.layers[2].inputs: no layer "secnd" before it in block res (did you mean "second"?) (in block res, used at model.layers[1] (g.yaml:17:7))`},
		{"error in a block", "filters: $filters, kernel: 3", "filters: -1, kernel: 3",
			`g.yaml:10:29: model.blocks.res.layers[1].filters: must be at least 1, got -1 (in block res, used at model.layers[1] (g.yaml:17:7))`},
		{"unknown block param", "res: {kernel: 5}", "res: {kernal: 5}",
			`g.yaml:17:13: model.layers[1].res.kernal: block res has no param "kernal" (did you mean "kernel"?)`},
		{"unknown top input", "name: stem", "name: stem\n      inputs: [nope]",
			`g.yaml:17:15: model.layers[0].inputs: no layer named "nope"`},
		{"cycle", "    - flatten\n", "    - flatten:\n      inputs: [dense]\n",
			`g.yaml:20:15: model.layers[2].inputs: the layers form a cycle: dense -> flatten -> dense`},
		{"dangling", "    - flatten\n", "    - dense: {units: 3}\n      name: spare\n    - flatten:\n      inputs: [res_1]\n",
			`g.yaml:19:7: model.layers[2]: the output of layer spare reaches no output of the model`},
		{"duplicate name", "    - flatten\n", "    - flatten:\n      name: stem\n",
			`g.yaml:20:13: model.layers[2].name: layer name "stem" is used twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(graphSpec, tc.from, tc.to, 1)
			if src == graphSpec {
				t.Fatal("the test's edit did not apply")
			}
			_, err := spec.Parse("g.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
