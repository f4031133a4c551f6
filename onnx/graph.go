package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
)

// graphBuilder collects the nodes and initializers of one ONNX graph. Names
// are made unique here, so that a mapping can name what it adds after its
// stage ("conv2d/W", "conv2d/Conv") without checking for clashes.
type graphBuilder struct {
	g     *onnxpb.GraphProto
	names map[string]int
}

func newGraphBuilder(name string) *graphBuilder {
	return &graphBuilder{g: &onnxpb.GraphProto{Name: proto.String(name)}, names: map[string]int{}}
}

// unique returns name, or name_2, name_3, ... when it is taken.
func (b *graphBuilder) unique(name string) string {
	b.names[name]++
	if n := b.names[name]; n > 1 {
		return b.unique(fmt.Sprintf("%s_%d", name, n))
	}
	return name
}

// attr is one node attribute; made by the ints, int1, float1, str1 and strs helpers.
type attr = *onnxpb.AttributeProto

func ints(name string, v ...int) attr {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: out}
}

func int1(name string, v int) attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(v))}
}

func float1(name string, v float32) attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func str1(name, v string) attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func strs(name string, v ...string) attr {
	out := make([][]byte, len(v))
	for i, x := range v {
		out[i] = []byte(x)
	}
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: out}
}

// node adds an op whose outputs are named after name and returns them.
func (b *graphBuilder) node(op, name string, inputs []string, outputs int, attrs ...attr) []string {
	n := &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(b.unique(name + "/" + op)), Input: inputs, Attribute: attrs}
	out := make([]string, outputs)
	for i := range out {
		if outputs == 1 {
			out[i] = b.unique(name + "/" + op + ":0")
		} else {
			out[i] = b.unique(fmt.Sprintf("%s/%s:%d", name, op, i))
		}
	}
	n.Output = out
	b.g.Node = append(b.g.Node, n)
	return out
}

// op adds a node with one output and returns its name.
func (b *graphBuilder) op(op, name string, inputs []string, attrs ...attr) string {
	return b.node(op, name, inputs, 1, attrs...)[0]
}

// identity names value x as a graph output, name.
func (b *graphBuilder) identity(x, name string) {
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(b.unique(name + "/Identity")), Input: []string{x}, Output: []string{name}})
}

// initializer adds a constant tensor, its values little-endian in raw_data
// (the compact form every runtime reads), and returns its name.
func (b *graphBuilder) initializer(name string, t onnxpb.TensorProto_DataType, dims []int, raw []byte) string {
	d := make([]int64, len(dims))
	for i, x := range dims {
		d[i] = int64(x)
	}
	name = b.unique(name)
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(t)), Dims: d, RawData: raw})
	return name
}

func (b *graphBuilder) floats(name string, dims []int, v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return b.initializer(name, onnxpb.TensorProto_FLOAT, dims, raw)
}

func (b *graphBuilder) int64s(name string, dims []int, v []int64) string {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return b.initializer(name, onnxpb.TensorProto_INT64, dims, raw)
}

func (b *graphBuilder) int32s(name string, dims []int, v []int32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(x))
	}
	return b.initializer(name, onnxpb.TensorProto_INT32, dims, raw)
}

func (b *graphBuilder) bools(name string, dims []int, v []bool) string {
	raw := make([]byte, len(v))
	for i, x := range v {
		if x {
			raw[i] = 1
		}
	}
	return b.initializer(name, onnxpb.TensorProto_BOOL, dims, raw)
}

// scalar is a float32 constant of rank 0.
func (b *graphBuilder) scalar(name string, v float32) string {
	return b.floats(name, nil, []float32{v})
}

// axes is an int64 vector constant: the axes of Squeeze, ReduceSum, and
// the shapes of Reshape.
func (b *graphBuilder) axes(name string, v ...int) string {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return b.int64s(name, []int{len(v)}, out)
}

// elemType is the ONNX element type of a pipe dtype.
func elemType(dt data.DType) onnxpb.TensorProto_DataType {
	if dt == data.Int32 {
		return onnxpb.TensorProto_INT32
	}
	return onnxpb.TensorProto_FLOAT
}

// valueInfo describes a graph input or output: its element type and
// shape, whose dims are fixed sizes (>0) or named symbols (batch "N").
func valueInfo(name, doc string, t onnxpb.TensorProto_DataType, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		switch v := d.(type) {
		case int:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}
		case string:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name), DocString: proto.String(doc),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(t)), Shape: shape}}},
	}
}
