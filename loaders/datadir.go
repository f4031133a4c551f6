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

// datasetDir returns dataDir/name, or a DataError saying where pipe looked,
// how to get the data and how to point pipe elsewhere.
func datasetDir(dataDir, name string) (string, error) {
	dir := filepath.Join(dataDir, name)
	st, err := os.Stat(dir)
	if err == nil && st.IsDir() {
		return dir, nil
	}
	return "", dataErr(dir, "%s data directory not found: %s; or set --data-dir or PIPE_DATA to the folder that holds %s/", name, getData(name, dir), name)
}

// getData says how to get a dataset folder. It follows package fetch's
// catalogue (which loaders may not import; fetch's tests hold the two
// together): `pipe data fetch` for the datasets with an official source,
// where to put the files for recommenderlab's samples.
func getData(folder, dir string) string {
	switch folder {
	case "mnist", "cifar10", "imdb":
		return "`pipe data fetch " + folder + "` downloads it there (with the same --data-dir or PIPE_DATA)"
	case "ml-100k":
		return "`pipe data fetch ml100k` downloads it there (with the same --data-dir or PIPE_DATA)"
	case "jester5k", "movielense":
		return "it has no official download: put recommenderlab's " + folder + " as ratings.csv (user,item,rating) in " + dir + " (`pipe data fetch " + folder + "` says where it comes from)"
	}
	return "put its files there"
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
