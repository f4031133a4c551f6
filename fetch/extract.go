package fetch

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

// extract unpacks the regular files of archive that lie under f.From into
// dir, keeping their paths below From. Entries elsewhere, links and devices
// are skipped; a path that would leave dir is an error, even though the
// archive's checksum was verified, since a mirror may serve another one.
func extract(ctx context.Context, f File, archive, dir string) error {
	var err error
	switch f.Extract {
	case "tar.gz":
		err = extractTarGz(ctx, f.From, archive, dir)
	case "zip":
		err = extractZip(ctx, f.From, archive, dir)
	default:
		err = fmt.Errorf("unknown archive format %q", f.Extract)
	}
	if err != nil && ctx.Err() == nil {
		var de *data.DataError
		if !errors.As(err, &de) {
			err = &data.DataError{Path: f.Name, Err: err}
		}
	}
	return err
}

func extractTarGz(ctx context.Context, from, archive, dir string) error {
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("not a gzip file: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("corrupt tar archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := writeEntry(from, h.Name, dir, tr); err != nil {
			return err
		}
	}
}

func extractZip(ctx context.Context, from, archive, dir string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("corrupt zip archive: %w", err)
	}
	defer zr.Close()
	for _, e := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Mode().IsRegular() {
			continue
		}
		r, err := e.Open()
		if err != nil {
			return fmt.Errorf("corrupt zip entry %s: %w", e.Name, err)
		}
		err = writeEntry(from, e.Name, dir, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeEntry writes the archive entry name, if it lies under from, to its
// place in dir.
func writeEntry(from, name, dir string, r io.Reader) error {
	rel, ok := strings.CutPrefix(strings.TrimPrefix(name, "./"), from)
	if !ok || rel == "" {
		return nil
	}
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("the archive entry %q would be written outside the dataset folder", name)
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("extracting %s: %w", name, err)
	}
	return out.Close()
}
