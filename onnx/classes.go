package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// classNames reads the class names that a run's predictions.arrow keeps
// on its probabilities column (arrowio's "pipe.class_names"), so that an
// export needs no data for them. A run without the file or the column (a
// regression) has none: nil.
func classNames(path string) (names []string, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// arrow-go panics on some malformed files.
	defer func() {
		if r := recover(); r != nil {
			names, err = nil, fmt.Errorf("%s: corrupt Arrow file: %v", path, r)
		}
	}()
	r, err := ipc.NewFileReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer r.Close()
	fields, ok := r.Schema().FieldsByName("probabilities")
	if !ok {
		return nil, nil
	}
	v, ok := fields[0].Metadata.GetValue("pipe.class_names")
	if !ok {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(v), &names); err != nil {
		return nil, fmt.Errorf("%s: class names: %w", path, err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}
