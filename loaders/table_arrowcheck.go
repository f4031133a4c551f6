package loaders

// A structural check of an Arrow IPC file's flatbuffer metadata, run before
// arrow-go reads a table file. The bounds-checked flatbuffer reads are
// internal/fbcheck's (see there for what corrupt files do to arrow-go; a
// flipped vector length is held by TestTableArrowCorruptFooter); what is
// here is the table loader's policy: flat columns of the types a table
// holds, dictionaries allowed, compressed buffers bounded in what they
// claim to inflate to, so that what reaches arrow-go can at worst panic,
// which readTableArrow recovers from.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pipe-ml/pipe/internal/fbcheck"
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

	// maxUncompressed bounds what one compressed buffer may claim to
	// inflate to: far above a table's column, far below an allocation
	// that brings the machine down.
	maxUncompressed = 1 << 31
)

var errArrowMeta = fbcheck.ErrCorrupt

// checkTableField checks a Field: a flat column of a number, boolean or
// string type, dictionary-encoded or not.
func checkTableField(f fbcheck.Table) error {
	if _, _, err := f.Vector(0, 1); err != nil { // name
		return err
	}
	typePos, ok, err := f.Field(2, 1)
	if err != nil || !ok {
		return errArrowMeta
	}
	switch typ := int(f.B[typePos]); typ {
	case tfbInt, tfbFloatingPoint, tfbUtf8, tfbBool, tfbLargeUtf8:
	default:
		return fmt.Errorf("a column of Arrow type %d (flatbuffer enum); the table loader reads flat columns of numbers, booleans and strings", typ)
	}
	if _, ok, err := f.Sub(3); err != nil || !ok {
		return errArrowMeta
	}
	if dict, ok, err := f.Sub(4); err != nil {
		return err
	} else if ok {
		if _, ok, err := dict.Sub(1); err != nil || !ok { // indexType: Int
			return errArrowMeta
		}
	}
	if _, n, err := f.Vector(5, 4); err != nil || n != 0 {
		return errors.New("a nested column (with children); the table loader reads flat columns")
	}
	return f.KeyValues(6)
}

// maxMeta bounds the footer and each message's metadata read into memory:
// a real footer of 64 MB would list 2.8 million record batches.
const maxMeta = 1 << 26

// checkTableArrow checks the framing and metadata of the Arrow IPC file of
// size bytes that r reads: magic bytes, footer, schema, and every
// dictionary and record batch, reading the footer and each message's
// metadata, not the record batches' bodies.
func checkTableArrow(r io.ReaderAt, size int64) error {
	footer, err := fbcheck.ReadFooter(r, size, maxMeta)
	if err != nil {
		return err
	}
	schema, ok, err := footer.Sub(1)
	if err != nil || !ok {
		return fmt.Errorf("footer: %w: no schema", errArrowMeta)
	}
	fields, err := schema.Tables(1)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for i, f := range fields {
		if err := checkTableField(f); err != nil {
			return fmt.Errorf("schema field %d: %w", i, err)
		}
	}
	if err := schema.KeyValues(2); err != nil {
		return fmt.Errorf("schema metadata: %w", err)
	}
	if _, _, err := schema.Vector(3, 8); err != nil { // features
		return fmt.Errorf("schema features: %w", err)
	}
	if err := footer.KeyValues(4); err != nil {
		return fmt.Errorf("footer metadata: %w", err)
	}
	for _, kind := range []struct {
		slot   int
		header int64
		name   string
	}{{2, tfbDictionaryBatch, "dictionary batch"}, {3, tfbRecordBatch, "record batch"}} {
		blocks, err := footer.Blocks(kind.slot)
		if err != nil {
			return fmt.Errorf("footer %ses: %w", kind.name, err)
		}
		for i, blk := range blocks {
			if err := checkTableArrowBlock(r, size, blk, kind.header); err != nil {
				return fmt.Errorf("%s %d: %w", kind.name, i, err)
			}
		}
	}
	return nil
}

// checkTableArrowBlock checks the message blk points at, once its place
// is inside the file: a record batch, or a dictionary batch holding one,
// whose buffers lie in its body and, compressed, claim a bounded
// uncompressed size. It reads the message's metadata and the 8-byte
// length before each compressed buffer, not the body, which arrow-go
// reads once, when it decodes the batch.
func checkTableArrowBlock(r io.ReaderAt, size int64, blk fbcheck.Block, header int64) error {
	if err := blk.In(size); err != nil {
		return err
	}
	if int64(blk.Meta) > maxMeta {
		return fmt.Errorf("%w: message metadata of %d bytes", errArrowMeta, blk.Meta)
	}
	raw, err := fbcheck.ReadAt(r, blk.Offset, int64(blk.Meta))
	if err != nil {
		return err
	}
	meta, _, err := fbcheck.Message(raw, fbcheck.Block{Meta: blk.Meta})
	if err != nil {
		return err
	}
	rb, err := fbcheck.Header(meta, header)
	if err != nil {
		return err
	}
	if header == tfbDictionaryBatch {
		dict, ok, err := rb.Sub(1)
		if err != nil || !ok {
			return fmt.Errorf("%w: dictionary batch without data", errArrowMeta)
		}
		rb = dict
	}
	buffers, err := fbcheck.Buffers(rb, blk.Body)
	if err != nil {
		return err
	}
	c, compressed, err := rb.Sub(3)
	if err != nil {
		return err
	}
	if compressed {
		if _, _, err := c.Field(0, 1); err != nil {
			return err
		}
	}
	for i, b := range buffers {
		if compressed && b.Size >= 8 {
			p, err := fbcheck.ReadAt(r, blk.Offset+int64(blk.Meta)+b.Off, 8)
			if err != nil {
				return err
			}
			if u := int64(binary.LittleEndian.Uint64(p)); u > maxUncompressed {
				return fmt.Errorf("%w: buffer %d claims %d bytes uncompressed", errArrowMeta, i, u)
			}
		}
	}
	return nil
}
