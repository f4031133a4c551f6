package arrowio

import (
	"os"
	"syscall"
)

// releasePages drops b's pages from this process's memory (MADV_DONTNEED
// on a private mapping that was only read): the resident set shrinks, the
// page cache keeps them, and touching b again reads the file again. Only
// whole pages inside b are released.
func releasePages(b []byte) {
	page := uintptr(os.Getpagesize())
	if len(b) == 0 {
		return
	}
	start := uintptr(0)
	if mis := addrOf(b) % page; mis != 0 {
		start = page - mis
	}
	end := uintptr(len(b))
	if start >= end {
		return
	}
	end -= (end - start) % page
	if end > start {
		syscall.Madvise(b[start:end], syscall.MADV_DONTNEED) // advice: a failure costs only memory
	}
}
