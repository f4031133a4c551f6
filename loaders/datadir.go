package loaders

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pipe-ml/pipe/data"
)

// openData opens a data file; a missing or unreadable one is a DataError
// naming it.
func openData(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, dataErr(path, "file not found")
	} else if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	return f, nil
}

func dataErr(path, format string, args ...any) error {
	return &data.DataError{Path: path, Err: fmt.Errorf(format, args...)}
}

// datasetDir returns dataDir/name, or a DataError saying where pipe looked
// and how to point it elsewhere.
func datasetDir(dataDir, name string) (string, error) {
	dir := filepath.Join(dataDir, name)
	st, err := os.Stat(dir)
	if err == nil && st.IsDir() {
		return dir, nil
	}
	return "", dataErr(dir, "%s data directory not found (set --data-dir or PIPE_DATA to the folder that holds %s/)", name, name)
}

// openMaybeGzip opens dir/name, or dir/name.gz decompressed on the fly.
func openMaybeGzip(dir, name string) (io.ReadCloser, string, error) {
	path := filepath.Join(dir, name)
	if f, err := os.Open(path); err == nil {
		return f, path, nil
	}
	gzPath := path + ".gz"
	f, err := os.Open(gzPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, path, dataErr(path, "file not found (nor %s.gz)", name)
	} else if err != nil {
		return nil, gzPath, &data.DataError{Path: gzPath, Err: err}
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, gzPath, dataErr(gzPath, "not a gzip file: %v", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, gzPath, nil
}
