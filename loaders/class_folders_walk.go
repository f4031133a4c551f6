package loaders

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

// A class-folder dataset (image_folder, text_folder, imdb) is a tree of
// files, either a folder on disk or a tar archive of one, read the same
// way: treeSource walks it and hands each file below the root to the
// loader as its path components below the root (rel) and its bytes.
//
// Both forms skip hidden entries (a component starting with "."): Keras
// skips hidden class folders, and archives made on macOS carry "._name"
// resource forks that are not images or texts.

// treeSource is where a class-folder dataset sits.
type treeSource struct {
	path    string // a folder, or a .tar.gz, .tgz or .tar file
	root    string // the folder below path that holds the dataset ("" for path itself), slash-separated
	archive bool
	gzipped bool
}

// newTreeSource tells a folder from an archive by what is on disk.
func newTreeSource(p, root string) (treeSource, error) {
	s := treeSource{path: p, root: strings.Trim(path.Clean("/"+root), "/")}
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return s, dataErr(p, "not found: path names a folder of class folders, or a .tar.gz of one, below the data directory (--data-dir, PIPE_DATA)")
	} else if err != nil {
		return s, &data.DataError{Path: p, Err: err}
	}
	if st.IsDir() {
		return s, nil
	}
	lower := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		s.archive, s.gzipped = true, true
	case strings.HasSuffix(lower, ".tar"):
		s.archive = true
	default:
		return s, dataErr(p, "neither a folder nor a .tar.gz, .tgz or .tar archive")
	}
	return s, nil
}

// where names a place below the root for messages: the file system path
// of a folder, the member name in an archive (with a trailing / for a
// folder).
func (s treeSource) where(rel []string, isDir bool) string {
	member := path.Join(append([]string{s.root}, rel...)...)
	if !s.archive {
		return filepath.Join(s.path, filepath.FromSlash(member))
	}
	if isDir {
		member += "/"
	}
	return member
}

// errAt is a DataError about the file or folder rel: it names the file
// itself in a folder, the archive and the member in an archive.
func (s treeSource) errAt(rel []string, isDir bool, format string, args ...any) error {
	if s.archive {
		return dataErr(s.path, "%s: %s", s.where(rel, isDir), fmt.Sprintf(format, args...))
	}
	return dataErr(s.where(rel, isDir), format, args...)
}

// treeVisitor is what a walk calls back.
type treeVisitor struct {
	// dir is called for every folder below the root, in an archive also
	// for folders implied by a member's name (archives need not list them).
	dir func(rel []string)
	// want says whether file rel is read; file gets its bytes, which are
	// valid only during the call (the buffer is reused). An error from
	// file is reported at the file (treeSource.errAt).
	want func(rel []string) bool
	file func(rel []string, body []byte) error
}

// walk calls v for everything below the root. maxBytes bounds a file, so
// that a corrupt archive header or a stray huge file cannot exhaust memory.
func (s treeSource) walk(maxBytes int64, v treeVisitor) error {
	if s.archive {
		return s.walkArchive(maxBytes, v)
	}
	return s.walkFolder(maxBytes, v)
}

func (s treeSource) walkFolder(maxBytes int64, v treeVisitor) error {
	base := filepath.Join(s.path, filepath.FromSlash(s.root))
	if st, err := os.Stat(base); err != nil || !st.IsDir() {
		return dataErr(base, "folder not found (root: %q below %s)", s.root, s.path)
	}
	// WalkDir goes in lexical order, so the walk is deterministic; it does
	// not follow links to folders (as Keras' follow_links: False).
	return filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &data.DataError{Path: p, Err: err}
		}
		if p == base {
			return nil
		}
		relPath, err := filepath.Rel(base, p)
		if err != nil {
			return &data.DataError{Path: p, Err: err}
		}
		rel := strings.Split(filepath.ToSlash(relPath), "/")
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			v.dir(rel)
			return nil
		}
		if !v.want(rel) {
			return nil
		}
		body, err := readFileLimited(p, maxBytes)
		if err != nil {
			return err
		}
		if err := v.file(rel, body); err != nil {
			return s.errAt(rel, false, "%v", err)
		}
		return nil
	})
}

// readFileLimited reads a regular file (a link to one too) of at most
// maxBytes.
func readFileLimited(p string, maxBytes int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, &data.DataError{Path: p, Err: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, dataErr(p, "not a regular file")
	}
	body, err := readLimited(f, maxBytes)
	if err != nil {
		return nil, dataErr(p, "%v", err)
	}
	return body, nil
}

// readLimited reads r to its end, failing past maxBytes. Memory grows
// with the bytes really read, never with a size a header claims.
func readLimited(r io.Reader, maxBytes int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("more than %d bytes, larger than a file of this dataset can be", maxBytes)
	}
	return body, nil
}

func (s treeSource) walkArchive(maxBytes int64, v treeVisitor) error {
	f, err := os.Open(s.path)
	if err != nil {
		return &data.DataError{Path: s.path, Err: err}
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	var zr *gzip.Reader
	if s.gzipped {
		if zr, err = gzip.NewReader(r); err != nil {
			return dataErr(s.path, "not a gzip file: %v", err)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	var buf bytes.Buffer // reused: one file's bytes at a time
	files := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return dataErr(s.path, "corrupt archive after %d files: %v", files, err)
		}
		rel, ok := s.member(hdr.Name)
		if !ok {
			continue
		}
		isDir := hdr.Typeflag == tar.TypeDir
		for i := 1; i < len(rel); i++ { // the folders its name implies
			v.dir(rel[:i])
		}
		if isDir {
			v.dir(rel)
			continue
		}
		if !hdr.FileInfo().Mode().IsRegular() || !v.want(rel) {
			continue
		}
		if hdr.Size > maxBytes {
			return s.errAt(rel, false, "%d bytes, larger than a file of this dataset can be", hdr.Size)
		}
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(tr, maxBytes)); err != nil {
			return s.errAt(rel, false, "corrupt archive: %v", err)
		}
		files++
		if err := v.file(rel, buf.Bytes()); err != nil {
			return s.errAt(rel, false, "%v", err)
		}
	}
	if zr != nil {
		// Read to the end of the gzip stream, so that its checksum is verified.
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return dataErr(s.path, "corrupt gzip stream: %v", err)
		}
	}
	return nil
}

// member returns the components of an archive member's name below the
// root; ok is false for members elsewhere, hidden ones, and names that
// climb out of the archive ("../x", "/etc/x").
func (s treeSource) member(name string) (rel []string, ok bool) {
	name = strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
	if name == "" || path.IsAbs(name) {
		return nil, false
	}
	clean := path.Clean(name)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, false
	}
	if s.root != "" {
		rest, found := strings.CutPrefix(clean, s.root+"/")
		if !found {
			return nil, false
		}
		clean = rest
	}
	rel = strings.Split(clean, "/")
	for _, c := range rel {
		if strings.HasPrefix(c, ".") {
			return nil, false
		}
	}
	return rel, true
}
