package arrowio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/fbcheck"
)

// SplitStream reads a split file a record batch at a time, each batch
// memory-mapped on its own: Batch maps the pages of one record batch and
// returns views of them, Release unmaps them. Only the mapped batches'
// pages can be resident. (Mapping the whole file and giving a batch's
// pages back with MADV_DONTNEED did not bound them: the page cache holds
// the file in large folios, which a fault maps whole — up to 2 MB at once,
// measured as FilePmdMapped in smaps — so reading one batch brought back
// its neighbours' released pages, and half a file stayed resident.)
type SplitStream struct {
	path      string
	f         *os.File
	schemaMsg []byte // the file's schema message: a batch is decoded as the stream of it and the batch's message
	blocks    []fbcheck.Block
	maps      map[int]batchMapping // the batches Batch mapped, until Release
	cols      [2]arrowColumnSpec
	lens      []int // rows of each batch
	rows      int
	names     [2]string
}

// OpenSplitStream checks the split file at path as ReadSplit does,
// mapping it whole for the check, which touches only its metadata, and
// unmapping it. Close it when done.
func OpenSplitStream(path string) (s *SplitStream, err error) {
	mapped, unmap, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	defer unmap()
	s = &SplitStream{path: path, maps: map[int]batchMapping{}}
	defer func() {
		if err != nil {
			s.Close()
			s, err = nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt Arrow file: %v", r)
		}
	}()
	if s.blocks, err = checkArrowFile(mapped); err != nil {
		return s, err
	}
	r, err := ipc.NewMappedFileReader(mapped, ipc.WithEnsureNativeEndian(false), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return s, err
	}
	defer r.Close()
	if s.cols, s.rows, err = splitSchema(r.Schema()); err != nil {
		return s, err
	}
	s.names = [2]string{r.Schema().Field(0).Name, r.Schema().Field(1).Name}
	if r.NumRecords() != len(s.blocks) || len(s.blocks) == 0 {
		return s, fmt.Errorf("the file holds %d record batches; want at least one", r.NumRecords())
	}
	// The schema message follows the 8 bytes of magic and padding, and the
	// first record batch follows it (the file holds no dictionaries).
	if s.blocks[0].Offset <= 8 {
		return s, errors.New("no schema message before the first record batch")
	}
	s.schemaMsg = bytes.Clone(mapped[8:s.blocks[0].Offset])
	total := 0
	for i := range s.blocks {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			return s, fmt.Errorf("record batch %d: %w", i, err)
		}
		s.lens = append(s.lens, int(rec.NumRows()))
		total += int(rec.NumRows())
		rec.Release()
	}
	if total != s.rows {
		return s, fmt.Errorf("the record batches hold %d rows but the schema says %d (truncated?)", total, s.rows)
	}
	s.f, err = os.Open(path)
	return s, err
}

// Len is the number of examples.
func (s *SplitStream) Len() int { return s.rows }

// Batches is the number of record batches, and BatchLen the rows of one.
func (s *SplitStream) Batches() int       { return len(s.lens) }
func (s *SplitStream) BatchLen(i int) int { return s.lens[i] }

// Schemas are those of the columns x and y.
func (s *SplitStream) Schemas() (x, y data.Schema) {
	return s.cols[0].Schema, s.cols[1].Schema
}

// Batch maps record batch i and returns it, its values views of the
// mapping, valid until Release(i) or Close unmaps it: touching them after
// is a fault.
func (s *SplitStream) Batch(i int) (split data.Split, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt Arrow file: %v", r)
		}
		if err != nil {
			err = fmt.Errorf("reading %s: record batch %d: %w", s.path, i, err)
		}
	}()
	b := s.blocks[i]
	m, ok := s.maps[i] // a batch taken again before Release keeps its mapping
	if !ok {
		if m.view, m.unmap, err = mapRange(s.f, b.Offset, int64(b.Meta)+b.Body); err != nil {
			return split, err
		}
		s.maps[i] = m
	}
	rec, err := s.decode(m.view[:b.Meta], m.view[b.Meta:])
	if err != nil {
		return split, err
	}
	defer rec.Release()
	n := rec.NumRows()
	var parts [2]data.Array
	for c := range s.cols {
		if parts[c], err = columnFromArrow(rec.Column(c), n, s.cols[c]); err != nil {
			return split, fmt.Errorf("column %s: %w", s.names[c], err)
		}
	}
	return data.Split{X: parts[0], Y: parts[1]}, nil
}

type batchMapping struct {
	view  []byte
	unmap func() error
}

// decode reads a record batch from its message's metadata (with its
// length prefix) and body, without copying the body: arrow-go decodes
// record batches only through a reader, here one of the stream made of the
// schema message and this one.
func (s *SplitStream) decode(meta, body []byte) (rec arrow.RecordBatch, err error) {
	prefix := 4
	if len(meta) >= 8 && binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
		prefix = 8 // continuation marker, then the length
	}
	if len(meta) <= prefix {
		return nil, errors.New("no message metadata")
	}
	schema, err := ipc.NewMessageReader(bytes.NewReader(s.schemaMsg)).Message()
	if err != nil {
		return nil, fmt.Errorf("schema message: %w", err)
	}
	msg := ipc.NewMessage(memory.NewBufferBytes(meta[prefix:]), memory.NewBufferBytes(body))
	r, err := ipc.NewReaderFromMessageReader(&messageList{msgs: []*ipc.Message{schema, msg}},
		ipc.WithEnsureNativeEndian(false), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if !r.Next() {
		return nil, cmpErr(r.Err(), errors.New("no record batch"))
	}
	rec = r.RecordBatch()
	rec.Retain()
	return rec, nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// messageList is an ipc.MessageReader of messages in memory.
type messageList struct{ msgs []*ipc.Message }

func (l *messageList) Message() (*ipc.Message, error) {
	if len(l.msgs) == 0 {
		return nil, io.EOF
	}
	m := l.msgs[0]
	l.msgs = l.msgs[1:]
	return m, nil
}
func (l *messageList) Retain()  {}
func (l *messageList) Release() {}

// Release unmaps record batch i: what Batch returned for it may not be
// touched again.
func (s *SplitStream) Release(i int) error {
	m, ok := s.maps[i]
	if !ok {
		return nil
	}
	delete(s.maps, i)
	return m.unmap()
}

// Close unmaps every batch still mapped and closes the file.
func (s *SplitStream) Close() error {
	var errs []error
	for i := range s.maps {
		errs = append(errs, s.Release(i))
	}
	if s.f != nil {
		errs = append(errs, s.f.Close())
		s.f = nil
	}
	return errors.Join(errs...)
}
