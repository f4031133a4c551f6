//go:build !unix

package arrowio

import (
	"fmt"
	"os"
)

// mapFile reads the file at path into memory: where there is no mmap, the
// "mapping" is an ordinary copy and unmap does nothing.
func mapFile(path string) (data []byte, unmap func() error, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%s is empty", path)
	}
	return data, func() error { return nil }, nil
}

// mapRange reads bytes [off, off+n) of f into memory: where there is no
// mmap, the "mapping" is a copy that the garbage collector frees.
func mapRange(f *os.File, off, n int64) (view []byte, unmap func() error, err error) {
	view = make([]byte, n)
	if _, err := f.ReadAt(view, off); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return view, func() error { return nil }, nil
}
