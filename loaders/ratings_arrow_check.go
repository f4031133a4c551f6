package loaders

// A structural check of an Arrow IPC file's or stream's flatbuffer
// metadata, run before arrow-go reads it.
//
// arrow-go reads flatbuffers without a verifier: a corrupt length makes it
// allocate a slice of whatever size the bytes say (a fatal out-of-memory
// that no recover catches: a flipped byte in a ratings file's schema asked
// for 375 GB), and a field whose children point back at it recurses until
// the stack overflows. This check bounds every vector arrow-go allocates
// from by the bytes that hold it, limits field nesting, keeps every message
// and buffer inside the file, and bounds what a compressed buffer may
// claim to expand to, so that what reaches arrow-go can at worst panic,
// which readArrow recovers from. (arrowio has such a check for the split
// files pipe writes, which admit a few types only; loaders may not import
// it, and a user's file holds any types.)

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errArrowCorrupt = errors.New("corrupt Arrow metadata")

const (
	arrowMagic = "ARROW1"
	// arrowMaxDepth bounds field nesting; real schemas nest a few levels.
	arrowMaxDepth = 32
	// Flatbuffer union values from Arrow's Schema.fbs and Message.fbs.
	fbTimestamp       = 10
	fbSchemaMsg       = 1
	fbDictionaryBatch = 2
	fbRecordBatch     = 3
)

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
	b                            fbBuf
	pos, vtable, vtSize, objSize int
}

// table checks the table at pos: its vtable and inline object lie in b.
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

func (b fbBuf) root() (fbTable, error) {
	off, err := b.u32(0)
	if err != nil {
		return fbTable{}, err
	}
	return b.table(off)
}

// field returns the position of the field in slot, of size bytes inline;
// ok is false when it is absent.
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

// scalar reads a little-endian integer field of size bytes (0 if absent).
func (t fbTable) scalar(slot, size int) (int64, error) {
	pos, ok, err := t.field(slot, size)
	if !ok || err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int64(t.b[pos]), nil
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(t.b[pos:]))), nil
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(t.b[pos:]))), nil
	}
	return int64(binary.LittleEndian.Uint64(t.b[pos:])), nil
}

// ref follows the offset in slot to a table, vector or string.
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

