package loaders

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readTableCSV appends the wanted columns of a CSV or TSV file to raw. The
// first record is the header; quoting follows RFC 4180 strictly
// (encoding/csv without LazyQuotes), so a stray quote is an error at its
// line instead of a silently merged field. A UTF-8 byte-order mark, as
// spreadsheet programs write, is dropped from the header.
func readTableCSV(raw *tableRaw, path string, delim rune) error {
	f, err := openData(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
	r.Comma = delim
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return dataErr(path, "empty file: no header row")
	} else if err != nil {
		return csvErr(path, err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		names[i] = strings.TrimSpace(h)
	}
	idx, err := columnIndex(path, names, raw.names)
	if err != nil {
		if len(names) == 1 && delim != '\t' && strings.Contains(header[0], "\t") {
			err = fmt.Errorf("%w (the header has tabs: a TSV file needs format: tsv or a .tsv name)", err)
		}
		return err
	}
	file := raw.addFile(path, true)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		} else if errors.Is(err, csv.ErrFieldCount) {
			line, _ := r.FieldPos(0)
			return dataErr(fmt.Sprintf("%s:%d", path, line), "%d fields, the header has %d", len(rec), len(names))
		} else if err != nil {
			return csvErr(path, err)
		}
		line, _ := r.FieldPos(0)
		for j, i := range idx {
			raw.add(j, rec[i], false)
		}
		raw.rowFile = append(raw.rowFile, file)
		raw.rowAt = append(raw.rowAt, int32(line))
		if err := raw.rowsDone(false); err != nil {
			return err
		}
	}
}

// csvErr names the line (and character) encoding/csv stopped at.
func csvErr(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return dataErr(fmt.Sprintf("%s:%d", path, pe.Line), "character %d: %v", pe.Column, pe.Err)
	}
	return dataErr(path, "%v", err)
}
