package data

import "fmt"

// DataError is a problem with data files rather than with the spec: a
// missing directory, a corrupt file. The CLI gives it its own exit code.
type DataError struct {
	Path string
	Err  error
}

func (e *DataError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *DataError) Unwrap() error { return e.Err }
