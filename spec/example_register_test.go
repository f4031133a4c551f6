package spec_test

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// ScaleBy multiplies its input by a factor, constant or learned. Its
// struct tags declare the params: the YAML name and checks in `pipe`, the
// text of `pipe doc` in `doc`.
type ScaleBy struct {
	Factor float64 `pipe:"factor,min=0" doc:"the factor; the starting value when learned"`
	Learn  bool    `pipe:"learn" doc:"train the factor (one scalar)"`
}

// OutputShape is the input's: the layer is element-wise.
func (*ScaleBy) OutputShape(in []int) ([]int, error) { return in, nil }

// Params counts the learned factor, for the summary and metrics.json.
func (l *ScaleBy) Params([]int) int {
	if l.Learn {
		return 1
	}
	return 0
}

// Build multiplies x (batch axis first) by the factor.
func (l *ScaleBy) Build(b *ops.Builder, x *graph.Node) *graph.Node {
	if !l.Learn {
		return graph.MulScalar(x, l.Factor)
	}
	// The builder's scope is the layer's own, so "factor" is unique.
	f := b.Scope.VariableWithValue("factor", float32(l.Factor)).NodeValue(b.Graph)
	return graph.Mul(x, f)
}

// Registering in init() makes the layer known before any spec is decoded,
// and only once however often the example runs. The constructor returns
// the params struct with its defaults.
func init() {
	ops.Layers.Register("scale_by", "Multiplies its input by a factor, constant or learned.",
		func() ops.Layer { return &ScaleBy{Factor: 1} })
}

// A layer registered from Go is used in a spec by name, like a built-in
// one; its params are decoded and checked from its struct tags. See
// examples/custom for a whole program that also registers a loader.
func ExampleRegistry_Register() {
	src := `name: scaled
data: {loader: mnist}
model:
  input: {shape: [28, 28]}
  layers:
    - scale_by: {factor: 0.5, learn: true}
    - flatten
    - dense: {units: 10, activation: softmax}
train: {loss: sparse_categorical_crossentropy, optimizer: adam}
`
	s, err := spec.Parse("scaled.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := pipeline.Compile(s)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The summary lists the layer with the count its Params gave.
	// (WriteSummary pads every column, the last one too; the spaces at
	// the line ends are cut here since an Output comment cannot keep them.)
	var table strings.Builder
	plan.WriteSummary(&table)
	for line := range strings.Lines(table.String()) {
		fmt.Println(strings.TrimRight(line, " \n"))
	}

	// Its params are checked like a built-in layer's.
	_, err = spec.Parse("bad.yaml", []byte(`name: bad
data: {loader: mnist}
model:
  input: {shape: [28, 28]}
  layers: [scale_by: {factor: -2}]
`))
	fmt.Println(err)
	// Output:
	// Model: "scaled"
	// _________________________________________________________________
	//  Layer (type)                Output Shape              Param #
	// =================================================================
	//  scale_by (scale_by)         (None, 28, 28)            1
	//  flatten (flatten)           (None, 784)               0
	//  dense (dense)               (None, 10)                7,850
	// =================================================================
	// Total params: 7,851
	// Trainable params: 7,851
	// Non-trainable params: 0
	// _________________________________________________________________
	// bad.yaml:5:31: model.layers[0].factor: must be at least 0, got -2
}
