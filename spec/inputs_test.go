package spec_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// inputsSpec is a dot-product recommender on two named inputs.
const inputsSpec = `name: cf
data: {loader: movielense}
model:
  inputs:
    - {name: user, shape: [1]}
    - {name: item, shape: [1], columns: [1, 2]}
  layers:
    - embedding: {input_dim: 5, output_dim: 3}
      name: u
      inputs: [user]
    - flatten
    - embedding: {input_dim: 4, output_dim: 3}
      name: v
      inputs: [item]
    - flatten
    - dot: {axes: [1]}
      inputs: [flatten, flatten_1]
train: {loss: mse, optimizer: sgd}
`

func TestModelInputs(t *testing.T) {
	s, err := spec.Parse("cf.yaml", []byte(inputsSpec))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range s.Model.Layers {
		got = append(got, l.Name+"<-"+strings.Join(l.Inputs, "+"))
	}
	want := "u<-user flatten<-u v<-item flatten_1<-v dot<-flatten+flatten_1"
	if strings.Join(got, " ") != want {
		t.Errorf("layers:\n got %v\nwant %s", got, want)
	}
	in := s.Model.Inputs
	if len(in) != 2 || in[0].Name != "user" || in[0].Columns != nil || in[1].Name != "item" || len(in[1].Columns) != 2 || in[1].Columns[1] != 2 {
		t.Errorf("inputs: %+v", in)
	}
	// The resolved spec keeps them and reads back the same.
	out, err := spec.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "name: item") || !strings.Contains(string(out), "columns: [1, 2]") {
		t.Errorf("resolved spec:\n%s", out)
	}
	if _, err := spec.Parse("resolved.yaml", out); err != nil {
		t.Errorf("resolved spec: %v\n%s", err, out)
	}
}

func TestModelInputsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown input", "inputs: [item]", "inputs: [iten]",
			`cf.yaml:14:15: model.layers[2].inputs: no layer named "iten" (did you mean "item"?)`},
		{"unread input", "      inputs: [item]\n", "      inputs: [user]\n",
			`cf.yaml:6:7: model.inputs[1]: no layer reads input item: read it (inputs: [item]) or remove it`},
		{"first layer names none", "      name: u\n      inputs: [user]\n", "      name: u\n",
			`cf.yaml:8:7: model.layers[0].inputs: layer u reads no input: the model has several (user, item), so the first layer names what it reads`},
		{"both input and inputs", "model:\n", "model:\n  input: {shape: [2]}\n",
			`cf.yaml:5:3: model.inputs: give either input (one input, named input) or inputs (several named ones), not both`},
		{"input named twice", "{name: item, shape: [1], columns: [1, 2]}", "{name: user, shape: [1], columns: [1, 2]}",
			`cf.yaml:6:14: model.inputs[1].name: input name "user" is used twice`},
		{"bad columns", "columns: [1, 2]", "columns: [2, 1]",
			`cf.yaml:6:41: model.inputs[1].columns: want [from, to] with from < to`},
		{"negative column", "columns: [1, 2]", "columns: [-1, 2]",
			`cf.yaml:6:42: model.inputs[1].columns[0]: must be at least 0, got -1`},
		{"layer named as an input", "      name: u\n", "      name: item\n",
			`cf.yaml:9:13: model.layers[0].name: layer name "item" names a model input`},
		{"no shape", "{name: user, shape: [1]}", "{name: user}",
			`cf.yaml:5:7: model.inputs[0].shape: required field is missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(inputsSpec, tc.from, tc.to, 1)
			if src == inputsSpec {
				t.Fatal("the test's edit did not apply")
			}
			_, err := spec.Parse("cf.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
