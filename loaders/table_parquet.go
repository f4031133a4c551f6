package loaders

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// Parquet is read with the column chunk readers of parquet/file rather
// than parquet/pqarrow: pqarrow imports arrow/flight and with it gRPC (some
// 60 packages) into every pipe binary, for a reader that needs none of it.
// A table is flat, so each column is one leaf with definition levels for
// its nulls.

// readTableParquet appends the wanted columns of a Parquet file to raw.
// The reader panics on some malformed files (as arrow-go's readers may);
// that becomes a DataError naming the file, never a crash.
func readTableParquet(raw *tableRaw, path string) (err error) {
	f, err := openData(path)
	if err != nil {
		return err
	}
	defer f.Close()
	defer func() {
		if p := recover(); p != nil {
			err = dataErr(path, "corrupt Parquet file: %v", p)
		}
	}()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return dataErr(path, "not a Parquet file: %v", err)
	}
	defer pr.Close()
	sc := pr.MetaData().Schema
	have := make([]string, sc.NumColumns())
	for i := range have {
		have[i] = sc.Column(i).Path()
	}
	idx, err := columnIndex(path, have, raw.names)
	if err != nil {
		return err
	}
	for j, i := range idx {
		col := sc.Column(i)
		if col.MaxRepetitionLevel() > 0 {
			return dataErr(path, "column %q is a list; the table loader reads flat columns", raw.names[j])
		}
		if parquetDecimal(col) {
			return dataErr(path, "column %q is a Parquet decimal, which the table loader does not read: store it as a float", raw.names[j])
		}
	}
	fileIdx := raw.addFile(path, false)
	row := int32(0)
	for g := range pr.NumRowGroups() {
		rg := pr.RowGroup(g)
		rows := rg.NumRows()
		if rows < 0 {
			return dataErr(path, "row group %d: %d rows", g, rows)
		}
		for j, i := range idx {
			cr, err := rg.Column(i)
			if err != nil {
				return dataErr(path, "row group %d, column %q: %v", g, raw.names[j], err)
			}
			got, err := readParquetColumn(raw, j, cr, rows)
			if err != nil {
				return dataErr(path, "row group %d, column %q: %v", g, raw.names[j], err)
			}
			if got != rows {
				return dataErr(path, "row group %d, column %q: %d values for %d rows", g, raw.names[j], got, rows)
			}
		}
		for range rows {
			row++
			raw.rowFile = append(raw.rowFile, fileIdx)
			raw.rowAt = append(raw.rowAt, row)
		}
		if err := raw.rowsDone(false); err != nil {
			return err
		}
	}
	return nil
}

// readParquetColumn appends up to rows values of one column chunk to
// column j of raw, formatted as Arrow formats them, and returns how many.
func readParquetColumn(raw *tableRaw, j int, cr file.ColumnChunkReader, rows int64) (int64, error) {
	maxDef := cr.Descriptor().MaxDefinitionLevel()
	switch cr := cr.(type) {
	case *file.BooleanColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, strconv.FormatBool)
	case *file.Int32ColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, func(v int32) string { return strconv.FormatInt(int64(v), 10) })
	case *file.Int64ColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, func(v int64) string { return strconv.FormatInt(v, 10) })
	case *file.Float32ColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) })
	case *file.Float64ColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
	case *file.ByteArrayColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, func(v parquet.ByteArray) string { return string(v) })
	case *file.FixedLenByteArrayColumnChunkReader:
		return parquetValues(raw, j, rows, maxDef, cr.ReadBatch, func(v parquet.FixedLenByteArray) string { return string(v) })
	}
	return 0, fmt.Errorf("Parquet type %s is not one the table loader reads", cr.Type())
}

// parquetValues reads a column chunk (parquetLevels), at most rows
// values, and appends them to column j of raw, formatted, nulls empty.
func parquetValues[T any](raw *tableRaw, j int, rows int64, maxDef int16, read func(int64, []T, []int16, []int16) (int64, int, error), format func(T) string) (int64, error) {
	vals, null, err := parquetLevels(read, maxDef, parquetBatchFor(rows), rows, "more values than the row group's rows")
	if err != nil {
		return 0, err
	}
	k := 0
	for _, isNull := range null {
		if isNull {
			raw.add(j, "", true)
			continue
		}
		raw.add(j, format(vals[k]), false)
		k++
	}
	return int64(len(null)), nil
}
