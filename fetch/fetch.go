package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

// Options say where a fetch writes and how it reports.
type Options struct {
	DataDir string // the data directory; the dataset goes to DataDir/Folder
	Force   bool   // replace a dataset already present
	// Mirror, when set, replaces every source: file F of a dataset is
	// fetched from Mirror/<folder>/F (a local copy of the official files,
	// or the test server).
	Mirror string
	Log    io.Writer // plain progress lines; nil for none
	Bar    io.Writer // when set (a terminal), a progress bar is drawn there instead of per-file lines
}

// staging is the folder under the data directory where downloads and
// extraction happen. Loaders never look there; only an interrupted
// download's .partial file outlives a fetch, so that the next one resumes.
const staging = ".fetch"

// Fetch downloads the dataset into opt.DataDir/d.Folder: every file is
// verified against its recorded checksums and archives are extracted in a
// folder beside it, which is renamed into place only once complete.
// It reports whether it wrote anything (false: the dataset was already there).
func Fetch(ctx context.Context, d *Dataset, opt Options) (wrote bool, err error) {
	dataDir, err := filepath.Abs(opt.DataDir)
	if err != nil {
		return false, err
	}
	dest := filepath.Join(dataDir, d.Folder)
	if d.Manual != "" {
		return false, &ManualError{Dataset: d.Name, Text: fmt.Sprintf(d.Manual, dest+string(filepath.Separator))}
	}
	if st, err := os.Stat(dest); err == nil {
		if !st.IsDir() {
			return false, &data.DataError{Path: dest, Err: errors.New("exists and is not a folder; move it away")}
		}
		missing := d.Missing(dataDir)
		switch {
		case opt.Force:
		case missing == "":
			logf(opt.Log, "%s: already in %s (--force downloads it again)\n", d.Name, dest)
			return false, nil
		default:
			return false, &data.DataError{Path: dest, Err: fmt.Errorf("exists but has no %s: move it away, or pass --force to replace the folder", missing)}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, &data.DataError{Path: dest, Err: err}
	}

	work := filepath.Join(dataDir, staging, d.Folder)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return false, &data.DataError{Path: work, Err: err}
	}
	// An earlier fetch killed while extracting leaves a tmp- folder: it
	// is never resumed, so it goes now.
	if old, _ := filepath.Glob(filepath.Join(work, "tmp-*")); len(old) > 0 {
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	// Whatever happens next, what is left is at most what the next fetch
	// resumes: a .partial download, or a verified one while another file
	// of the dataset failed to download. A checksum mismatch, or a failure
	// once every file is downloaded (a bad archive), leaves nothing (wipe):
	// the next fetch would only find it bad again.
	ok, wipe := false, false
	defer func() {
		if ok {
			os.RemoveAll(work)
		} else {
			// Ctrl-C while extracting keeps the verified archive.
			keepResumable(work, d, (wipe && ctx.Err() == nil) || errors.As(err, new(*ChecksumError)))
		}
		os.Remove(filepath.Join(dataDir, staging)) // only when empty
	}()

	dl := newDownloader(opt)
	var got []string
	for _, f := range d.Files {
		if opt.Mirror != "" {
			f.URLs = []string{strings.TrimSuffix(opt.Mirror, "/") + "/" + d.Folder + "/" + f.Name}
		}
		path := filepath.Join(work, f.Name)
		if err := dl.fetch(ctx, f, path); err != nil {
			var off *offlineError
			if errors.As(err, &off) {
				off.byHand, off.dest = d.ByHand, dest
				return false, &data.DataError{Path: off.urls[0], Err: err}
			}
			return false, err
		}
		got = append(got, path)
	}

	wipe = true
	// Not os.MkdirTemp: its folder is private (0700), and this one becomes
	// the dataset folder, made like any other under the user's umask.
	tmp := filepath.Join(work, fmt.Sprintf("tmp-%d", os.Getpid()))
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return false, &data.DataError{Path: tmp, Err: err}
	}
	for i, f := range d.Files {
		if f.Extract == "" {
			if err := os.Rename(got[i], filepath.Join(tmp, f.Name)); err != nil {
				return false, &data.DataError{Path: got[i], Err: err}
			}
			continue
		}
		logf(dl.log, "%s: extracting %s\n", d.Name, f.Name)
		if err := extract(ctx, f, got[i], filepath.Join(tmp, filepath.FromSlash(f.To))); err != nil {
			return false, err
		}
		os.Remove(got[i]) // the archive is not needed once extracted
	}
	for _, c := range d.Checks {
		path := filepath.Join(tmp, filepath.FromSlash(c.Path))
		final := filepath.Join(dest, filepath.FromSlash(c.Path))
		sums, err := hashFile(path)
		if err != nil {
			return false, &data.DataError{Path: final, Err: errors.New("the download does not hold this file")}
		}
		if sums.sha256 != c.SHA256 {
			return false, &data.DataError{Path: final, Err: &ChecksumError{Kind: "sha256", Got: sums.sha256, Want: c.SHA256}}
		}
	}
	if m := missingIn(tmp, d.Needs); m != "" {
		return false, &data.DataError{Path: dest, Err: fmt.Errorf("the download has no %s", m)}
	}
	if err := install(tmp, dest, work); err != nil {
		return false, err
	}
	ok = true
	logf(opt.Log, "%s: verified and installed in %s\n", d.Name, dest)
	return true, nil
}

// install renames the complete folder tmp to dest. A dataset already there
// (--force) is first renamed aside, so that a failure leaves one of the two
// whole, then removed.
func install(tmp, dest, work string) error {
	var old string
	if _, err := os.Stat(dest); err == nil {
		old = filepath.Join(work, "old")
		if err := os.Rename(dest, old); err != nil {
			return &data.DataError{Path: dest, Err: fmt.Errorf("cannot replace it: %w", err)}
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		if old != "" {
			os.Rename(old, dest)
		}
		return &data.DataError{Path: dest, Err: err}
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// keepResumable empties the work folder but for what the next fetch can
// resume or reuse (the .partial and verified downloads of d's files; none
// when wipe), and removes it when nothing is left.
func keepResumable(work string, d *Dataset, wipe bool) {
	keep := map[string]bool{}
	if !wipe {
		for _, f := range d.Files {
			keep[f.Name], keep[f.Name+partialSuffix] = true, true
		}
	}
	entries, _ := os.ReadDir(work)
	for _, e := range entries {
		if !keep[e.Name()] {
			os.RemoveAll(filepath.Join(work, e.Name()))
		}
	}
	os.Remove(work)
}

// Missing returns the first file the loader needs that dataDir/Folder
// lacks, or "" when the dataset is complete.
func (d *Dataset) Missing(dataDir string) string {
	return missingIn(filepath.Join(dataDir, d.Folder), d.Needs)
}

func missingIn(dir string, needs []string) string {
	for _, n := range needs {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if exists(p) {
			continue
		}
		if plain, gz := strings.CutSuffix(p, ".gz"); gz && exists(plain) {
			continue
		}
		return n
	}
	return ""
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