// vector checks the vector referenced from slot, of elemSize-byte
// elements, and returns where its elements start and how many there are.
func (t fbTable) vector(slot, elemSize int) (start, n int, err error) {
	pos, ok, err := t.ref(slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	if n, err = t.b.u32(pos); err != nil {
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

// keyValues checks a custom_metadata vector of KeyValue{key, value}.
func (t fbTable) keyValues(slot int) error {
	kvs, err := t.tables(slot)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		for s := range 2 {
			if _, _, err := kv.vector(s, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSchema checks a Schema table and its fields.
func checkSchema(s fbTable) error {
	fields, err := s.tables(1)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for i, f := range fields {
		if err := checkField(f, 0); err != nil {
			return fmt.Errorf("schema field %d: %w", i, err)
		}
	}
	if err := s.keyValues(2); err != nil {
		return fmt.Errorf("schema metadata: %w", err)
	}
	_, _, err = s.vector(3, 8) // features
	return err
}

// checkField checks a Field: its name, type table, dictionary encoding,
// children and metadata.
func checkField(f fbTable, depth int) error {
	if depth > arrowMaxDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errArrowCorrupt, arrowMaxDepth)
	}
	if _, _, err := f.vector(0, 1); err != nil { // name
		return err
	}
	typ, err := f.scalar(2, 1)
	if err != nil {
		return err
	}
	if tt, ok, err := f.sub(3); err != nil {
		return err
	} else if ok && typ == fbTimestamp {
		if _, _, err := tt.vector(1, 1); err != nil { // timezone
			return err
		}
	}
	if d, ok, err := f.sub(4); err != nil {
		return err
	} else if ok {
		if _, _, err := d.sub(1); err != nil { // indexType
			return err
		}
	}
	children, err := f.tables(5)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := checkField(c, depth+1); err != nil {
			return err
		}
	}
	return f.keyValues(6)
}

// checkMessage checks one IPC message: its metadata meta and its body, the
// bodyLen bytes that follow it. want, when not 0, is the header type the
// message must have.
func checkMessage(meta fbBuf, body []byte, want int64) error {
	msg, err := meta.root()
	if err != nil {
		return err
	}
	typ, err := msg.scalar(1, 1)
	if err != nil {
		return err
	}
	if want != 0 && typ != want {
		return fmt.Errorf("%w: message of type %d where %d belongs", errArrowCorrupt, typ, want)
	}
	bodyLen, err := msg.scalar(3, 8)
	if err != nil {
		return err
	}
	if bodyLen < 0 || bodyLen > int64(len(body)) {
		return fmt.Errorf("%w: message body of %d bytes where %d remain", errArrowCorrupt, bodyLen, len(body))
	}
	if err := msg.keyValues(4); err != nil {
		return err
	}
	h, ok, err := msg.sub(2)
	if err != nil || !ok {
		return fmt.Errorf("%w: message without a header", errArrowCorrupt)
	}
	switch typ {
	case fbSchemaMsg:
		return checkSchema(h)
	case fbDictionaryBatch:
		rb, ok, err := h.sub(1)
		if err != nil || !ok {
			return fmt.Errorf("%w: dictionary batch without data", errArrowCorrupt)
		}
		return checkRecordBatch(rb, body[:bodyLen])
	case fbRecordBatch:
		return checkRecordBatch(h, body[:bodyLen])
	}
	return fmt.Errorf("%w: message type %d", errArrowCorrupt, typ)
}

// checkRecordBatch checks a RecordBatch's vectors, that its buffers lie in
// its body, and what its compressed buffers claim to expand to.
func checkRecordBatch(rb fbTable, body []byte) error {
	if _, _, err := rb.vector(1, 16); err != nil { // nodes
		return err
	}
	start, n, err := rb.vector(2, 16) // buffers
	if err != nil {
		return err
	}
	_, compressed, err := rb.sub(3)
	if err != nil {
		return err
	}
	if _, _, err := rb.vector(4, 8); err != nil { // variadicBufferCounts
		return err
	}
	var expanded int64
	for i := range n {
		p := rb.b[start+16*i:]
		off, size := int64(binary.LittleEndian.Uint64(p)), int64(binary.LittleEndian.Uint64(p[8:]))
		if off < 0 || size < 0 || off > int64(len(body)) || size > int64(len(body))-off {
			return fmt.Errorf("%w: buffer %d at %d (%d bytes) is outside the %d-byte body", errArrowCorrupt, i, off, size, len(body))
		}
		if compressed && size >= 8 {
			// A compressed buffer opens with its uncompressed length, which
			// arrow-go allocates; -1 marks one stored uncompressed.
			u := int64(binary.LittleEndian.Uint64(body[off:]))
			if u < -1 || u > maxArrowExpansion*size+1<<20 {
				return fmt.Errorf("%w: buffer %d of %d bytes claims %d uncompressed", errArrowCorrupt, i, size, u)
			}
			expanded += max(u, 0)
		}
	}
	if expanded > maxArrowExpansion*int64(len(body))+1<<20 {
		return fmt.Errorf("%w: compressed buffers claim %d bytes from a %d-byte body", errArrowCorrupt, expanded, len(body))
	}
	return nil
}

// maxArrowExpansion bounds how many times larger than its bytes a
// compressed buffer may say it is: far above what LZ4 or ZSTD reach on
// rating columns, far below a corrupt length.
const maxArrowExpansion = 1 << 10

// checkArrowIPC checks a whole Arrow IPC file (footer, schema, and every
// dictionary and record batch its footer lists) or, without the file's
// magic, an IPC stream message by message.
func checkArrowIPC(data []byte) error {
	const tail = 4 + len(arrowMagic)
	if len(data) >= 8 && string(data[:len(arrowMagic)]) == arrowMagic {
		if len(data) < 8+tail || string(data[len(data)-len(arrowMagic):]) != arrowMagic {
			return errors.New("an Arrow IPC file without its closing magic (truncated?)")
		}
		size := int(binary.LittleEndian.Uint32(data[len(data)-tail:]))
		if size <= 0 || size > len(data)-8-tail {
			return fmt.Errorf("%w: footer of %d bytes in a file of %d", errArrowCorrupt, size, len(data))
		}
		footer, err := fbBuf(data[len(data)-tail-size : len(data)-tail]).root()
		if err != nil {
			return fmt.Errorf("footer: %w", err)
		}
		schema, ok, err := footer.sub(1)
		if err != nil || !ok {
			return fmt.Errorf("footer: %w: no schema", errArrowCorrupt)
		}
		if err := checkSchema(schema); err != nil {
			return err
		}
		if err := footer.keyValues(4); err != nil {
			return fmt.Errorf("footer metadata: %w", err)
		}
		for slot, want := range map[int]int64{2: fbDictionaryBatch, 3: fbRecordBatch} {
			start, n, err := footer.vector(slot, 24)
			if err != nil {
				return fmt.Errorf("footer blocks: %w", err)
			}
			for i := range n {
				p := footer.b[start+24*i:]
				off, metaLen, bodyLen := int64(binary.LittleEndian.Uint64(p)), int64(int32(binary.LittleEndian.Uint32(p[8:]))), int64(binary.LittleEndian.Uint64(p[16:]))
				if off < 0 || metaLen < 8 || bodyLen < 0 || off > int64(len(data)) || metaLen > int64(len(data))-off || bodyLen > int64(len(data))-off-metaLen {
					return fmt.Errorf("%w: block %d at %d is outside the %d-byte file", errArrowCorrupt, i, off, len(data))
				}
				meta := data[off : off+metaLen]
				prefix := 4
				if binary.LittleEndian.Uint32(meta) == 0xFFFFFFFF {
					prefix = 8
				}
				body := data[off+metaLen : off+metaLen+bodyLen]
				if err := checkMessage(fbBuf(meta[prefix:]), body, want); err != nil {
					return fmt.Errorf("batch %d: %w", i, err)
				}
			}
		}
		return nil
	}
	for pos, i := 0, 0; pos < len(data); i++ {
		if len(data)-pos < 4 {
			return fmt.Errorf("%w: %d stray bytes at the end", errArrowCorrupt, len(data)-pos)
		}
		n := int64(int32(binary.LittleEndian.Uint32(data[pos:])))
		pos += 4
		if n == -1 { // the continuation marker, then the length
			if len(data)-pos < 4 {
				return fmt.Errorf("%w: message %d has no length", errArrowCorrupt, i)
			}
			n = int64(int32(binary.LittleEndian.Uint32(data[pos:])))
			pos += 4
		}
		if n == 0 {
			return nil // end of stream
		}
		if n < 0 || n > int64(len(data)-pos) {
			return fmt.Errorf("%w: message %d of %d bytes where %d remain", errArrowCorrupt, i, n, len(data)-pos)
		}
		meta, rest := fbBuf(data[pos:pos+int(n)]), data[pos+int(n):]
		if err := checkMessage(meta, rest, 0); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if i == 0 {
			if typ, _ := mustRoot(meta).scalar(1, 1); typ != fbSchemaMsg {
				return errors.New("an Arrow IPC stream must open with its schema")
			}
		}
		bodyLen, _ := mustRoot(meta).scalar(3, 8)
		pos += int(n) + int(bodyLen)
	}
	return nil
}

// mustRoot is the root table of a buffer checkMessage has accepted.
func mustRoot(b fbBuf) fbTable {
	t, _ := b.root()
	return t
}
