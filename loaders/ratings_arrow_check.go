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
// which readArrow recovers from. The bounds-checked flatbuffer reads are
// internal/fbcheck's, shared with arrowio's check of split files and the
// table loader's; the policy here admits any types, as a user's file may.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pipe-ml/pipe/internal/fbcheck"
)

var errArrowCorrupt = fbcheck.ErrCorrupt

const (
	// arrowMaxDepth bounds field nesting; real schemas nest a few levels.
	arrowMaxDepth = 32
	// Flatbuffer union values from Arrow's Schema.fbs and Message.fbs.
	fbTimestamp       = 10
	fbSchemaMsg       = 1
	fbDictionaryBatch = 2
	fbRecordBatch     = 3
)

// checkSchema checks a Schema table and its fields.
func checkSchema(s fbcheck.Table) error {
	fields, err := s.Tables(1)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for i, f := range fields {
		if err := checkField(f, 0); err != nil {
			return fmt.Errorf("schema field %d: %w", i, err)
		}
	}
	if err := s.KeyValues(2); err != nil {
		return fmt.Errorf("schema metadata: %w", err)
	}
	_, _, err = s.Vector(3, 8) // features
	return err
}

// checkField checks a Field: its name, type table, dictionary encoding,
// children and metadata.
func checkField(f fbcheck.Table, depth int) error {
	if depth > arrowMaxDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errArrowCorrupt, arrowMaxDepth)
	}
	if _, _, err := f.Vector(0, 1); err != nil { // name
		return err
	}
	typ, err := f.Scalar(2, 1)
	if err != nil {
		return err
	}
	if tt, ok, err := f.Sub(3); err != nil {
		return err
	} else if ok && typ == fbTimestamp {
		if _, _, err := tt.Vector(1, 1); err != nil { // timezone
			return err
		}
	}
	if d, ok, err := f.Sub(4); err != nil {
		return err
	} else if ok {
		if _, _, err := d.Sub(1); err != nil { // indexType
			return err
		}
	}
	children, err := f.Tables(5)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := checkField(c, depth+1); err != nil {
			return err
		}
	}
	return f.KeyValues(6)
}

// checkMessage checks one IPC message: its metadata meta and its body, the
// bodyLen bytes that follow it. want, when not 0, is the header type the
// message must have.
func checkMessage(meta fbcheck.Buf, body []byte, want int64) error {
	msg, err := meta.Root()
	if err != nil {
		return err
	}
	typ, err := msg.Scalar(1, 1)
	if err != nil {
		return err
	}
	if want != 0 && typ != want {
		return fmt.Errorf("%w: message of type %d where %d belongs", errArrowCorrupt, typ, want)
	}
	bodyLen, err := msg.Scalar(3, 8)
	if err != nil {
		return err
	}
	if bodyLen < 0 || bodyLen > int64(len(body)) {
		return fmt.Errorf("%w: message body of %d bytes where %d remain", errArrowCorrupt, bodyLen, len(body))
	}
	if err := msg.KeyValues(4); err != nil {
		return err
	}
	h, ok, err := msg.Sub(2)
	if err != nil || !ok {
		return fmt.Errorf("%w: message without a header", errArrowCorrupt)
	}
	switch typ {
	case fbSchemaMsg:
		return checkSchema(h)
	case fbDictionaryBatch:
		rb, ok, err := h.Sub(1)
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
func checkRecordBatch(rb fbcheck.Table, body []byte) error {
	buffers, err := fbcheck.Buffers(rb, int64(len(body)))
	if err != nil {
		return err
	}
	_, compressed, err := rb.Sub(3)
	if err != nil {
		return err
	}
	var expanded int64
	for i, b := range buffers {
		if compressed && b.Size >= 8 {
			// A compressed buffer opens with its uncompressed length, which
			// arrow-go allocates; -1 marks one stored uncompressed.
			u := int64(binary.LittleEndian.Uint64(body[b.Off:]))
			if u < -1 || u > maxArrowExpansion*b.Size+1<<20 {
				return fmt.Errorf("%w: buffer %d of %d bytes claims %d uncompressed", errArrowCorrupt, i, b.Size, u)
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
	const tail = 4 + len(fbcheck.Magic)
	if len(data) >= 8 && string(data[:len(fbcheck.Magic)]) == fbcheck.Magic {
		if len(data) < 8+tail || string(data[len(data)-len(fbcheck.Magic):]) != fbcheck.Magic {
			return errors.New("an Arrow IPC file without its closing magic (truncated?)")
		}
		footer, err := fbcheck.Footer(data)
		if err != nil {
			return err
		}
		schema, ok, err := footer.Sub(1)
		if err != nil || !ok {
			return fmt.Errorf("footer: %w: no schema", errArrowCorrupt)
		}
		if err := checkSchema(schema); err != nil {
			return err
		}
		if err := footer.KeyValues(4); err != nil {
			return fmt.Errorf("footer metadata: %w", err)
		}
		for slot, want := range map[int]int64{2: fbDictionaryBatch, 3: fbRecordBatch} {
			blocks, err := footer.Blocks(slot)
			if err != nil {
				return fmt.Errorf("footer blocks: %w", err)
			}
			for i, blk := range blocks {
				meta, body, err := fbcheck.Message(data, blk)
				if err != nil {
					return fmt.Errorf("batch %d: %w", i, err)
				}
				if err := checkMessage(meta, body, want); err != nil {
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
		meta, rest := fbcheck.Buf(data[pos:pos+int(n)]), data[pos+int(n):]
		if err := checkMessage(meta, rest, 0); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if i == 0 {
			if typ, _ := mustRoot(meta).Scalar(1, 1); typ != fbSchemaMsg {
				return errors.New("an Arrow IPC stream must open with its schema")
			}
		}
		bodyLen, _ := mustRoot(meta).Scalar(3, 8)
		pos += int(n) + int(bodyLen)
	}
	return nil
}

// mustRoot is the root table of a buffer checkMessage has accepted.
func mustRoot(b fbcheck.Buf) fbcheck.Table {
	t, _ := b.Root()
	return t
}
