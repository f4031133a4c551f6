package loaders

import (
	"fmt"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Transforms.Register("scale", "Divides features by a constant (after subtracting an offset): x' = (x - subtract) / divide.",
		func() Transform { return &Scale{Divide: 1, On: "x"} })
	Transforms.Register("reshape", "Gives each example a new shape with the same number of elements, like Keras' Reshape.",
		func() Transform { return &Reshape{On: "x"} })
	Transforms.Register("one_hot", "Turns integer class labels into one-hot float vectors of length classes.",
		func() Transform { return &OneHot{On: "y"} })
}

// Scale maps x to (x - Subtract) / Divide, element by element.
type Scale struct {
	Divide   float64 `pipe:"divide" doc:"divisor, e.g. 255 for 8-bit pixels; not zero"`
	Subtract float64 `pipe:"subtract" doc:"offset subtracted before dividing"`
	On       string  `pipe:"on,oneof=x|y" doc:"column to transform: x (features) or y (labels)"`
}

func (t *Scale) Column() string { return t.On }
func (t *Scale) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	return columnSchemas(t, x, y)
}
func (t *Scale) ApplyDataset(ds *data.Dataset) error { return applyColumn(t, ds) }
func (*Scale) PerBatch()                             {}

func (t *Scale) OutSchema(in data.Schema) (data.Schema, error) {
	if t.Divide == 0 {
		return in, fmt.Errorf("divide must not be 0")
	}
	return data.Schema{DType: data.Float32, Shape: in.Shape}, nil
}

func (t *Scale) Apply(a data.Array) (data.Array, error) {
	out := data.Array{Schema: data.Schema{DType: data.Float32, Shape: a.Shape}, Float: make([]float32, 0, a.Values()), Offsets: a.Offsets}
	sub, div := float32(t.Subtract), float32(t.Divide)
	for _, v := range a.Float {
		out.Float = append(out.Float, (v-sub)/div)
	}
	for _, v := range a.Int {
		out.Float = append(out.Float, (float32(v)-sub)/div)
	}
	// A byte converts to float32 exactly, as it did when loaders stored
	// pixels as floats: the result is the same to the bit.
	for _, v := range a.Bytes {
		out.Float = append(out.Float, (float32(v)-sub)/div)
	}
	return out, nil
}

// Reshape changes the per-example shape; -1 once infers a dimension.
type Reshape struct {
	Shape []int  `pipe:"shape,required,min=-1" doc:"new shape of one example; one entry may be -1"`
	On    string `pipe:"on,oneof=x|y" doc:"column to transform: x (features) or y (labels)"`
}

func (t *Reshape) Column() string { return t.On }
func (t *Reshape) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	return columnSchemas(t, x, y)
}
func (t *Reshape) ApplyDataset(ds *data.Dataset) error { return applyColumn(t, ds) }
func (*Reshape) PerBatch()                             {}

func (t *Reshape) OutSchema(in data.Schema) (data.Schema, error) {
	size := 1
	for _, d := range in.Shape {
		size *= d
	}
	out, known, infer := append([]int(nil), t.Shape...), 1, -1
	for i, d := range out {
		switch {
		case d == -1 && infer >= 0:
			return in, fmt.Errorf("only one dimension may be -1")
		case d == -1:
			infer = i
		case d == 0:
			return in, fmt.Errorf("dimension %d is 0", i)
		default:
			known *= d
		}
	}
	if infer >= 0 && size%known == 0 {
		out[infer] = size / known
		known = size
	}
	if known != size {
		return in, fmt.Errorf("cannot reshape %v (%d elements) to %v", in.Shape, size, t.Shape)
	}
	in.Shape = out
	return in, nil
}

func (t *Reshape) Apply(a data.Array) (data.Array, error) {
	s, err := t.OutSchema(a.Schema)
	a.Schema = s
	return a, err
}

// OneHot turns labels 0..classes-1 into one-hot vectors.
type OneHot struct {
	Classes int    `pipe:"classes,required,min=2" doc:"number of classes"`
	On      string `pipe:"on,oneof=x|y" doc:"column to transform: x (features) or y (labels)"`
}

func (t *OneHot) Column() string { return t.On }
func (t *OneHot) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	return columnSchemas(t, x, y)
}
func (t *OneHot) ApplyDataset(ds *data.Dataset) error { return applyColumn(t, ds) }
func (*OneHot) PerBatch()                             {}

func (t *OneHot) OutSchema(in data.Schema) (data.Schema, error) {
	if in.DType != data.Int32 {
		return in, fmt.Errorf("one_hot needs integer labels, got %s", in.DType)
	}
	if in.Classes > t.Classes {
		return in, fmt.Errorf("the data has %d classes, more than classes: %d", in.Classes, t.Classes)
	}
	return data.Schema{DType: data.Float32, Shape: append(append([]int(nil), in.Shape...), t.Classes)}, nil
}

func (t *OneHot) Apply(a data.Array) (data.Array, error) {
	out := data.Array{Schema: data.Schema{DType: data.Float32, Shape: append(append([]int(nil), a.Shape...), t.Classes)}, Float: make([]float32, len(a.Int)*t.Classes)}
	for i, c := range a.Int {
		if c < 0 || int(c) >= t.Classes {
			return a, fmt.Errorf("label %d of example %d is outside 0..%d", c, i, t.Classes-1)
		}
		out.Float[i*t.Classes+int(c)] = 1
	}
	return out, nil
}
