// Package fbcheck reads an Arrow IPC file's flatbuffer metadata with every
// read bounds-checked, for the structural checks that run before arrow-go
// sees a file.
//
// arrow-go reads flatbuffers without a verifier. A corrupt file mostly makes
// it panic, but a few corruptions do worse: a flipped byte in a vector
// length makes it allocate a slice of up to 2^32 entries (a fatal
// out-of-memory, not a panic), a child field whose offset points back at
// its parent recurses until the stack overflows, and a compressed buffer
// makes it allocate whatever uncompressed size it claims. The primitives
// here bound every vector by the bytes that hold it and keep every message
// and buffer inside the file; what a caller admits (types, nesting,
// compression) is its own policy. arrowio checks pipe's split files with
// it, the loaders check users' tables and ratings files.
package fbcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Magic opens and closes an Arrow IPC file.
const Magic = "ARROW1"

// ErrCorrupt marks metadata that does not hold together.
var ErrCorrupt = errors.New("corrupt Arrow metadata")

// Buf is a flatbuffer whose every read is bounds-checked.
type Buf []byte

func (b Buf) in(pos, size int) bool { return pos >= 0 && size >= 0 && pos <= len(b)-size }

func (b Buf) u16(pos int) (int, error) {
	if !b.in(pos, 2) {
		return 0, ErrCorrupt
	}
	return int(binary.LittleEndian.Uint16(b[pos:])), nil
}

func (b Buf) u32(pos int) (int, error) {
	if !b.in(pos, 4) {
		return 0, ErrCorrupt
	}
	return int(binary.LittleEndian.Uint32(b[pos:])), nil
}

// Table is a checked table of a flatbuffer: its vtable and inline object
// lie in B.
type Table struct {
	B                   Buf
	pos, vtable, vtSize int
	objSize             int
}

// table checks the table at pos: its vtable and its inline object lie in b.
func (b Buf) table(pos int) (Table, error) {
	soff, err := b.u32(pos)
	if err != nil {
		return Table{}, err
	}
	vt := pos - int(int32(uint32(soff)))
	vtSize, err := b.u16(vt)
	if err != nil {
		return Table{}, err
	}
	objSize, err := b.u16(vt + 2)
	if err != nil {
		return Table{}, err
	}
	if vtSize < 4 || vtSize%2 != 0 || !b.in(vt, vtSize) || objSize < 4 || !b.in(pos, objSize) {
		return Table{}, ErrCorrupt
	}
	return Table{B: b, pos: pos, vtable: vt, vtSize: vtSize, objSize: objSize}, nil
}

// Root checks the table that b's root offset points at.
func (b Buf) Root() (Table, error) {
	off, err := b.u32(0)
	if err != nil {
		return Table{}, err
	}
	return b.table(off)
}

// Field returns the position of the field in slot, of size bytes inline,
// or ok false when the field is absent.
func (t Table) Field(slot, size int) (pos int, ok bool, err error) {
	voff := 4 + 2*slot
	if voff+2 > t.vtSize {
		return 0, false, nil
	}
	fo, err := t.B.u16(t.vtable + voff)
	if err != nil || fo == 0 {
		return 0, false, err
	}
	if fo+size > t.objSize {
		return 0, false, ErrCorrupt
	}
	return t.pos + fo, true, nil
}

// Scalar reads a little-endian signed integer field of size bytes (1, 2,
// 4 or 8), 0 if absent; a byte reads unsigned.
func (t Table) Scalar(slot, size int) (int64, error) {
	pos, ok, err := t.Field(slot, size)
	if !ok || err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int64(t.B[pos]), nil
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(t.B[pos:]))), nil
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(t.B[pos:]))), nil
	}
	return int64(binary.LittleEndian.Uint64(t.B[pos:])), nil
}

