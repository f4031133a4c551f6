package arrowio

// A structural check of an Arrow IPC file's flatbuffer metadata, run before
// arrow-go sees the file.
//
// arrow-go reads flatbuffers without a verifier. A corrupt file mostly makes
// it panic, which ReadSplit recovers from, but a few corruptions do
// worse: a flipped byte in a vector length makes it allocate a slice of up to
// 2^32 entries (a fatal out-of-memory, not a panic), a child field whose
// offset points back at its parent recurses until the stack overflows (also
// fatal), and a compression entry makes it allocate whatever uncompressed
// size the file claims. This check bounds every vector arrow-go allocates
// from, limits field nesting, and admits only the types and features a split
// file uses, so what reaches arrow-go can at worst panic.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Flatbuffer enum values from Arrow's Schema.fbs and Message.fbs.
const (
	fbTypeInt           = 2
	fbTypeFloatingPoint = 3
	fbTypeList          = 12
	fbTypeFixedSizeList = 16
	fbTypeLargeList     = 21

	fbHeaderRecordBatch = 3

	// arrowFileMagic opens and closes an Arrow IPC file.
	arrowFileMagic = "ARROW1"
	// maxArrowFieldDepth is the deepest field nesting a split file has
	// (a list column and its element) with room to spare.
	maxArrowFieldDepth = 4
)

var errArrowCorrupt = errors.New("corrupt Arrow metadata")

// fbBuf is a flatbuffer whose every read is bounds-checked.
type fbBuf []byte

func (b fbBuf) in(pos, size int) bool { return pos >= 0 && size >= 0 && pos <= len(b)-size }

func (b fbBuf) u16(pos int) (int, error) {
	if !b.in(pos, 2) {
		return 0, errArrowCorrupt
	}
	return int(binary.LittleEndian.Uint16(b[pos:])), nil
}

func (b fbBuf) u32(pos int) (int, error) {
	if !b.in(pos, 4) {
		return 0, errArrowCorrupt
	}
	return int(binary.LittleEndian.Uint32(b[pos:])), nil
}

// fbTable is a table at pos with its vtable.
type fbTable struct {
	b                   fbBuf
	pos, vtable, vtSize int
	objSize             int
}

// table checks the table at pos: its vtable and its inline object lie in b.
func (b fbBuf) table(pos int) (fbTable, error) {
	soff, err := b.u32(pos)
	if err != nil {
		return fbTable{}, err
	}
	vt := pos - int(int32(uint32(soff)))
	vtSize, err := b.u16(vt)
	if err != nil {
		return fbTable{}, err
	}
	objSize, err := b.u16(vt + 2)
	if err != nil {
		return fbTable{}, err
	}
	if vtSize < 4 || vtSize%2 != 0 || !b.in(vt, vtSize) || objSize < 4 || !b.in(pos, objSize) {
		return fbTable{}, errArrowCorrupt
	}
	return fbTable{b: b, pos: pos, vtable: vt, vtSize: vtSize, objSize: objSize}, nil
}

// root checks the table that b's root offset points at.
func (b fbBuf) root() (fbTable, error) {
	off, err := b.u32(0)
	if err != nil {
		return fbTable{}, err
	}
	return b.table(off)
}

// field returns the position of the field in slot, of size bytes inline,
// or ok false when the field is absent.
func (t fbTable) field(slot, size int) (pos int, ok bool, err error) {
	voff := 4 + 2*slot
	if voff+2 > t.vtSize {
		return 0, false, nil
	}
	fo, err := t.b.u16(t.vtable + voff)
	if err != nil || fo == 0 {
		return 0, false, err
	}
	if fo+size > t.objSize {
		return 0, false, errArrowCorrupt
	}
	return t.pos + fo, true, nil
}

// ref follows the offset stored in slot: a table, vector or string.
func (t fbTable) ref(slot int) (int, bool, error) {
	pos, ok, err := t.field(slot, 4)
	if !ok || err != nil {
		return 0, ok, err
	}
	off, err := t.b.u32(pos)
	if err != nil {
		return 0, false, err
	}
	if !t.b.in(pos+off, 0) {
		return 0, false, errArrowCorrupt
	}
	return pos + off, true, nil
}

// sub checks the table referenced from slot.
func (t fbTable) sub(slot int) (fbTable, bool, error) {
	pos, ok, err := t.ref(slot)
	if !ok || err != nil {
		return fbTable{}, ok, err
	}
	sub, err := t.b.table(pos)
	return sub, err == nil, err
}

// vector checks the vector referenced from slot, of elements elemSize bytes
// each, and returns the position of its first element and its length.
func (t fbTable) vector(slot, elemSize int) (start, n int, err error) {
	pos, ok, err := t.ref(slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	n, err = t.b.u32(pos)
	if err != nil {
		return 0, 0, err
	}
	if int64(n)*int64(elemSize) > int64(len(t.b)-pos-4) {
		return 0, 0, errArrowCorrupt
	}
	return pos + 4, n, nil
}

// tables checks the vector of tables referenced from slot.
func (t fbTable) tables(slot int) ([]fbTable, error) {
	start, n, err := t.vector(slot, 4)
	if err != nil {
		return nil, err
	}
	out := make([]fbTable, n)
	for i := range out {
		elem := start + 4*i
		off, err := t.b.u32(elem)
		if err != nil {
			return nil, err
		}
		if out[i], err = t.b.table(elem + off); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkKeyValues checks a custom_metadata vector of KeyValue{key, value}.
func (t fbTable) checkKeyValues(slot int) error {
	kvs, err := t.tables(slot)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if _, _, err := kv.vector(0, 1); err != nil {
			return err
		}
		if _, _, err := kv.vector(1, 1); err != nil {
			return err
		}
	}
	return nil
}

// checkArrowField checks a Field table and its children.
func checkArrowField(f fbTable, depth int) error {
	if depth > maxArrowFieldDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errArrowCorrupt, maxArrowFieldDepth)
	}
	if _, _, err := f.vector(0, 1); err != nil { // name
		return err
	}
	typePos, ok, err := f.field(2, 1)
	if err != nil {
		return err
	}
	typ := 0
	if ok {
		typ = int(f.b[typePos])
	}
	switch typ {
	case fbTypeInt, fbTypeFloatingPoint, fbTypeList, fbTypeFixedSizeList, fbTypeLargeList:
	default:
		return fmt.Errorf("unsupported Arrow column type (flatbuffer type %d)", typ)
	}
	if _, ok, err := f.sub(3); err != nil || !ok {
		return errArrowCorrupt
	}
	if _, ok, err := f.ref(4); err != nil || ok {
		return errors.New("dictionary-encoded columns are not supported")
	}
	children, err := f.tables(5)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := checkArrowField(c, depth+1); err != nil {
			return err
		}
	}
	return f.checkKeyValues(6)
}

