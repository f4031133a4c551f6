package loaders

// A structural check of an Arrow IPC file's flatbuffer metadata, run before
// arrow-go reads a table file.
//
// arrow-go reads flatbuffers without a verifier. A corrupt file mostly makes
// it panic, which readTableArrow recovers from, but some corruptions are
// fatal: a flipped byte in a vector length makes it allocate a slice of up to
// 2^32 entries (an out-of-memory crash, found by mutating the fuzz seeds;
// TestTableArrowCorruptFooter holds it), a child field pointing back at its
// parent recurses until the stack overflows, and a compressed buffer makes
// it allocate whatever uncompressed size the file claims. This check bounds every vector arrow-go allocates from, admits
// only flat columns of the types a table holds, and bounds the claimed
// uncompressed sizes, so that what reaches arrow-go can at worst panic.
//
// arrowio has the same check for pipe's own split files; loaders may not
// import arrowio (the layout keeps loaders on data and spec), and a table
// admits more (strings, booleans, dictionaries, compression), so the
// flatbuffer primitives are repeated here. A shared leaf package for them
// would remove the copy.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Flatbuffer enum values from Arrow's Schema.fbs and Message.fbs.
const (
	tfbInt           = 2
	tfbFloatingPoint = 3
	tfbUtf8          = 5
	tfbBool          = 6
	tfbLargeUtf8     = 20

	tfbDictionaryBatch = 2
	tfbRecordBatch     = 3

	tableArrowMagic = "ARROW1"
	// maxUncompressed bounds what one compressed buffer may claim to
	// inflate to: far above a table's column, far below an allocation
	// that brings the machine down.
	maxUncompressed = 1 << 31
)

var errArrowMeta = errors.New("corrupt Arrow metadata")

// tfbBuf is a flatbuffer whose every read is bounds-checked.
type tfbBuf []byte

func (b tfbBuf) in(pos, size int) bool { return pos >= 0 && size >= 0 && pos <= len(b)-size }

func (b tfbBuf) u16(pos int) (int, error) {
	if !b.in(pos, 2) {
		return 0, errArrowMeta
	}
	return int(binary.LittleEndian.Uint16(b[pos:])), nil
}

func (b tfbBuf) u32(pos int) (int, error) {
	if !b.in(pos, 4) {
		return 0, errArrowMeta
	}
	return int(binary.LittleEndian.Uint32(b[pos:])), nil
}

// tfbTable is a table at pos with its vtable.
type tfbTable struct {
	b                   tfbBuf
	pos, vtable, vtSize int
	objSize             int
}

func (b tfbBuf) table(pos int) (tfbTable, error) {
	soff, err := b.u32(pos)
	if err != nil {
		return tfbTable{}, err
	}
	vt := pos - int(int32(uint32(soff)))
	vtSize, err := b.u16(vt)
	if err != nil {
		return tfbTable{}, err
	}
	objSize, err := b.u16(vt + 2)
	if err != nil {
		return tfbTable{}, err
	}
	if vtSize < 4 || vtSize%2 != 0 || !b.in(vt, vtSize) || objSize < 4 || !b.in(pos, objSize) {
		return tfbTable{}, errArrowMeta
	}
	return tfbTable{b: b, pos: pos, vtable: vt, vtSize: vtSize, objSize: objSize}, nil
}

func (b tfbBuf) root() (tfbTable, error) {
	off, err := b.u32(0)
	if err != nil {
		return tfbTable{}, err
	}
	return b.table(off)
}

// field returns the position of the field in slot, of size bytes inline,
// or ok false when it is absent.
func (t tfbTable) field(slot, size int) (pos int, ok bool, err error) {
	voff := 4 + 2*slot
	if voff+2 > t.vtSize {
		return 0, false, nil
	}
	fo, err := t.b.u16(t.vtable + voff)
	if err != nil || fo == 0 {
		return 0, false, err
	}
	if fo+size > t.objSize {
		return 0, false, errArrowMeta
	}
	return t.pos + fo, true, nil
}

