package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
)

// cacheFormat versions the cache layout and the Arrow encoding of splits;
// bumping it gives every spec a new cache entry. (A variable only so that a
// test can bump it.) 2: an entry holds the data before the batch steps
// (uint8 pixels, int32 labels), and its key names only the transforms
// before them.
var cacheFormat = 2

// cacheKey is what produced a preprocessed dataset. Its hash names the
// cache entry, so any change to it — a loader or transform param, a
// source file, the format — gives a new entry.
type cacheKey struct {
	Format     int      `json:"format"`
	Loader     string   `json:"loader"`
	Transforms []string `json:"transforms"`
	Sources    []source `json:"sources"`
	// StreamRows is data.stream's batch_rows: a streamed entry is written
	// in record batches of this many examples (0: one batch).
	StreamRows int `json:"stream_batch_rows,omitempty"`
}

type source struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// cacheMeta is an entry's meta.json: the key it was built from, what the
// Arrow files cannot hold, and their checksums.
type cacheMeta struct {
	Key     cacheKey          `json:"key"`
	Classes []string          `json:"classes,omitempty"`
	Ratings *data.RatingInfo  `json:"ratings,omitempty"`
	CRC32C  map[string]uint32 `json:"crc32c"`
	// Fitted is the state of the transforms fitted on the training split.
	Fitted  map[string]json.RawMessage `json:"fitted,omitempty"`
	Created time.Time                  `json:"created"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// key returns the plan's cache key, or ok false when its loader cannot be
// cached (it is not loaders.Sourced).
func (p *Plan) key(dataDir, cacheDir string) (key cacheKey, id string, ok bool, err error) {
	sourced, ok := p.Loader.(loaders.Sourced)
	if !ok {
		return key, "", false, nil
	}
	key = cacheKey{Format: cacheFormat, Loader: p.DataKey.Loader, Transforms: p.DataKey.Transforms}
	if p.Stream != nil {
		key.StreamRows = p.Stream.BatchRows
	}
	if key.Sources, err = checksumFolder(sourceDir(dataDir, sourced), cacheDir); err != nil {
		return key, "", false, err
	}
	b, _ := json.Marshal(key)
	sum := sha256.Sum256(b)
	return key, hex.EncodeToString(sum[:16]), true, nil
}

// checksumFolder returns the SHA-256 of every file under dir. Hashing
// CIFAR-10's 176 MB on every run would cost more than parsing it, so a
// file's checksum is remembered with its size and modification time, as
// build tools do, and computed again only when either changes.
func checksumFolder(dir, cacheDir string) ([]source, error) {
	memoPath := filepath.Join(cacheDir, "checksums.json")
	memo := map[string]string{}
	if b, err := os.ReadFile(memoPath); err == nil {
		json.Unmarshal(b, &memo) // a corrupt memo is only a slower run
	}
	var out []source
	changed := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		stamp := fmt.Sprintf("%s|%d|%d", path, info.Size(), info.ModTime().UnixNano())
		sum, ok := memo[stamp]
		if !ok {
			if sum, err = sha256File(path); err != nil {
				return err
			}
			memo[stamp], changed = sum, true
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, source{Name: rel, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, &data.DataError{Path: dir, Err: err}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if changed {
		if b, err := json.Marshal(memo); err == nil {
			writeFileAtomic(memoPath, b) // best effort: it only saves time
		}
	}
	return out, nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readCache opens the entry in dir. Any problem — a missing or truncated
// file, a checksum that does not match, an Arrow file that does not
// validate — makes it a miss, and the caller rebuilds the entry.
func readCache(dir string, key cacheKey) (*data.Dataset, io.Closer, error) {
	meta, err := checkEntry(dir, key)
	if err != nil {
		return nil, nil, err
	}
	ds := &data.Dataset{Classes: meta.Classes, Ratings: meta.Ratings}
	var closers closeAll
	for name, split := range map[string]*data.Split{"train.arrow": &ds.Train, "test.arrow": &ds.Test} {
		s, c, err := arrowio.ReadSplit(filepath.Join(dir, name))
		if err != nil {
			closers.Close()
			return nil, nil, err
		}
		*split, closers = s, append(closers, c)
	}
	return ds, closers, nil
}

// checkEntry reads the meta.json of the entry in dir and checks that it
// was built from key and that its split files match their checksums.
func checkEntry(dir string, key cacheKey) (cacheMeta, error) {
	var meta cacheMeta
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return meta, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("meta.json: %w", err)
	}
	if want, _ := json.Marshal(key); string(want) != string(mustJSON(meta.Key)) {
		return meta, fmt.Errorf("entry was built from another key")
	}
	for _, name := range []string{"train.arrow", "test.arrow"} {
		if sum, err := crc32cFile(filepath.Join(dir, name)); err != nil || sum != meta.CRC32C[name] {
			return meta, fmt.Errorf("%s: checksum does not match (%v)", name, err)
		}
	}
	return meta, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func crc32cFile(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	_, err = io.Copy(h, f)
	return h.Sum32(), err
}

// writeCache stores ds as the entry dir.
func writeCache(dir string, key cacheKey, ds *data.Dataset, fitted map[string]json.RawMessage) error {
	return writeEntry(dir, key, func(tmp string) (*data.Dataset, error) {
		for name, split := range map[string]*data.Split{"train.arrow": &ds.Train, "test.arrow": &ds.Test} {
			if err := arrowio.WriteSplit(filepath.Join(tmp, name), split); err != nil {
				return nil, err
			}
		}
		return ds, nil
	}, func() map[string]json.RawMessage { return fitted })
}

// writeEntry makes the entry dir: fill writes train.arrow and test.arrow
// into a temporary folder and returns a dataset whose classes and rating
// info go in meta.json (its splits unused), then fitted gives the fitted
// state. The entry is written in full under a temporary name, then
// renamed, so an interrupted write leaves no entry that a later run would
// trust.
func writeEntry(dir string, key cacheKey, fill func(tmp string) (*data.Dataset, error), fitted func() map[string]json.RawMessage) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	rundir.RemoveStalePartials(filepath.Dir(dir))
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".partial-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	ds, err := fill(tmp)
	if err != nil {
		return err
	}
	meta := cacheMeta{Key: key, Classes: ds.Classes, Ratings: ds.Ratings, CRC32C: map[string]uint32{}, Created: time.Now().UTC(), Fitted: fitted()}
	for _, name := range []string{"train.arrow", "test.arrow"} {
		if meta.CRC32C[name], err = crc32cFile(filepath.Join(tmp, name)); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o644); err != nil {
		return err
	}
	os.RemoveAll(dir) // a corrupt entry being replaced
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// writeFileAtomic writes path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// closeAll closes several mappings.
type closeAll []io.Closer

func (c closeAll) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// CacheEntry is one cached dataset, for `pipe cache list`. An entry holds
// the whole dataset after the transforms: train_limit and test_limit are
// applied after the cache, so runs that differ only in them share it.
type CacheEntry struct {
	ID         string
	Loader     string   // the loader and its params, canonical YAML ("" when meta.json is unreadable)
	Transforms []string // each transform and its params, canonical YAML
	// Sources is a short digest of the source files' checksums: entries of
	// the same loader and transforms built from other files differ in it.
	Sources string
	Bytes   int64
	Created time.Time
}

// Describe is what produced the entry on one line of at most width
// characters (0: no limit): the loader and its params, then the
// transforms, e.g. "mnist | scale: {divide: 255, ...}; reshape: ...".
func (e CacheEntry) Describe(width int) string {
	if e.Loader == "" {
		return "(no readable meta.json: an entry of another pipe version, or damaged)"
	}
	line := oneLine(e.Loader)
	if len(e.Transforms) > 0 {
		ts := make([]string, len(e.Transforms))
		for i, t := range e.Transforms {
			ts[i] = oneLine(t)
		}
		line += " | " + strings.Join(ts, "; ")
	}
	if r := []rune(line); width > 3 && len(r) > width {
		line = string(r[:width-3]) + "..."
	}
	return line
}

// oneLine folds YAML's line breaks and runs of spaces into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// DescribeCache describes each entry in one line (Describe), adding the
// digest of its source files where two entries would otherwise read the
// same (the data files changed between the runs that made them).
func DescribeCache(entries []CacheEntry, width int) []string {
	lines := make([]string, len(entries))
	seen := map[string]int{}
	for i, e := range entries {
		lines[i] = e.Describe(0)
		seen[lines[i]]++
	}
	for i, e := range entries {
		suffix := ""
		if seen[lines[i]] > 1 && e.Sources != "" {
			suffix = " (source files " + e.Sources + ")"
		}
		if width > 0 {
			lines[i] = e.Describe(max(width-len(suffix), 4))
		}
		lines[i] += suffix
	}
	return lines
}

// ListCache lists the entries in cacheDir.
func ListCache(cacheDir string) ([]CacheEntry, error) {
	dirs, err := os.ReadDir(cacheDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []CacheEntry
	for _, d := range dirs {
		if !d.IsDir() || d.Name()[0] == '.' {
			continue
		}
		e := CacheEntry{ID: d.Name()}
		if b, err := os.ReadFile(filepath.Join(cacheDir, d.Name(), "meta.json")); err == nil {
			var meta cacheMeta
			if json.Unmarshal(b, &meta) == nil {
				e.Loader, e.Transforms, e.Created = meta.Key.Loader, meta.Key.Transforms, meta.Created
				sum := sha256.Sum256(mustJSON(meta.Key.Sources))
				e.Sources = hex.EncodeToString(sum[:4])
			}
		}
		filepath.WalkDir(filepath.Join(cacheDir, d.Name()), func(_ string, f fs.DirEntry, err error) error {
			if err == nil && !f.IsDir() {
				if info, err := f.Info(); err == nil {
					e.Bytes += info.Size()
				}
			}
			return nil
		})
		out = append(out, e)
	}
	return out, nil
}

// ClearCache removes cacheDir and everything in it.
func ClearCache(cacheDir string) error { return os.RemoveAll(cacheDir) }

// sourceDir is the folder a Sourced loader reads: below the data
// directory, or where an absolute path puts it.
func sourceDir(dataDir string, s loaders.Sourced) string {
	if filepath.IsAbs(s.Folder()) {
		return s.Folder()
	}
	return filepath.Join(dataDir, s.Folder())
}
