package rundir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Key is what made a run: its resolved spec, its data and pipe's build.
// Two runs with the same Key.Key were made from the same inputs, so
// pipe compare may reuse one instead of running the spec again, and pipe
// runs gc may drop the older.
type Key struct {
	Key     string   `json:"key"`         // SHA-256 of Spec, Data and Version together
	Spec    string   `json:"spec_sha256"` // of the resolved spec without report: and golden:
	Data    []Source `json:"data"`        // the loader's source files; empty for a loader that has none
	Version string   `json:"pipe_version"`
	// Commit is the VCS revision the binary was built from, when the
	// build recorded one; it is part of Version only when the module has
	// no version of its own.
	Commit  string    `json:"commit,omitempty"`
	Created time.Time `json:"created"` // when the run directory was written
}

// Source is one data file and its SHA-256.
type Source struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// NewKey returns the key of a run of the resolved spec spec (report: and
// golden: already left out by the caller) on the data files data, made by
// pipe version; Created is left for the writer.
func NewKey(spec []byte, data []Source, version, commit string) Key {
	sum := sha256.Sum256(spec)
	k := Key{Spec: hex.EncodeToString(sum[:]), Data: data, Version: version, Commit: commit}
	if k.Data == nil {
		k.Data = []Source{} // the same JSON, so the same key, as an empty list
	}
	// Field order is fixed by the struct, so the JSON is canonical.
	b, _ := json.Marshal(struct {
		Spec    string   `json:"spec_sha256"`
		Data    []Source `json:"data"`
		Version string   `json:"pipe_version"`
	}{k.Spec, k.Data, k.Version})
	sum = sha256.Sum256(b)
	k.Key = hex.EncodeToString(sum[:])
	return k
}

// Key reads the run's run.json; nil with no error for a run written
// before runs recorded one.
func (r *Run) Key() (*Key, error) {
	path := filepath.Join(r.Dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var k Key
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &k, nil
}

// LatestWithKey returns the newest finished run of the spec called name
// under runsDir that was made with key (Key.Key), its test metrics and its
// Key; a nil Run when there is none. Runs without a run.json never
// match: nothing says what made them.
func LatestWithKey(runsDir, name, key string) (*Run, map[string]float64, *Key, error) {
	runs, err := Find(filepath.Join(runsDir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, err
	}
	for _, dir := range runs {
		r := &Run{Dir: dir}
		k, err := r.Key()
		if err != nil || k == nil || k.Key != key {
			continue // an unreadable run.json is no match either
		}
		if test, err := r.TestMetrics(); err == nil && test != nil {
			return r, test, k, nil
		}
	}
	return nil, nil, nil, nil
}
