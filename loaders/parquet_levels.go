package loaders

// The Parquet column reading the table and ratings loaders share: a column
// chunk read batch by batch through a typed reader's ReadBatch, nulls
// from the definition levels.

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/schema"
)

// parquetBatch is the most values decoded per call: it bounds what a row
// group's claimed size can make pipe allocate before any value is read.
const parquetBatch = 1 << 16

// parquetBatchFor is the batch for a row group of rows rows.
func parquetBatchFor(rows int64) int64 { return min(parquetBatch, max(rows, 1)) }

// parquetDecimal says whether col holds decimals, by its logical or its
// converted type.
func parquetDecimal(col *schema.Column) bool {
	_, dec := col.LogicalType().(schema.DecimalLogicalType)
	return dec || col.ConvertedType() == schema.ConvertedTypes.Decimal
}

// readLevels reads a column chunk to its end through read (a typed
// reader's ReadBatch) in batches, failing past limit rows, a bound from
// the file's size. The values of null rows are not stored, so vals holds
// only the non-null ones; null has an entry per row.
func readLevels[T any](read func(int64, []T, []int16, []int16) (int64, int, error), maxDef int16, batch, limit int64) (vals []T, null []bool, err error) {
	return parquetLevels(read, maxDef, batch, limit, "more rows than a file of its size can hold")
}

// parquetLevels is readLevels with what passing limit says.
func parquetLevels[T any](read func(int64, []T, []int16, []int16) (int64, int, error), maxDef int16, batch, limit int64, tooMany string) (vals []T, null []bool, err error) {
	buf := make([]T, batch)
	defs := make([]int16, batch)
	for {
		levels, n, err := read(batch, buf, defs, nil)
		if err != nil {
			return nil, nil, err
		}
		if levels == 0 {
			return vals, null, nil
		}
		if n > int(levels) {
			return nil, nil, fmt.Errorf("decoded %d values for %d rows", n, levels)
		}
		if int64(len(null))+levels > limit {
			return nil, nil, fmt.Errorf("%s (%d)", tooMany, limit)
		}
		vals = append(vals, buf[:n]...)
		for _, d := range defs[:levels] {
			null = append(null, maxDef > 0 && d < maxDef)
		}
		if count(null[len(null)-int(levels):]) != int(levels)-n {
			return nil, nil, fmt.Errorf("definition levels do not match the %d values decoded", n)
		}
	}
}

// spread places the non-null values at their rows.
func spread[T, U any](vals []T, null []bool, conv func(T) U) []U {
	out := make([]U, len(null))
	k := 0
	for j, isNull := range null {
		if !isNull {
			out[j] = conv(vals[k])
			k++
		}
	}
	return out
}

// nullOrNil drops a null mask that marks nothing.
func nullOrNil(null []bool) []bool {
	if count(null) == 0 {
		return nil
	}
	return null
}
