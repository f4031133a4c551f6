package loaders

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/pipe-ml/pipe/data"
)

// Parquet files are read with arrow-go's parquet/file column readers, not
// with pqarrow: pqarrow imports Arrow Flight and with it gRPC, which every
// program linking loaders (the CLI, the tests) would then build, for a
// reader that needs four flat columns.

// readParquet reads the ratings of a Parquet file, row group by row group.
// arrow-go panics on some malformed files; that is a DataError here.
func (src *ratingSource) readParquet(path string, check *ratingChecker) (out []Rating, err error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, dataErr(path, "corrupt Parquet file: %v", r)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	// Run-length encoding lets a few bytes claim billions of values; a
	// ratings file needs some bits per row (no two rows share a user and
	// an item), so more rows than this are a corrupt or hostile file, not
	// one to decode until memory runs out.
	limit := 64*st.Size() + 1<<16
	rdr, err := file.NewParquetReader(f)
	if err != nil {
		return nil, dataErr(path, "not a readable Parquet file: %v", err)
	}
	defer rdr.Close()
	sc := rdr.MetaData().Schema
	names := make([]string, sc.NumColumns())
	for i := range names {
		names[i] = sc.Column(i).Path()
	}
	idx, err := src.resolveColumns(names, len(names), "schema")
	if err != nil {
		return nil, dataErr(path, "%v", err)
	}
	labels := src.columnLabels(names, idx)
	for r, i := range idx {
		if i >= 0 && sc.Column(i).MaxRepetitionLevel() > 0 {
			return nil, dataErr(path, "%s is a repeated (list) column; want one value per row", labels[r])
		}
	}
	row := 1
	for g := range rdr.NumRowGroups() {
		rg := rdr.RowGroup(g)
		var cols [nRoles]*valueColumn
		for r, i := range idx {
			if i < 0 {
				continue
			}
			if cols[r], err = readRatingsParquetColumn(rg, i, sc.Column(i), parquetBatchFor(rg.NumRows()), limit-int64(row-1)); err != nil {
				return nil, dataErr(path, "row group %d, %s: %v", g, labels[r], err)
			}
		}
		if out, err = addColumns(path, row, cols, &labels, check, out); err != nil {
			return nil, err
		}
		row += cols[roleUser].len()
	}
	return out, nil
}

// readRatingsParquetColumn reads column i of a row group whole, batch values at a
// time and at most limit.
func readRatingsParquetColumn(rg *file.RowGroupReader, i int, col *schema.Column, batch, limit int64) (*valueColumn, error) {
	chunk, err := rg.Column(i)
	if err != nil {
		return nil, err
	}
	maxDef := col.MaxDefinitionLevel()
	typ := col.PhysicalType().String()
	if lt := col.LogicalType(); lt != nil && !lt.IsNone() {
		typ += " (" + lt.String() + ")"
	}
	if parquetDecimal(col) {
		return nil, fmt.Errorf("type %s: decimal columns are not supported; write the values as float or double", typ)
	}
	unsigned := false
	if it, ok := col.LogicalType().(schema.IntLogicalType); ok {
		unsigned = !it.IsSigned()
	}
	c := &valueColumn{typ: typ, unsigned: unsigned}
	switch cr := chunk.(type) {
	case *file.Int32ColumnChunkReader:
		vals, null, err := readLevels(cr.ReadBatch, maxDef, batch, limit)
		if err != nil {
			return nil, err
		}
		c.ints, c.null = spread(vals, null, func(v int32) int64 {
			if unsigned {
				return int64(uint32(v))
			}
			return int64(v)
		}), nullOrNil(null)
	case *file.Int64ColumnChunkReader:
		vals, null, err := readLevels(cr.ReadBatch, maxDef, batch, limit)
		if err != nil {
			return nil, err
		}
		c.ints, c.null = spread(vals, null, func(v int64) int64 { return v }), nullOrNil(null)
	case *file.Float32ColumnChunkReader:
		vals, null, err := readLevels(cr.ReadBatch, maxDef, batch, limit)
		if err != nil {
			return nil, err
		}
		c.floats, c.null = spread(vals, null, func(v float32) float64 { return float64(v) }), nullOrNil(null)
	case *file.Float64ColumnChunkReader:
		vals, null, err := readLevels(cr.ReadBatch, maxDef, batch, limit)
		if err != nil {
			return nil, err
		}
		c.floats, c.null = spread(vals, null, func(v float64) float64 { return v }), nullOrNil(null)
	case *file.ByteArrayColumnChunkReader:
		vals, null, err := readLevels(cr.ReadBatch, maxDef, batch, limit)
		if err != nil {
			return nil, err
		}
		c.strs, c.null = spread(vals, null, func(v parquet.ByteArray) string { return string(v) }), nullOrNil(null)
	default:
		return nil, fmt.Errorf("type %s is not supported; want integers, floats or strings", typ)
	}
	return c, nil
}
