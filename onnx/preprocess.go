package onnx

import (
	"fmt"
	"math"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
)

// input declares the graph's input and adds the spec's input transforms
// to the graph, so that the file takes examples as the loader gives them
// (pixels 0..255, token ids of any length) and a user of the file cannot
// forget a step. It returns the input, the value the first layer takes
// and a description of the preprocessing for the metadata.
//
// A rating_matrix transform is where the input begins: the graph takes
// the rating vector it makes (0 where missing), since that is a view of
// the whole dataset, not a step on one example.
func (b *stackBuilder) input() (*onnxpb.ValueInfoProto, tensor, string, error) {
	p := b.plan
	schema, _ := p.Loader.Schemas()
	// Pixels that the loader keeps as bytes go in as float32 0..255, as
	// they did before loaders kept bytes: the file's interface stays, and
	// scale's Cast to float is then no step at all.
	if schema.DType == data.Uint8 {
		schema.DType = data.Float32
	}
	what := fmt.Sprintf("examples as the %s loader gives them", p.LoaderName)
	steps := p.Steps
	for i, s := range steps {
		if rm, ok := s.Transform.(*loaders.RatingMatrix); ok {
			of := map[string]string{"item": "an item's training ratings by user", "user": "a user's training ratings by item"}[rm.By]
			what = fmt.Sprintf("rating vectors as rating_matrix (by: %s) makes them: %s, 0 where missing", rm.By, of)
			schema = data.Schema{DType: data.Float32, Shape: p.Input}
			for _, before := range steps[:i] {
				if ct, ok := before.Transform.(loaders.ColumnTransform); ok && ct.Column() == "x" {
					return nil, tensor{}, "", &UnsupportedError{p.Errorf(before.Path, "transform %s before rating_matrix cannot be exported to ONNX: the graph's input is the rating vector", before.Kind)}
				}
			}
			steps = steps[i+1:]
			break
		}
	}
	dims := []any{batchDim}
	for i, d := range schema.Shape {
		if d < 0 {
			dims = append(dims, fmt.Sprintf("L%d", i)) // ragged: any length
		} else {
			dims = append(dims, d)
		}
	}
	x := tensor{name: inputName, shape: schema.Shape, dtype: schema.DType}
	var done []string
	for _, s := range steps {
		switch s.Transform.(type) {
		case loaders.Corrupter, loaders.InputAsTarget:
			// A denoising model's noise and its clean target are training's:
			// the graph takes the noisy input as it is, as pipe predict does.
			continue
		}
		ct, ok := s.Transform.(loaders.ColumnTransform)
		if !ok {
			return nil, tensor{}, "", &UnsupportedError{p.Errorf(s.Path, "transform %s cannot be exported to ONNX: it works on the whole dataset, not one example", s.Kind)}
		}
		if ct.Column() != "x" {
			continue // labels are no part of inference
		}
		out, err := ct.OutSchema(data.Schema{DType: x.dtype, Shape: x.shape})
		if err != nil {
			return nil, tensor{}, "", p.Errorf(s.Path, "%s: %v", s.Kind, err)
		}
		var desc string
		switch t := ct.(type) {
		case *loaders.Scale:
			x, desc = b.scale(x, t)
		case *loaders.Reshape:
			x, desc, err = b.reshape(x, out.Shape)
		case *loaders.OneHot:
			x, desc = b.oneHot(x, t)
		case *loaders.PadSequences:
			x, desc = b.padSequences(x, t)
		case *loaders.Standardize:
			x, desc, err = b.standardize(x, t)
		default:
			return nil, tensor{}, "", &UnsupportedError{p.Errorf(s.Path, "transform %s has no ONNX mapping (pipe export maps scale, reshape, one_hot, pad_sequences and standardize of x)", s.Kind)}
		}
		if err != nil {
			return nil, tensor{}, "", &UnsupportedError{p.Errorf(s.Path, "%s: %v", s.Kind, err)}
		}
		x.shape, x.dtype = out.Shape, out.DType
		done = append(done, desc)
	}
	pre := "no preprocessing"
	if len(done) > 0 {
		pre = "in the graph: " + strings.Join(done, ", then ")
	}
	in := valueInfo(inputName, what, elemType(schema.DType), dims...)
	return in, x, pre, nil
}

// float converts an integer input to float32, as pipe's scale does.
func (b *stackBuilder) float(x tensor, name string) tensor {
	if x.dtype == data.Float32 {
		return x
	}
	x.name = b.op("Cast", name, []string{x.name}, int1("to", int(onnxpb.TensorProto_FLOAT)))
	x.dtype = data.Float32
	return x
}

