package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// graphSpec is a small residual model; each case of TestValidateGraph
// breaks it one way.
const graphSpec = `name: g
data:
  loader: mnist
  transforms: [{scale: {divide: 255}}, {reshape: {shape: [28, 28, 1]}}, {one_hot: {classes: 10}}]
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 4, kernel: 3, padding: same}
      name: a
    - conv2d: {filters: 4, kernel: 3, padding: same}
      name: b
    - add:
      inputs: [a, b]
    - flatten
    - dense: {units: 10, activation: softmax}
train: {loss: categorical_crossentropy, optimizer: adam}
`

// TestValidateGraph: pipe validate rejects an unknown input name, a cycle
// and shapes that do not merge, each at its line and field.
func TestValidateGraph(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if code, out, errOut := pipeCmd(t, "validate", write("good.yaml", graphSpec)); code != 0 {
		t.Fatalf("the good spec: %d %s %s", code, out, errOut)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown input", "inputs: [a, b]", "inputs: [a, c]", `unknown.yaml:13:15: model.layers[2].inputs: no layer named "c"`},
		{"cycle", "      name: a\n", "      name: a\n      inputs: [b]\n", `cycle.yaml:10:15: model.layers[0].inputs: the layers form a cycle: b -> a -> b`},
		{"shapes", "- conv2d: {filters: 4, kernel: 3, padding: same}\n      name: b", "- conv2d: {filters: 8, kernel: 3, padding: same}\n      name: b",
			`shapes.yaml:12:7: model.layers[2]: layer add on input shape (None, 28, 28, 4) and (None, 28, 28, 8): inputs of shapes (None, 28, 28, 4) and (None, 28, 28, 8) do not merge`},
	} {
		src := strings.Replace(graphSpec, c.from, c.to, 1)
		if src == graphSpec {
			t.Fatalf("%s: the edit did not apply", c.name)
		}
		file := strings.Fields(c.name)[0] + ".yaml"
		code, _, errOut := pipeCmd(t, "validate", write(file, src))
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d\n%s\nwant %s", c.name, code, errOut, c.want)
		}
	}
}
