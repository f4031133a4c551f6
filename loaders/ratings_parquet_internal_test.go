package loaders

import (
	"strings"
	"testing"
)

// A column chunk whose run-length encoding claims endless values (a few
// bytes can) is cut off at the limit instead of decoded until memory runs
// out.
func TestParquetRowLimit(t *testing.T) {
	endless := func(batch int64, vals []int64, defs, _ []int16) (int64, int, error) {
		for i := range batch {
			vals[i], defs[i] = 7, 1
		}
		return batch, int(batch), nil
	}
	_, _, err := readLevels(endless, 1, 1000, 250_000)
	if err == nil || !strings.Contains(err.Error(), "more rows than a file of its size can hold (250000)") {
		t.Errorf("endless column: %v", err)
	}
	// Nulls are marked per row, and values placed at the rows that have one.
	defs := []int16{1, 0, 1}
	calls := 0
	three := func(batch int64, vals []int64, d, _ []int16) (int64, int, error) {
		if calls++; calls > 1 {
			return 0, 0, nil
		}
		copy(d, defs)
		vals[0], vals[1] = 4, 5
		return 3, 2, nil
	}
	vals, null, err := readLevels(three, 1, 8, 100)
	if err != nil || len(vals) != 2 || !null[1] || null[0] || null[2] {
		t.Fatalf("vals %v null %v err %v", vals, null, err)
	}
	if got := spread(vals, null, func(v int64) int64 { return v }); got[0] != 4 || got[2] != 5 {
		t.Errorf("spread %v", got)
	}
}