// scale is (x - subtract) / divide in float32, the operations pipe does
// in the same order, so that the result is the same to the bit.
func (b *stackBuilder) scale(x tensor, t *loaders.Scale) (tensor, string) {
	x = b.float(x, "scale")
	if t.Subtract != 0 {
		x.name = b.op("Sub", "scale", []string{x.name, b.scalar("scale/subtract", float32(t.Subtract))})
	}
	x.name = b.op("Div", "scale", []string{x.name, b.scalar("scale/divide", float32(t.Divide))})
	return x, fmt.Sprintf("scale (x - %v) / %v", t.Subtract, t.Divide)
}

// standardize is (x - mean) / std with the statistics the run fitted, in
// float32 and in pipe's order, per channel (broadcast over the last axis)
// or per feature.
func (b *stackBuilder) standardize(x tensor, t *loaders.Standardize) (tensor, string, error) {
	mean, std := t.Stats()
	if mean == nil {
		return x, "", fmt.Errorf("no fitted statistics")
	}
	dims := []int{len(mean)}
	if t.Per == "pixel" {
		dims = x.shape
	}
	x.name = b.op("Sub", "standardize", []string{x.name, b.floats("standardize/mean", dims, mean)})
	x.name = b.op("Div", "standardize", []string{x.name, b.floats("standardize/std", dims, std)})
	return x, fmt.Sprintf("standardize per %s with the training split's %d means and standard deviations", t.Per, len(mean)), nil
}

// reshape gives each example the shape out; the batch axis stays dynamic.
func (b *stackBuilder) reshape(x tensor, out []int) (tensor, string, error) {
	shape := []int{-1}
	for _, d := range out {
		if d < 1 {
			return x, "", fmt.Errorf("the shape %v depends on the data (a ragged input)", out)
		}
		shape = append(shape, d)
	}
	x.name = b.op("Reshape", "reshape", []string{x.name, b.axes("reshape/shape", shape...)})
	return x, fmt.Sprintf("reshape to %v", out), nil
}

// oneHot appends an axis of classes. ONNX's OneHot gives a row of zeros
// for an id >= classes (and counts negative ids from the end), where pipe
// refuses the data. The ids go in as int64, the type every runtime
// implements OneHot for.
func (b *stackBuilder) oneHot(x tensor, t *loaders.OneHot) (tensor, string) {
	x.name = b.op("Cast", "one_hot", []string{x.name}, int1("to", int(onnxpb.TensorProto_INT64)))
	depth := b.int64s("one_hot/depth", nil, []int64{int64(t.Classes)})
	values := b.floats("one_hot/values", []int{2}, []float32{0, 1})
	x.name = b.op("OneHot", "one_hot", []string{x.name, depth, values}, int1("axis", -1))
	return x, fmt.Sprintf("one_hot over %d classes", t.Classes)
}

// padSequences pads or truncates axis 1 to maxlen as pipe's pad_sequences
// does, for inputs of any length: a single sequence as the loader gives
// it, or a batch that the caller padded to a common length on the same
// side and with the same value (then the graph's own padding and
// truncation give what pipe gives each sequence).
func (b *stackBuilder) padSequences(x tensor, t *loaders.PadSequences) (tensor, string) {
	const name = "pad_sequences"
	n := int64(t.MaxLen)
	// Truncate: the last maxlen (pre) or the first maxlen (post) elements.
	// Slice clamps, so a shorter sequence is kept whole.
	starts, ends := []int64{-n}, []int64{math.MaxInt64}
	if t.Truncating == "post" {
		starts, ends = []int64{0}, []int64{n}
	}
	x.name = b.op("Slice", name, []string{x.name, b.int64s(name+"/starts", []int{1}, starts), b.int64s(name+"/ends", []int{1}, ends), b.axes(name+"/axes", 1)})
	// Pad by maxlen - length (>= 0 after the slice) at the front (pre) or back.
	length := b.op("Shape", name, []string{x.name}, int1("start", 1), int1("end", 2))
	missing := b.op("Sub", name, []string{b.axes(name+"/maxlen", t.MaxLen), length})
	zero := b.axes(name+"/zero", 0)
	parts := []string{zero, missing, zero, zero} // pads: [begin axes..., end axes...]
	if t.Padding == "post" {
		parts = []string{zero, zero, zero, missing}
	}
	pads := b.op("Concat", name, parts, int1("axis", 0))
	value := b.int32s(name+"/value", nil, []int32{int32(t.Value)})
	if x.dtype == data.Float32 {
		value = b.scalar(name+"/value", float32(t.Value))
	}
	x.name = b.op("Pad", name, []string{x.name, pads, value})
	return x, fmt.Sprintf("pad_sequences to %d (padding %s with %d, truncating %s)", t.MaxLen, t.Padding, t.Value, t.Truncating)
}
