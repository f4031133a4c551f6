package arrowio

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/pipe-ml/pipe/data"
)

// TestWriteOutputs: one row per named input, its values a fixed-size list
// whose field carries the example's shape.
func TestWriteOutputs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.arrow")
	out := data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{2, 2, 1}}, Float: []float32{1, 2, 3, 4, 5, 6, 7, 8}}
	if err := WriteOutputs(path, []string{"a.png", "stdin"}, "reconstruction", &out); err != nil {
		t.Fatal(err)
	}
	_, rec := readArrowFile(t, path)
	names := rec.Column(0).(*array.String)
	values := rec.Column(1).(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
	shape, _ := rec.Schema().Field(1).Metadata.GetValue(arrowKeyShape)
	if rec.NumRows() != 2 || names.Value(1) != "stdin" || rec.Schema().Field(1).Name != "reconstruction" || !slices.Equal(values, out.Float) || shape != "[2,2,1]" {
		t.Errorf("read back %d rows, %v, %v, shape %s", rec.NumRows(), names, values, shape)
	}
	if err := WriteOutputs(path, []string{"a"}, "reconstruction", &out); err == nil {
		t.Error("one name for two rows was written")
	}
}
