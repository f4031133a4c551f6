package loaders

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/internal/fbcheck"
)

// arrowRecords opens the Arrow IPC file (opening with its magic) or stream
// in buf, which a check has passed, for the table and ratings loaders. It
// returns the schema, the record batches one at a time (nil, io.EOF after
// the last; each valid until the next call, the reader releases it) and
// what releases the reader.
func arrowRecords(buf []byte) (sc *arrow.Schema, next func() (arrow.RecordBatch, error), release func(), err error) {
	r := bytes.NewReader(buf)
	if bytes.HasPrefix(buf, []byte(fbcheck.Magic)) {
		return arrowFileRecords(r)
	}
	sr, err := ipc.NewReader(r, ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("neither an Arrow IPC file nor an Arrow IPC stream: %v", err)
	}
	next = func() (arrow.RecordBatch, error) {
		if sr.Next() {
			return sr.RecordBatch(), nil // valid until the next call
		}
		if err := sr.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	return sr.Schema(), next, sr.Release, nil
}

// arrowFileRecords is arrowRecords for an Arrow IPC file that r reads: the
// reader reads the footer, then each record batch when it is asked for.
func arrowFileRecords(r ipc.ReadAtSeeker) (sc *arrow.Schema, next func() (arrow.RecordBatch, error), release func(), err error) {
	fr, err := ipc.NewFileReader(r, ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("not a readable Arrow IPC file: %v", err)
	}
	i := 0
	next = func() (arrow.RecordBatch, error) {
		if i == fr.NumRecords() {
			return nil, io.EOF
		}
		i++
		return fr.RecordBatch(i - 1) // the reader releases it at the next call
	}
	return fr.Schema(), next, func() { fr.Close() }, nil
}
