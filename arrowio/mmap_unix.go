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

// mapRange maps bytes [off, off+n) of f copy-on-write, from the page that
// holds off: view is those bytes. Only the mapping's pages can become
// resident through it, whatever the size of the page cache's folios, and
// unmap gives them all back.
func mapRange(f *os.File, off, n int64) (view []byte, unmap func() error, err error) {
	page := int64(os.Getpagesize())
	start := off - off%page
	if off < 0 || n <= 0 || off+n-start != int64(int(off+n-start)) {
		return nil, nil, fmt.Errorf("%s: cannot map %d bytes at %d", f.Name(), n, off)
	}
	m, err := syscall.Mmap(int(f.Fd()), start, int(off+n-start), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
	}
	return m[off-start:], func() error {
		if err := syscall.Munmap(m); err != nil {
			return errors.Join(fmt.Errorf("unmapping %s", f.Name()), err)
		}
		return nil
	}, nil
}
