package spec_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// mnist is specs/mnist_cnn.yaml as shipped, so that line numbers below are
// those of a realistic spec.
const mnist = `# The course's small CNN on MNIST (Keras: mnist_cnn). 40,124 parameters.
name: mnist_cnn
seed: 1337
data:
  loader: mnist
  transforms:
    - scale: {divide: 255}
    - reshape: {shape: [28, 28, 1]}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 3, kernel: 5, activation: relu}
    - conv2d: {filters: 3, kernel: 5, activation: relu}
    - max_pool2d: {pool: 2}
    - dropout: {rate: 0.25}
    - flatten
    - dense: {units: 128, activation: relu}
    - dropout: {rate: 0.5}
    - dense: {units: 10, activation: softmax}
train:
  loss: categorical_crossentropy
  # The course ran Keras 2.0, whose Adadelta had learning rate 1.0.
  optimizer: {name: adadelta, learning_rate: 1.0}
  batch_size: 128
  shards: 2 # two halves of each batch side by side: one per core of a 2-core machine
  epochs: 20
  validation: test
evaluate: [loss, accuracy]
golden: {train: 2048, test: 512, epochs: 1, tolerance: 0.0001}
`

// withLine returns mnist with its line n (1-based) replaced by text.
func withLine(n int, text string) string {
	lines := strings.Split(mnist, "\n")
	lines[n-1] = text
	return strings.Join(lines, "\n")
}

// TestYAMLSyntaxErrorPosition: a syntax error names the offending line and
// column, not the start of the enclosing mapping, and shows that line with
// a caret under the column.
func TestYAMLSyntaxErrorPosition(t *testing.T) {
	if _, err := spec.Parse("mnist_cnn.yaml", []byte(mnist)); err != nil {
		t.Fatalf("the unbroken spec: %v", err)
	}
	for _, c := range []struct {
		name, src, want string
	}{{
		name: "bad indent",
		src:  withLine(25, " batch_size: 128"),
		want: "mnist_cnn.yaml:25:2: invalid YAML: value is not allowed in this context\n" +
			"   batch_size: 128\n" +
			"   ^",
	}, {
		// goccy points at "categorical_crossentropy", which line 23 continues.
		name: "indented under a plain value",
		src:  withLine(23, "    batch_size: 64"),
		want: "mnist_cnn.yaml:23:5: invalid YAML: this line is indented deeper than the key above it, so YAML reads it as more of that key's value, where ':' is not allowed\n" +
			"      batch_size: 64\n" +
			"      ^",
	}, {
		name: "tab",
		src:  withLine(4, "\tdata:"),
		want: "mnist_cnn.yaml:4:1: invalid YAML: found character '\\t' that cannot start any token\n" +
			"  \tdata:\n" +
			"  ^",
	}, {
		name: "tab after spaces",
		src:  withLine(12, "  \tlayers:"),
		want: "mnist_cnn.yaml:12:3: invalid YAML: found character '\\t' that cannot start any token\n" +
			"    \tlayers:\n" +
			"    ^",
	}, {
		name: "unclosed brace",
		src:  withLine(5, "  loader: {name: mnist"),
		want: "mnist_cnn.yaml:5:11: invalid YAML: this \"{\" is not closed (',' or '}' must be specified before line 6)\n" +
			"    loader: {name: mnist\n" +
			"            ^",
	}, {
		name: "unclosed bracket at the end",
		src:  withLine(29, "evaluate: [loss, accuracy"),
		want: "mnist_cnn.yaml:29:11: invalid YAML: this \"[\" is not closed (',' or ']' must be specified before line 30)\n" +
			"  evaluate: [loss, accuracy\n" +
			"            ^",
	}, {
		// On one line the token after the missing comma is the fault.
		name: "missing comma",
		src:  withLine(11, "  input: {shape: [28, 28, 1] x: 1}"),
		want: "mnist_cnn.yaml:11:30: invalid YAML: ',' or '}' must be specified\n" +
			"    input: {shape: [28, 28, 1] x: 1}\n" +
			"                               ^",
	}} {
		_, err := spec.Parse("mnist_cnn.yaml", []byte(c.src))
		list, ok := spec.AsList(err)
		if !ok || len(list) != 1 {
			t.Errorf("%s: want one positioned error, got %v", c.name, err)
			continue
		}
		if got := list[0].Error(); got != c.want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

// TestYAMLErrorFallback: where goccy/go-yaml accepts what yaml/v3 rejects,
// yaml/v3's message stands, with no caret at a column nobody located.
func TestYAMLErrorFallback(t *testing.T) {
	_, err := spec.Parse("a.yaml", []byte(withLine(22, "  loss: *nope")))
	list, ok := spec.AsList(err)
	if !ok || len(list) != 1 {
		t.Fatalf("want one positioned error, got %v", err)
	}
	if got, want := list[0].Error(), "a.yaml: invalid YAML: unknown anchor 'nope' referenced"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// Too deep for yaml/v3: goccy/go-yaml is not asked (it would take
	// minutes over this) and yaml/v3's message stands.
	_, err = spec.Parse("deep.yaml", []byte(strings.Repeat("[", 100000)))
	if want := "deep.yaml: invalid YAML: exceeded max depth of 10000"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestErrorSnippet(t *testing.T) {
	e := &spec.Error{Pos: spec.Pos{File: "f.yaml", Line: 2, Col: 4}, Path: "a.b", Msg: "bad", Source: "\t ab: 1"}
	if got, want := e.Error(), "f.yaml:2:4: a.b: bad\n  \t ab: 1\n  \t  ^"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
