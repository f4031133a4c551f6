package loaders

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// readTableArrow appends the wanted columns of an Arrow IPC file (the file
// format, Feather v2) to raw, a record batch at a time from the file (it
// is never read whole). Values are formatted by Arrow's ValueStr, as
// the Parquet reader formats them; a dictionary-encoded column (pandas'
// category) reads as its values. checkTableArrow vets the metadata first,
// so that a corrupt file cannot make arrow-go allocate without bound, and a
// panic of arrow-go's reader becomes a DataError naming the file.
func readTableArrow(raw *tableRaw, path string) (err error) {
	f, err := openData(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return dataErr(path, "%v", err)
	}
	if err := checkTableArrow(f, st.Size()); err != nil {
		return dataErr(path, "%v", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = dataErr(path, "corrupt Arrow file: %v", p)
		}
	}()
	sc, next, release, err := arrowFileRecords(f)
	if err != nil {
		return dataErr(path, "%v", err)
	}
	defer release()
	have := make([]string, sc.NumFields())
	for i, fld := range sc.Fields() {
		have[i] = fld.Name
	}
	idx, err := columnIndex(path, have, raw.names)
	if err != nil {
		return err
	}
	for j, i := range idx {
		if t := sc.Field(i).Type; !arrowReadable(t) {
			return dataErr(path, "column %q has Arrow type %s; the table loader reads numbers, booleans and strings", raw.names[j], t)
		}
	}
	fileIdx := raw.addFile(path, false)
	row := int32(0)
	for {
		rec, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return dataErr(path, "corrupt Arrow file after row %d: %v", row, err)
		}
		n := int(rec.NumRows())
		for j, i := range idx {
			col := rec.Column(i)
			if col.Len() != n {
				return dataErr(path, "column %q has %d values in a batch of %d rows", raw.names[j], col.Len(), n)
			}
			dict, _ := col.(*array.Dictionary)
			for k := range n {
				if col.IsNull(k) || dict != nil && dict.Dictionary().IsNull(dict.GetValueIndex(k)) {
					raw.add(j, "", true)
				} else {
					raw.add(j, col.ValueStr(k), false)
				}
			}
		}
		for range n {
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

// arrowReadable reports whether values of type t read as a table cell.
func arrowReadable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.DICTIONARY:
		return arrowReadable(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}
