package rundir

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// removable checks that dir is a run directory inside runsDir and
// returns its real path. Anything else is refused: removing is only ever
// done to runs, and only under the runs folder the user named, so a typo
// or a link can never reach other files.
func removable(runsDir, dir string) (string, error) {
	refuse := func(why string) error {
		return &NotRunError{fmt.Sprintf("%s: %s; nothing was removed", dir, why)}
	}
	st, err := os.Lstat(dir)
	switch {
	case err != nil:
		return "", refuse("no such run directory")
	case st.Mode()&fs.ModeSymlink != 0:
		return "", refuse("a link, not a run directory")
	case !st.IsDir():
		return "", refuse("a file, not a run directory")
	}
	if spec, err := os.Lstat(filepath.Join(dir, SpecFile)); err != nil || !spec.Mode().IsRegular() {
		return "", refuse(fmt.Sprintf("not a run directory (it has no %s)", SpecFile))
	}
	if strings.HasPrefix(filepath.Base(dir), ".") {
		return "", refuse("a run being written (or left by a killed writer), not a finished run directory")
	}
	real, err := realPath(dir)
	if err != nil {
		return "", refuse(err.Error())
	}
	root, err := realPath(runsDir)
	if err != nil {
		return "", refuse(fmt.Sprintf("the runs directory %s: %v", runsDir, err))
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", refuse(fmt.Sprintf("not under the runs directory %s (--runs-dir)", runsDir))
	}
	return real, nil
}

func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// Remove deletes the run directories dirs, each of which must be a run
// directory under runsDir. All are checked before any is removed, so a
// mistyped argument removes nothing.
func Remove(runsDir string, dirs []string) error {
	real := make([]string, len(dirs))
	for i, d := range dirs {
		r, err := removable(runsDir, d)
		if err != nil {
			return err
		}
		real[i] = r
	}
	for i, r := range real {
		if err := os.RemoveAll(r); err != nil {
			return fmt.Errorf("removing %s: %w", dirs[i], err)
		}
	}
	return nil
}

// Collected is what GC removed (or, in a dry run, would remove).
type Collected struct {
	Removed []string // run directories, newest first within each key
	Bytes   int64    // their size
	Kept    int      // runs with a key that stay
	// NoKey counts runs without a run.json, left alone: nothing says
	// which runs they duplicate.
	NoKey int
}

// GC keeps the newest keep finished runs of each key (rundir.Key: the
// same spec, data and pipe version) under runsDir and removes the other
// finished runs of that key. An interrupted run is removed when a
// finished run of its key is newer (its work is done), and kept
// otherwise, since pipe run --resume may continue it. With dryRun it
// removes nothing and says what it would remove.
func GC(runsDir string, keep int, dryRun bool) (*Collected, error) {
	if keep < 1 {
		return nil, fmt.Errorf("--keep %d: keep at least 1 run per key (pipe runs rm removes runs by name)", keep)
	}
	out := &Collected{}
	dirs, err := Find(runsDir)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil // no runs dir: nothing to collect
	} else if err != nil {
		return nil, err
	}
	byKey := map[string][]*Info{}
	var keys []string
	for _, d := range dirs {
		info, err := (&Run{Dir: d}).Info()
		if err != nil || info.Key == nil || info.Key.Key == "" {
			out.NoKey++ // an unreadable run is left alone as well
			continue
		}
		if _, ok := byKey[info.Key.Key]; !ok {
			keys = append(keys, info.Key.Key)
		}
		byKey[info.Key.Key] = append(byKey[info.Key.Key], info)
	}
	for _, k := range keys {
		runs := byKey[k]
		slices.SortStableFunc(runs, func(a, b *Info) int {
			return cmp.Or(b.Made.Compare(a.Made), strings.Compare(b.Dir, a.Dir))
		})
		finished := 0
		for _, r := range runs {
			drop := false
			if r.Finished() {
				drop = finished >= keep
				finished++
			} else {
				drop = finished > 0
			}
			if !drop {
				out.Kept++
				continue
			}
			real, err := removable(runsDir, r.Dir)
			if err != nil {
				return out, err
			}
			out.Bytes += size(real)
			if !dryRun {
				if err := os.RemoveAll(real); err != nil {
					return out, fmt.Errorf("removing %s: %w", r.Dir, err)
				}
			}
			out.Removed = append(out.Removed, r.Dir)
		}
	}
	return out, nil
}

// size is the bytes of the files under dir.
func size(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
