package arrowio

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
)

const arrowKindOutputs = "outputs"

// WriteOutputs writes a model's outputs for named inputs (pipe predict's
// reconstructions of images) to path as an Arrow IPC file with columns
// input (utf8, the input's name) and column (out's examples, a
// fixed_size_list<float32> whose field metadata pipe.shape holds one
// example's shape, as in a split file).
func WriteOutputs(path string, inputs []string, column string, out *data.Array) error {
	n, err := checkArray(out)
	if err != nil {
		return err
	}
	if n != len(inputs) || out.DType != data.Float32 || out.Ragged() || len(out.Shape) == 0 {
		return fmt.Errorf("outputs: %d names for %d rows of %s", len(inputs), n, out.Schema)
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(inputs, nil)
	names := b.NewArray()
	defer names.Release()
	values, typ, err := arrowColumn(out)
	if err != nil {
		return err
	}
	defer values.Release()
	shape, _ := json.Marshal(out.Shape)
	fields := []arrow.Field{
		{Name: "input", Type: arrow.BinaryTypes.String},
		{Name: column, Type: typ, Metadata: arrow.NewMetadata([]string{arrowKeyDType, arrowKeyShape}, []string{string(out.DType), string(shape)})},
	}
	md := arrow.NewMetadata([]string{arrowKeyKind, arrowKeyRows}, []string{arrowKindOutputs, strconv.Itoa(n)})
	rec := array.NewRecordBatch(arrow.NewSchema(fields, &md), []arrow.Array{names, values}, int64(n))
	defer rec.Release()
	return writeArrowFile(path, rec)
}
