package spec_test

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/spec"
)

// layers parses a spec whose model.layers are the given YAML lines (each
// indented four spaces, as in `good`); the layers start on line 6.
func layers(t *testing.T, lines ...string) (*spec.Spec, error) {
	t.Helper()
	src := "name: t\ndata: {loader: mnist}\nmodel:\n  input: {shape: [4]}\n  layers:\n" + strings.Join(lines, "\n") + "\n"
	return spec.Parse("s.yaml", []byte(src))
}

// TestScalarShorthand: `kind: value` sets a component's only param, or
// else its only required one.
func TestScalarShorthand(t *testing.T) {
	s, err := layers(t,
		"    - dropout: 0.5",
		"    - activation: relu",
		"    - dense: 10",
		"    - dense:",
		"        units: 3",
		"        activation: gelu",
		"        kernel_initializer: he_normal",
		"        kernel_regularizer: {l2: 0.0001}",
		"        bias_initializer: {constant: 0.1}",
		"        bias_regularizer: {l1_l2: {l1: 0.5}}",
		"    - conv1d: {filters: 2, kernel: 1, kernel_initializer: {random_normal: {stddev: 0.1}}}",
		"    - leaky_relu",
		"    - relu: {max_value: 6}",
	)
	if err != nil {
		t.Fatal(err)
	}
	l := s.Model.Layers
	if d := l[0].Config.(*ops.Dropout); d.Rate != 0.5 {
		t.Errorf("dropout: 0.5 gave %+v", d)
	}
	if a := l[1].Config.(*ops.Activation); a.Fn != "relu" {
		t.Errorf("activation: relu gave %+v", a)
	}
	if d := l[2].Config.(*ops.Dense); d.Units != 10 || d.Activation != "linear" {
		t.Errorf("dense: 10 gave %+v", d)
	}
	d := l[3].Config.(*ops.Dense)
	if d.Activation != "gelu" || d.KernelInitializer.Kind != "he_normal" || d.KernelRegularizer.Kind != "l2" ||
		d.KernelRegularizer.Config.(*ops.L2).L2 != 0.0001 || d.BiasInitializer.Config.(*ops.Constant).Value != 0.1 {
		t.Errorf("dense weights: %+v", d)
	}
	if r := d.BiasRegularizer.Config.(*ops.L1L2); r.L1 != 0.5 || r.L2 != 0.01 {
		t.Errorf("l1_l2 {l1: 0.5}: %+v, want l2 left at its default 0.01", r)
	}
	if p := d.KernelRegularizer.Path; p != "model.layers[3].kernel_regularizer" {
		t.Errorf("kernel_regularizer path %q", p)
	}
	if c := l[4].Config.(*ops.Conv1D); c.KernelInitializer.Config.(*ops.RandomNormal).Stddev != 0.1 {
		t.Errorf("conv1d kernel_initializer: %+v", c.KernelInitializer)
	}
	if r := l[6].Config.(*ops.ReLU); r.MaxValue == nil || *r.MaxValue != 6 {
		t.Errorf("relu max_value: %+v", r)
	}

	// The resolved spec keeps the choices and loads again; layers that
	// name none encode as before (no initializer keys).
	out, err := spec.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "kernel_regularizer: {l2: {l2: 0.0001}}") || strings.Contains(string(out), "{units: 10, activation: linear, use_bias: true, l2: 0, kernel") {
		t.Errorf("encoded:\n%s", out)
	}
	if _, err := spec.Parse("back.yaml", out); err != nil {
		t.Errorf("the encoded spec does not parse: %v\n%s", err, out)
	}
}

// TestShorthandErrors: a value where no single param can take it, and a
// value the param rejects, are errors at the value's line and column.
func TestShorthandErrors(t *testing.T) {
	_, err := layers(t,
		"    - conv2d: 3",
		"    - dropout: 2",
		"    - activation: rleu",
		"    - dense: {units: 2, kernel_initializer: {random_normal: 0.1}}",
		"    - dense: {units: 2, kernel_regularizer: {l1_l2: 0.1}}",
		"    - dense: {units: 2, kernel_initializer: he_normall}",
	)
	list, ok := spec.AsList(err)
	if !ok {
		t.Fatalf("want errors, got %v", err)
	}
	want := []string{
		"s.yaml:6:15: model.layers[0]: conv2d takes its params as a mapping, e.g. conv2d: {filters: ..., kernel: ..., strides: [1, 1], dilation_rate: [1, 1], padding: valid, activation: linear, use_bias: true, kernel_initializer: ..., ",
		"s.yaml:7:16: model.layers[1].rate: must be at most 0.999, got 2",
		`s.yaml:8:19: model.layers[2].activation: "rleu" is not supported (did you mean "elu" or "relu"?)`,
		"s.yaml:9:61: model.layers[3].kernel_initializer: random_normal takes its params as a mapping, e.g. random_normal: {mean: 0, stddev: 0.05}; got 0.1",
		"s.yaml:10:53: model.layers[4].kernel_regularizer: l1_l2 takes its params as a mapping, e.g. l1_l2: {l1: 0.01, l2: 0.01}; got 0.1",
		`s.yaml:11:45: model.layers[5].kernel_initializer: unknown initializer "he_normall" (did you mean "he_normal"?)`,
	}
	if len(list) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d:\n got %q\nwant %q...", i, list[i], w)
		}
	}
}

// TestShorthandOverride: --set reaches into a shorthand component, whose
// value stays unless the override sets that very param.
func TestShorthandOverride(t *testing.T) {
	src := "name: t\ndata: {loader: mnist}\nmodel:\n  input: {shape: [4]}\n  layers:\n    - dense: 10\n    - dropout: 0.5\n"
	path := write(t, t.TempDir(), "s.yaml", src)
	s, err := spec.Load(path, "model.layers[0].activation=relu", "model.layers[1].rate=0.25")
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Model.Layers[0].Config.(*ops.Dense); d.Units != 10 || d.Activation != "relu" {
		t.Errorf("dense: %+v", d)
	}
	if d := s.Model.Layers[1].Config.(*ops.Dropout); d.Rate != 0.25 {
		t.Errorf("dropout: %+v", d)
	}
}
