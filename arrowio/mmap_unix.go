//go:build unix

package arrowio

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the file at path into memory copy-on-write: the pages are
// the page cache's until written, and writes stay private to this process.
// unmap releases the mapping; nothing may use data afterwards.
func mapFile(path string) (data []byte, unmap func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	if size == 0 {
		return nil, nil, fmt.Errorf("%s is empty", path)
	}
	if size != int64(int(size)) {
		return nil, nil, fmt.Errorf("%s is too large to map (%d bytes)", path, size)
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return data, func() error {
		if err := syscall.Munmap(data); err != nil {
			return errors.Join(fmt.Errorf("unmapping %s", path), err)
		}
		return nil
	}, nil
}
