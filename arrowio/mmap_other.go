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
