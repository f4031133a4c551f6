package arrowio

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// ReadClassNames returns the class names that WritePredictions recorded
// on the probabilities column of a predictions file, so that a served
// model can name its classes without loading its dataset; nil when the
// file has no probabilities (not a classifier) or names none. Only the
// schema is read. arrow-go may panic on a corrupt footer: that is an error
// here, never a crash of the caller.
func ReadClassNames(path string) (names []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			names, err = nil, fmt.Errorf("reading %s: corrupt Arrow file (%v)", path, r)
		}
	}()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer r.Close()
	schema := r.Schema()
	if kind, _ := schema.Metadata().GetValue(arrowKeyKind); kind != arrowKindPredictions {
		return nil, fmt.Errorf("reading %s: not a pipe predictions file (%s is %q)", path, arrowKeyKind, kind)
	}
	fields, ok := schema.FieldsByName("probabilities")
	if !ok || len(fields) != 1 {
		return nil, nil
	}
	raw, ok := fields[0].Metadata.GetValue(arrowKeyClassNames)
	if !ok {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(raw), &names); err != nil {
		return nil, fmt.Errorf("reading %s: class names %s: %w", path, arrowKeyClassNames, err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}