// ref follows the offset in slot: a table, vector or string.
func (t tfbTable) ref(slot int) (int, bool, error) {
	pos, ok, err := t.field(slot, 4)
	if !ok || err != nil {
		return 0, ok, err
	}
	off, err := t.b.u32(pos)
	if err != nil {
		return 0, false, err
	}
	if !t.b.in(pos+off, 0) {
		return 0, false, errArrowMeta
	}
	return pos + off, true, nil
}

func (t tfbTable) sub(slot int) (tfbTable, bool, error) {
	pos, ok, err := t.ref(slot)
	if !ok || err != nil {
		return tfbTable{}, ok, err
	}
	sub, err := t.b.table(pos)
	return sub, err == nil, err
}

// vector checks the vector in slot, of elemSize-byte elements, and returns
// where its elements start and how many there are.
func (t tfbTable) vector(slot, elemSize int) (start, n int, err error) {
	pos, ok, err := t.ref(slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	n, err = t.b.u32(pos)
	if err != nil {
		return 0, 0, err
	}
	if int64(n)*int64(elemSize) > int64(len(t.b)-pos-4) {
		return 0, 0, errArrowMeta
	}
	return pos + 4, n, nil
}

func (t tfbTable) tables(slot int) ([]tfbTable, error) {
	start, n, err := t.vector(slot, 4)
	if err != nil {
		return nil, err
	}
	out := make([]tfbTable, n)
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
func (t tfbTable) checkKeyValues(slot int) error {
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

// checkTableField checks a Field: a flat column of a number, boolean or
// string type, dictionary-encoded or not.
func checkTableField(f tfbTable) error {
	if _, _, err := f.vector(0, 1); err != nil { // name
		return err
	}
	typePos, ok, err := f.field(2, 1)
	if err != nil || !ok {
		return errArrowMeta
	}
	switch typ := int(f.b[typePos]); typ {
	case tfbInt, tfbFloatingPoint, tfbUtf8, tfbBool, tfbLargeUtf8:
	default:
		return fmt.Errorf("a column of Arrow type %d (flatbuffer enum); the table loader reads flat columns of numbers, booleans and strings", typ)
	}
	if _, ok, err := f.sub(3); err != nil || !ok {
		return errArrowMeta
	}
	if dict, ok, err := f.sub(4); err != nil {
		return err
	} else if ok {
		if _, ok, err := dict.sub(1); err != nil || !ok { // indexType: Int
			return errArrowMeta
		}
	}
	if _, n, err := f.vector(5, 4); err != nil || n != 0 {
		return errors.New("a nested column (with children); the table loader reads flat columns")
	}
	return f.checkKeyValues(6)
}

// tableArrowBlock is a Block of the footer: where a message lies.
type tableArrowBlock struct {
	offset int64
	meta   int32
	body   int64
}

// checkTableArrow checks the framing and metadata of an Arrow IPC file:
// magic bytes, footer, schema, and every dictionary and record batch.
func checkTableArrow(data []byte) error {
	const tail = 4 + len(tableArrowMagic)
	if len(data) < 8+tail || string(data[:len(tableArrowMagic)]) != tableArrowMagic ||
		string(data[len(data)-len(tableArrowMagic):]) != tableArrowMagic {
		return errors.New("not an Arrow IPC file (no ARROW1 magic at both ends: truncated, or the stream format, which the table loader does not read)")
	}
	size := int(binary.LittleEndian.Uint32(data[len(data)-tail:]))
	if size <= 0 || size > len(data)-8-tail {
		return fmt.Errorf("%w: footer size %d in a file of %d bytes", errArrowMeta, size, len(data))
	}
	footer, err := tfbBuf(data[len(data)-tail-size : len(data)-tail]).root()
	if err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	schema, ok, err := footer.sub(1)
	if err != nil || !ok {
		return fmt.Errorf("footer: %w: no schema", errArrowMeta)
	}
	fields, err := schema.tables(1)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for i, f := range fields {
		if err := checkTableField(f); err != nil {
			return fmt.Errorf("schema field %d: %w", i, err)
		}
	}
	if err := schema.checkKeyValues(2); err != nil {
		return fmt.Errorf("schema metadata: %w", err)
	}
	if _, _, err := schema.vector(3, 8); err != nil { // features
		return fmt.Errorf("schema features: %w", err)
	}
	if err := footer.checkKeyValues(4); err != nil {
		return fmt.Errorf("footer metadata: %w", err)
	}
	for _, kind := range []struct {
		slot   int
		header byte
		name   string
	}{{2, tfbDictionaryBatch, "dictionary batch"}, {3, tfbRecordBatch, "record batch"}} {
		start, n, err := footer.vector(kind.slot, 24)
		if err != nil {
			return fmt.Errorf("footer %ses: %w", kind.name, err)
		}
		for i := range n {
			p := footer.b[start+24*i:]
			blk := tableArrowBlock{
				offset: int64(binary.LittleEndian.Uint64(p)),
				meta:   int32(binary.LittleEndian.Uint32(p[8:])),
				body:   int64(binary.LittleEndian.Uint64(p[16:])),
			}
			if err := checkTableArrowMessage(data, blk, kind.header); err != nil {
				return fmt.Errorf("%s %d: %w", kind.name, i, err)
			}
		}
	}
	return nil
}

// checkTableArrowMessage checks the message blk points at: a record batch,
// or a dictionary batch holding one, whose buffers lie in its body and,
// compressed, claim a bounded uncompressed size.
func checkTableArrowMessage(data []byte, blk tableArrowBlock, header byte) error {
	if blk.offset < 0 || blk.meta < 8 || blk.body < 0 || blk.offset%8 != 0 ||
		blk.offset > int64(len(data)) || int64(blk.meta) > int64(len(data))-blk.offset ||
		blk.body > int64(len(data))-blk.offset-int64(blk.meta) {
		return fmt.Errorf("%w: block at %d (metadata %d, body %d bytes) is outside the %d-byte file", errArrowMeta, blk.offset, blk.meta, blk.body, len(data))
	}
	meta := data[blk.offset : blk.offset+int64(blk.meta)]
	prefix := 4
	if binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
		prefix = 8
	}
	msg, err := tfbBuf(meta[prefix:]).root()
	if err != nil {
		return err
	}
	htPos, ok, err := msg.field(1, 1)
	if err != nil || !ok || msg.b[htPos] != header {
		return fmt.Errorf("%w: unexpected message type", errArrowMeta)
	}
	rb, ok, err := msg.sub(2)
	if err != nil || !ok {
		return fmt.Errorf("%w: message header", errArrowMeta)
	}
	if err := msg.checkKeyValues(4); err != nil {
		return err
	}
	if header == tfbDictionaryBatch {
		if rb, ok, err = rb.sub(1); err != nil || !ok {
			return fmt.Errorf("%w: dictionary batch without data", errArrowMeta)
		}
	}
	if _, _, err := rb.vector(1, 16); err != nil { // nodes
		return err
	}
	start, n, err := rb.vector(2, 16) // buffers
	if err != nil {
		return err
	}
	compressed, err := func() (bool, error) {
		c, ok, err := rb.sub(3)
		if err != nil || !ok {
			return false, err
		}
		_, ok, err = c.field(0, 1)
		return true, err
	}()
	if err != nil {
		return err
	}
	body := data[blk.offset+int64(blk.meta) : blk.offset+int64(blk.meta)+blk.body]
	for i := range n {
		p := rb.b[start+16*i:]
		off, size := int64(binary.LittleEndian.Uint64(p)), int64(binary.LittleEndian.Uint64(p[8:]))
		if off < 0 || size < 0 || off > int64(len(body)) || size > int64(len(body))-off {
			return fmt.Errorf("%w: buffer %d (%d bytes at %d) is outside the %d-byte body", errArrowMeta, i, size, off, len(body))
		}
		if compressed && size >= 8 {
			if u := int64(binary.LittleEndian.Uint64(body[off:])); u > maxUncompressed {
				return fmt.Errorf("%w: buffer %d claims %d bytes uncompressed", errArrowMeta, i, u)
			}
		}
	}
	_, _, err = rb.vector(4, 8) // variadicBufferCounts
	return err
}