// arrowBlock is a Block of an Arrow file footer: where a message lies.
type arrowBlock struct {
	offset int64
	meta   int32
	body   int64
}

// checkArrowFile checks the framing and flatbuffer metadata of the Arrow
// IPC file data: magic bytes, footer, schema, and the metadata of every
// record batch. It returns the record-batch blocks.
func checkArrowFile(data []byte) ([]arrowBlock, error) {
	const tail = 4 + len(arrowFileMagic)
	if len(data) < 8+tail || string(data[:len(arrowFileMagic)]) != arrowFileMagic ||
		string(data[len(data)-len(arrowFileMagic):]) != arrowFileMagic {
		return nil, errors.New("not an Arrow IPC file (missing ARROW1 magic; truncated?)")
	}
	size := int(binary.LittleEndian.Uint32(data[len(data)-tail:]))
	if size <= 0 || size > len(data)-8-tail {
		return nil, fmt.Errorf("%w: footer size %d in a file of %d bytes", errArrowCorrupt, size, len(data))
	}
	footer, err := fbBuf(data[len(data)-tail-size : len(data)-tail]).root()
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	schema, ok, err := footer.sub(1)
	if err != nil || !ok {
		return nil, fmt.Errorf("footer: %w: no schema", errArrowCorrupt)
	}
	fields, err := schema.tables(1)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	for i, f := range fields {
		if err := checkArrowField(f, 0); err != nil {
			return nil, fmt.Errorf("schema field %d: %w", i, err)
		}
	}
	if err := schema.checkKeyValues(2); err != nil {
		return nil, fmt.Errorf("schema metadata: %w", err)
	}
	if _, _, err := schema.vector(3, 8); err != nil { // features
		return nil, fmt.Errorf("schema features: %w", err)
	}
	if _, n, err := footer.vector(2, 24); err != nil || n != 0 {
		return nil, errors.New("dictionary batches are not supported (or the footer is corrupt)")
	}
	start, n, err := footer.vector(3, 24)
	if err != nil {
		return nil, fmt.Errorf("footer record batches: %w", err)
	}
	if err := footer.checkKeyValues(4); err != nil {
		return nil, fmt.Errorf("footer metadata: %w", err)
	}
	blocks := make([]arrowBlock, n)
	for i := range blocks {
		p := footer.b[start+24*i:]
		blk := arrowBlock{
			offset: int64(binary.LittleEndian.Uint64(p)),
			meta:   int32(binary.LittleEndian.Uint32(p[8:])),
			body:   int64(binary.LittleEndian.Uint64(p[16:])),
		}
		if err := checkRecordBatchMessage(data, blk); err != nil {
			return nil, fmt.Errorf("record batch %d: %w", i, err)
		}
		blocks[i] = blk
	}
	return blocks, nil
}

// checkRecordBatchMessage checks the metadata of the record batch message
// that blk points at: in the file, a RecordBatch, uncompressed.
func checkRecordBatchMessage(data []byte, blk arrowBlock) error {
	if blk.offset < 0 || blk.meta < 8 || blk.body < 0 || blk.offset%8 != 0 ||
		blk.offset > int64(len(data)) || int64(blk.meta) > int64(len(data))-blk.offset ||
		blk.body > int64(len(data))-blk.offset-int64(blk.meta) {
		return fmt.Errorf("%w: block at %d (metadata %d, body %d bytes) is outside the %d-byte file", errArrowCorrupt, blk.offset, blk.meta, blk.body, len(data))
	}
	meta := data[blk.offset : blk.offset+int64(blk.meta)]
	prefix := 4
	if binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
		prefix = 8
	}
	msg, err := fbBuf(meta[prefix:]).root()
	if err != nil {
		return err
	}
	htPos, ok, err := msg.field(1, 1)
	if err != nil || !ok || msg.b[htPos] != fbHeaderRecordBatch {
		return fmt.Errorf("%w: message is not a record batch", errArrowCorrupt)
	}
	rb, ok, err := msg.sub(2)
	if err != nil || !ok {
		return fmt.Errorf("%w: record batch header", errArrowCorrupt)
	}
	if err := msg.checkKeyValues(4); err != nil {
		return err
	}
	if _, _, err := rb.vector(1, 16); err != nil { // nodes
		return err
	}
	if _, _, err := rb.vector(2, 16); err != nil { // buffers
		return err
	}
	if _, ok, err := rb.ref(3); err != nil || ok {
		return errors.New("compressed record batches are not supported")
	}
	_, _, err = rb.vector(4, 8) // variadicBufferCounts
	return err
}