// Ref follows the offset stored in slot: a table, vector or string.
func (t Table) Ref(slot int) (int, bool, error) {
	pos, ok, err := t.Field(slot, 4)
	if !ok || err != nil {
		return 0, ok, err
	}
	off, err := t.B.u32(pos)
	if err != nil {
		return 0, false, err
	}
	if !t.B.in(pos+off, 0) {
		return 0, false, ErrCorrupt
	}
	return pos + off, true, nil
}

// Sub checks the table referenced from slot.
func (t Table) Sub(slot int) (Table, bool, error) {
	pos, ok, err := t.Ref(slot)
	if !ok || err != nil {
		return Table{}, ok, err
	}
	sub, err := t.B.table(pos)
	return sub, err == nil, err
}

// Vector checks the vector referenced from slot, of elements elemSize bytes
// each, and returns the position of its first element and its length.
func (t Table) Vector(slot, elemSize int) (start, n int, err error) {
	pos, ok, err := t.Ref(slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	n, err = t.B.u32(pos)
	if err != nil {
		return 0, 0, err
	}
	if int64(n)*int64(elemSize) > int64(len(t.B)-pos-4) {
		return 0, 0, ErrCorrupt
	}
	return pos + 4, n, nil
}

// Tables checks the vector of tables referenced from slot.
func (t Table) Tables(slot int) ([]Table, error) {
	start, n, err := t.Vector(slot, 4)
	if err != nil {
		return nil, err
	}
	out := make([]Table, n)
	for i := range out {
		elem := start + 4*i
		off, err := t.B.u32(elem)
		if err != nil {
			return nil, err
		}
		if out[i], err = t.B.table(elem + off); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// KeyValues checks a custom_metadata vector of KeyValue{key, value}.
func (t Table) KeyValues(slot int) error {
	kvs, err := t.Tables(slot)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		for s := range 2 {
			if _, _, err := kv.Vector(s, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Footer checks the footer framing of the Arrow IPC file data, whose magic
// the caller has checked at both ends, and returns the footer table.
func Footer(data []byte) (Table, error) {
	const tail = 4 + len(Magic)
	if len(data) < 8+tail {
		return Table{}, fmt.Errorf("%w: a file of %d bytes", ErrCorrupt, len(data))
	}
	size := int(binary.LittleEndian.Uint32(data[len(data)-tail:]))
	if size <= 0 || size > len(data)-8-tail {
		return Table{}, fmt.Errorf("%w: footer size %d in a file of %d bytes", ErrCorrupt, size, len(data))
	}
	footer, err := Buf(data[len(data)-tail-size : len(data)-tail]).Root()
	if err != nil {
		return Table{}, fmt.Errorf("footer: %w", err)
	}
	return footer, nil
}

// ReadFooter reads the framing of the Arrow IPC file of size bytes that r
// reads, and no more of it: the magic at both ends and the footer, whose
// length must be at most max (so that a corrupt length cannot make the
// caller read a file's worth). It returns the footer table.
func ReadFooter(r io.ReaderAt, size, max int64) (Table, error) {
	const tail = int64(4 + len(Magic))
	if size < 8+tail {
		return Table{}, errNoMagic
	}
	head, err := ReadAt(r, 0, int64(len(Magic)))
	if err != nil {
		return Table{}, err
	}
	end, err := ReadAt(r, size-tail, tail)
	if err != nil {
		return Table{}, err
	}
	if string(head) != Magic || string(end[4:]) != Magic {
		return Table{}, errNoMagic
	}
	n := int64(binary.LittleEndian.Uint32(end))
	if n <= 0 || n > min(size-8-tail, max) {
		return Table{}, fmt.Errorf("%w: footer size %d in a file of %d bytes", ErrCorrupt, n, size)
	}
	b, err := ReadAt(r, size-tail-n, n)
	if err != nil {
		return Table{}, err
	}
	footer, err := Buf(b).Root()
	if err != nil {
		return Table{}, fmt.Errorf("footer: %w", err)
	}
	return footer, nil
}

var errNoMagic = errors.New("not an Arrow IPC file (no ARROW1 magic at both ends: truncated, or the stream format, which is not read here)")

// ReadAt reads the n bytes of r at off; a file that ends before them is
// an error.
func ReadAt(r io.ReaderAt, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// Block is a Block of an Arrow file footer: where a message lies.
type Block struct {
	Offset int64
	Meta   int32
	Body   int64
}

// In checks that blk is a well-formed block (aligned, with a metadata
// length prefix) that lies in a file of size bytes.
func (blk Block) In(size int64) error {
	if blk.Offset < 0 || blk.Meta < 8 || blk.Body < 0 || blk.Offset%8 != 0 ||
		blk.Offset > size || int64(blk.Meta) > size-blk.Offset || blk.Body > size-blk.Offset-int64(blk.Meta) {
		return fmt.Errorf("%w: block at %d (metadata %d, body %d bytes) is outside the %d-byte file", ErrCorrupt, blk.Offset, blk.Meta, blk.Body, size)
	}
	return nil
}

// Blocks reads the vector of Blocks (24-byte structs) in the table's slot.
func (t Table) Blocks(slot int) ([]Block, error) {
	start, n, err := t.Vector(slot, 24)
	if err != nil {
		return nil, err
	}
	out := make([]Block, n)
	for i := range out {
		p := t.B[start+24*i:]
		out[i] = Block{
			Offset: int64(binary.LittleEndian.Uint64(p)),
			Meta:   int32(binary.LittleEndian.Uint32(p[8:])),
			Body:   int64(binary.LittleEndian.Uint64(p[16:])),
		}
	}
	return out, nil
}

// Message checks that blk lies in the file data and returns its message
// metadata, past the length prefix, and its body.
func Message(data []byte, blk Block) (Buf, []byte, error) {
	if err := blk.In(int64(len(data))); err != nil {
		return nil, nil, err
	}
	end := blk.Offset + int64(blk.Meta)
	meta := data[blk.Offset:end]
	prefix := 4
	if binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
		prefix = 8
	}
	return Buf(meta[prefix:]), data[end : end+blk.Body], nil
}

// Header checks the message metadata meta (Message's): its root, that its
// header is of type want (Message.fbs's MessageHeader), its custom
// metadata, and returns the header table.
func Header(meta Buf, want int64) (Table, error) {
	msg, err := meta.Root()
	if err != nil {
		return Table{}, err
	}
	if typ, err := msg.Scalar(1, 1); err != nil || typ != want {
		return Table{}, fmt.Errorf("%w: message of type %d where %d belongs", ErrCorrupt, typ, want)
	}
	h, ok, err := msg.Sub(2)
	if err != nil || !ok {
		return Table{}, fmt.Errorf("%w: message without a header", ErrCorrupt)
	}
	if err := msg.KeyValues(4); err != nil {
		return Table{}, err
	}
	return h, nil
}

// Buffer is where one buffer of a record batch lies in its body.
type Buffer struct{ Off, Size int64 }

// Buffers checks a RecordBatch table's nodes, buffers and
// variadicBufferCounts vectors, and that every buffer lies in a body of
// body bytes.
func Buffers(rb Table, body int64) ([]Buffer, error) {
	if _, _, err := rb.Vector(1, 16); err != nil { // nodes
		return nil, err
	}
	start, n, err := rb.Vector(2, 16)
	if err != nil {
		return nil, err
	}
	if _, _, err := rb.Vector(4, 8); err != nil { // variadicBufferCounts
		return nil, err
	}
	out := make([]Buffer, n)
	for i := range out {
		p := rb.B[start+16*i:]
		off, size := int64(binary.LittleEndian.Uint64(p)), int64(binary.LittleEndian.Uint64(p[8:]))
		if off < 0 || size < 0 || off > body || size > body-off {
			return nil, fmt.Errorf("%w: buffer %d (%d bytes at %d) is outside the %d-byte body", ErrCorrupt, i, size, off, body)
		}
		out[i] = Buffer{off, size}
	}
	return out, nil
}
