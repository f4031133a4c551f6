package arrowio

// A structural check of an Arrow IPC file's flatbuffer metadata, run before
// arrow-go sees the file. The bounds-checked flatbuffer reads are
// internal/fbcheck's (see there for what corrupt files do to arrow-go);
// what is here is the policy of a split file: only the types and features
// a split file uses, fields nested a few levels at most, no dictionaries,
// no compression, so that what reaches arrow-go can at worst panic, which
// ReadSplit recovers from.

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/pipe-ml/pipe/internal/fbcheck"
)

// Flatbuffer enum values from Arrow's Schema.fbs and Message.fbs.
const (
	fbTypeInt           = 2
	fbTypeFloatingPoint = 3
	fbTypeList          = 12
	fbTypeFixedSizeList = 16
	fbTypeLargeList     = 21

	fbHeaderSchema      = 1
	fbHeaderRecordBatch = 3

	// maxArrowFieldDepth is the deepest field nesting a split file has
	// (a list column and its element) with room to spare.
	maxArrowFieldDepth = 4
)

var errArrowCorrupt = fbcheck.ErrCorrupt

// checkArrowField checks a Field table and its children.
func checkArrowField(f fbcheck.Table, depth int) error {
	if depth > maxArrowFieldDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errArrowCorrupt, maxArrowFieldDepth)
	}
	if _, _, err := f.Vector(0, 1); err != nil { // name
		return err
	}
	typ, err := f.Scalar(2, 1)
	if err != nil {
		return err
	}
	switch typ {
	case fbTypeInt, fbTypeFloatingPoint, fbTypeList, fbTypeFixedSizeList, fbTypeLargeList:
	default:
		return fmt.Errorf("unsupported Arrow column type (flatbuffer type %d)", typ)
	}
	if _, ok, err := f.Sub(3); err != nil || !ok {
		return errArrowCorrupt
	}
	if _, ok, err := f.Ref(4); err != nil || ok {
		return errors.New("dictionary-encoded columns are not supported")
	}
	children, err := f.Tables(5)
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := checkArrowField(c, depth+1); err != nil {
			return err
		}
	}
	return f.KeyValues(6)
}

// checkArrowFile checks the framing and flatbuffer metadata of the Arrow
// IPC file data: magic bytes, footer, schema, and the metadata of every
// record batch. It returns the record-batch blocks.
func checkArrowFile(data []byte) ([]fbcheck.Block, error) {
	size := int64(len(data))
	footer, err := fbcheck.ReadFooter(bytes.NewReader(data), size, size)
	if err != nil {
		return nil, err
	}
	blocks, err := checkArrowFooter(footer)
	if err != nil {
		return nil, err
	}
	for i, blk := range blocks {
		if err := checkRecordBatchMessage(data, blk); err != nil {
			return nil, fmt.Errorf("record batch %d: %w", i, err)
		}
	}
	return blocks, nil
}

// checkArrowFooter checks a split file's footer (fbcheck.ReadFooter's),
// with its schema, and returns the record-batch blocks, unchecked: a
// streamed file checks each when it reads it (see OpenSplitStream).
func checkArrowFooter(footer fbcheck.Table) ([]fbcheck.Block, error) {
	schema, ok, err := footer.Sub(1)
	if err != nil || !ok {
		return nil, fmt.Errorf("footer: %w: no schema", errArrowCorrupt)
	}
	if err := checkArrowSchema(schema); err != nil {
		return nil, err
	}
	if _, n, err := footer.Vector(2, 24); err != nil || n != 0 {
		return nil, errors.New("dictionary batches are not supported (or the footer is corrupt)")
	}
	blocks, err := footer.Blocks(3)
	if err != nil {
		return nil, fmt.Errorf("footer record batches: %w", err)
	}
	if err := footer.KeyValues(4); err != nil {
		return nil, fmt.Errorf("footer metadata: %w", err)
	}
	return blocks, nil
}

// checkArrowSchema checks a Schema table: its fields, metadata and
// features.
func checkArrowSchema(schema fbcheck.Table) error {
	fields, err := schema.Tables(1)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	for i, f := range fields {
		if err := checkArrowField(f, 0); err != nil {
			return fmt.Errorf("schema field %d: %w", i, err)
		}
	}
	if err := schema.KeyValues(2); err != nil {
		return fmt.Errorf("schema metadata: %w", err)
	}
	if _, _, err := schema.Vector(3, 8); err != nil { // features
		return fmt.Errorf("schema features: %w", err)
	}
	return nil
}

// checkSchemaMessage checks the schema message msg (length prefix,
// metadata and padding, no body) before arrow-go parses it: a corrupt
// field count or offset there would make it allocate or read anything.
func checkSchemaMessage(msg []byte) error {
	if len(msg) > math.MaxInt32 {
		return fmt.Errorf("%w: a schema message of %d bytes", errArrowCorrupt, len(msg))
	}
	meta, _, err := fbcheck.Message(msg, fbcheck.Block{Meta: int32(len(msg))})
	if err != nil {
		return err
	}
	schema, err := fbcheck.Header(meta, fbHeaderSchema)
	if err != nil {
		return err
	}
	return checkArrowSchema(schema)
}

// checkRecordBatchMessage checks the metadata of the record batch message
// that blk points at: in the file, a RecordBatch, uncompressed, its
// buffers in its body.
func checkRecordBatchMessage(data []byte, blk fbcheck.Block) error {
	meta, body, err := fbcheck.Message(data, blk)
	if err != nil {
		return err
	}
	rb, err := fbcheck.Header(meta, fbHeaderRecordBatch)
	if err != nil {
		return err
	}
	if _, ok, err := rb.Ref(3); err != nil || ok {
		return errors.New("compressed record batches are not supported")
	}
	_, err = fbcheck.Buffers(rb, int64(len(body)))
	return err
}
