package arrowio

import (
	"bytes"
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
// Opening reads metadata only, with pread, for the same reason.
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
// reading only its footer, its schema and each record batch's metadata
// (a batch's buffers are checked when Batch maps it). Mapping the file
// whole to check it would map it whole into memory: touching one page of
// each batch faults in the large folio around it. Close it when done.
func OpenSplitStream(path string) (s *SplitStream, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s = &SplitStream{path: path, f: f, maps: map[int]batchMapping{}}
	defer func() {
		if err != nil {
			s.Close()
			s, err = nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt Arrow file: %v", r)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return s, err
	}
	size := st.Size()
	footer, err := fbcheck.ReadFooter(f, size, maxStreamMeta)
	if err != nil {
		return s, err
	}
	if s.blocks, err = checkArrowFooter(footer); err != nil {
		return s, err
	}
	if len(s.blocks) == 0 {
		return s, errors.New("the file holds no record batch; want at least one")
	}
	// The schema message follows the 8 bytes of magic and padding, and the
	// first record batch follows it (the file holds no dictionaries).
	if first := s.blocks[0].Offset; first <= 8 || first > min(size, 8+maxStreamMeta) {
		return s, fmt.Errorf("%w: the first record batch at %d", errArrowCorrupt, first)
	}
	if s.schemaMsg, err = fbcheck.ReadAt(f, 8, s.blocks[0].Offset-8); err != nil {
		return s, err
	}
	if err := checkSchemaMessage(s.schemaMsg); err != nil {
		return s, fmt.Errorf("schema message: %w", err)
	}
	r, err := ipc.NewReader(bytes.NewReader(s.schemaMsg), ipc.WithEnsureNativeEndian(false), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return s, err
	}
	schema := r.Schema()
	r.Release()
	if s.cols, s.rows, err = splitSchema(schema); err != nil {
		return s, err
	}
	s.names = [2]string{schema.Field(0).Name, schema.Field(1).Name}
	total := 0
	for i, b := range s.blocks {
		n, err := batchLength(f, b, size)
		if err != nil {
			return s, fmt.Errorf("record batch %d: %w", i, err)
		}
		s.lens = append(s.lens, n)
		total += n
	}
	if total != s.rows {
		return s, fmt.Errorf("the record batches hold %d rows but the schema says %d (truncated?)", total, s.rows)
	}
	return s, nil
}

// maxStreamMeta bounds the footer, schema and batch metadata read whole
// from a streamed file: a split's are a few hundred bytes, and a corrupt
// length must not allocate gigabytes.
const maxStreamMeta = 1 << 20

// batchLength reads the rows of the record batch at b from its metadata,
// after checking that the batch lies in the file.
func batchLength(f *os.File, b fbcheck.Block, size int64) (int, error) {
	if err := b.In(size); err != nil {
		return 0, err
	}
	if b.Meta > maxStreamMeta {
		return 0, fmt.Errorf("%w: record batch metadata of %d bytes", errArrowCorrupt, b.Meta)
	}
	meta, err := fbcheck.ReadAt(f, b.Offset, int64(b.Meta))
	if err != nil {
		return 0, err
	}
	buf, _, err := fbcheck.Message(meta, fbcheck.Block{Meta: b.Meta})
	if err != nil {
		return 0, err
	}
	rb, err := fbcheck.Header(buf, fbHeaderRecordBatch)
	if err != nil {
		return 0, err
	}
	n, err := rb.Scalar(0, 8) // RecordBatch.length
	if err != nil || n < 0 || n != int64(int(n)) {
		return 0, fmt.Errorf("%w: a record batch of %d rows", errArrowCorrupt, n)
	}
	return int(n), nil
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
	blk := fbcheck.Block{Meta: b.Meta, Body: b.Body} // in the view, which starts at the block
	if err := checkRecordBatchMessage(m.view, blk); err != nil {
		return split, err
	}
	meta, body, err := fbcheck.Message(m.view, blk)
	if err != nil {
		return split, err
	}
	rec, err := s.decode(meta, body)
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

// decode reads a record batch from its message's metadata (without its
// length prefix) and body, without copying the body: arrow-go decodes
// record batches only through a reader, here one of the stream made of the
// schema message and this one.
func (s *SplitStream) decode(meta, body []byte) (rec arrow.RecordBatch, err error) {
	schema, err := ipc.NewMessageReader(bytes.NewReader(s.schemaMsg)).Message()
	if err != nil {
		return nil, fmt.Errorf("schema message: %w", err)
	}
	msg := ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(body))
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
