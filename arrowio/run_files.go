package arrowio

// Arrow files of a run directory: predictions.arrow (one row per test
// example) and history.arrow (one row per epoch), for pandas, polars, DuckDB
// or a notebook to read without knowing pipe.

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
)

// PredictionRows are a model's outputs on the test split, one entry per
// example, for predictions.arrow.
type PredictionRows struct {
	Index         []int64     // the example's position in the test split
	Label         []float32   // class index, rating or 0/1
	Prediction    []float32   // predicted class index, or predicted value
	Probabilities [][]float32 // per row class probabilities; nil when not a classifier
	ClassNames    []string    // names of the probability columns' classes; may be nil
}

// Metadata of predictions.arrow and history.arrow.
const (
	arrowKindPredictions = "predictions"
	arrowKindHistory     = "history"
	arrowKeyClassNames   = "pipe.class_names" // JSON array, on the probabilities field
)

// WritePredictions writes rows to path as an Arrow IPC file with
// columns index (int64), label (float32), prediction (float32) and, for a
// classifier, probabilities (fixed_size_list<float32>[classes]).
func WritePredictions(path string, rows PredictionRows) error {
	n := len(rows.Index)
	if len(rows.Label) != n || len(rows.Prediction) != n {
		return fmt.Errorf("predictions: %d indices, %d labels, %d predictions", n, len(rows.Label), len(rows.Prediction))
	}
	fields := []arrow.Field{
		{Name: "index", Type: arrow.PrimitiveTypes.Int64},
		{Name: "label", Type: arrow.PrimitiveTypes.Float32},
		{Name: "prediction", Type: arrow.PrimitiveTypes.Float32},
	}
	cols := []arrow.Array{
		primitiveArray(arrow.PrimitiveTypes.Int64, bytesOf(rows.Index), n),
		primitiveArray(arrow.PrimitiveTypes.Float32, bytesOf(rows.Label), n),
		primitiveArray(arrow.PrimitiveTypes.Float32, bytesOf(rows.Prediction), n),
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if rows.Probabilities != nil {
		if len(rows.Probabilities) != n {
			return fmt.Errorf("predictions: %d rows of probabilities for %d examples", len(rows.Probabilities), n)
		}
		k := len(rows.ClassNames)
		if k == 0 && n > 0 {
			k = len(rows.Probabilities[0])
		}
		if k == 0 {
			return fmt.Errorf("predictions: probabilities over no classes")
		}
		flat := make([]float32, 0, n*k)
		for i, p := range rows.Probabilities {
			if len(p) != k {
				return fmt.Errorf("predictions: row %d has %d probabilities; want %d", i, len(p), k)
			}
			flat = append(flat, p...)
		}
		names := rows.ClassNames
		if names == nil {
			names = []string{}
		}
		namesJSON, err := json.Marshal(names)
		if err != nil {
			return err
		}
		typ := arrow.FixedSizeListOfNonNullable(int32(k), arrow.PrimitiveTypes.Float32)
		child := primitiveData(arrow.PrimitiveTypes.Float32, bytesOf(flat), len(flat))
		data := array.NewData(typ, n, []*memory.Buffer{nil}, []arrow.ArrayData{child}, 0, 0)
		child.Release()
		cols = append(cols, array.MakeFromData(data))
		data.Release()
		fields = append(fields, arrow.Field{Name: "probabilities", Type: typ,
			Metadata: arrow.NewMetadata([]string{arrowKeyClassNames}, []string{string(namesJSON)})})
	}
	md := arrow.NewMetadata([]string{arrowKeyKind, arrowKeyVersion}, []string{arrowKindPredictions, "1"})
	rec := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, int64(n))
	defer rec.Release()
	return writeArrowFile(path, rec)
}

// WriteHistory writes h to path as an Arrow IPC file with one row per
// epoch: epoch (int32, from 1), then one float64 column per series in
// h.Names order, holding exactly the values history.json holds.
func WriteHistory(path string, h *data.History) error {
	if len(h.Values) != len(h.Names) {
		return fmt.Errorf("history: %d names for %d series", len(h.Names), len(h.Values))
	}
	epochs := 0
	if len(h.Values) > 0 {
		epochs = len(h.Values[0])
	}
	fields := []arrow.Field{{Name: "epoch", Type: arrow.PrimitiveTypes.Int32}}
	epoch := make([]int32, epochs)
	for i := range epoch {
		epoch[i] = int32(i + 1)
	}
	cols := []arrow.Array{primitiveArray(arrow.PrimitiveTypes.Int32, bytesOf(epoch), epochs)}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	seen := map[string]bool{"epoch": true}
	for i, name := range h.Names {
		if seen[name] {
			return fmt.Errorf("history: series %q twice (or named epoch)", name)
		}
		seen[name] = true
		if len(h.Values[i]) != epochs {
			return fmt.Errorf("history: series %s has %d epochs but %s has %d", name, len(h.Values[i]), h.Names[0], epochs)
		}
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64})
		cols = append(cols, primitiveArray(arrow.PrimitiveTypes.Float64, bytesOf(h.Values[i]), epochs))
	}
	md := arrow.NewMetadata([]string{arrowKeyKind, arrowKeyVersion, "pipe.epochs"}, []string{arrowKindHistory, "1", strconv.Itoa(epochs)})
	rec := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, int64(epochs))
	defer rec.Release()
	return writeArrowFile(path, rec)
}

// primitiveArray is a null-free array of n elements over raw, without copying.
func primitiveArray(typ arrow.DataType, raw []byte, n int) arrow.Array {
	data := primitiveData(typ, raw, n)
	defer data.Release()
	return array.MakeFromData(data)
}
