package spec_test

import (
	"errors"
	"fmt"

	"github.com/pipe-ml/pipe/spec"
)

// Parse reports every problem of a spec at once, each at its file:line:col
// with the field path, and suggests the closest name for a misspelling.
// The registries of components are filled by the packages that provide
// them (this test imports pipeline, which imports them all).
func ExampleParse() {
	src := `name: bad
data:
  loader: mnist
model:
  input: {shape: [28, 28]}
  layers:
    - flatten
    - dense: {unit: 10}
    - dropuot: {rate: 0.5}
train:
  optimizer: {name: adam, learning_rate: -1}
`
	_, err := spec.Parse("bad.yaml", []byte(src))
	fmt.Println(err)

	// The errors are a spec.ErrorList, for code that wants the fields.
	var list spec.ErrorList
	if errors.As(err, &list) {
		e := list[0]
		fmt.Printf("%d errors; the first at line %d, column %d of %s, field %s\n", len(list), e.Pos.Line, e.Pos.Col, e.Pos.File, e.Path)
	}
	// Output:
	// bad.yaml:8:14: model.layers[1].units: required field is missing
	// bad.yaml:8:15: model.layers[1].unit: unknown field "unit" for layer dense (did you mean "units"?)
	// bad.yaml:9:7: model.layers[2]: unknown layer "dropuot" (did you mean "dropout"?)
	// bad.yaml:11:42: train.optimizer.learning_rate: must be at least 0, got -1
	// 4 errors; the first at line 8, column 14 of bad.yaml, field model.layers[1].units
}
