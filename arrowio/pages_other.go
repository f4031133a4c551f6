//go:build !linux

package arrowio

// releasePages does nothing where pipe does not release mapped pages: a
// streamed split then stays resident as it is read, as the page cache
// allows.
func releasePages([]byte) {}
