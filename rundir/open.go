package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

// Run is a run directory on disk, finished or interrupted.
type Run struct {
	Dir string
}

// NotRunError is a path given as a run directory that is none.
type NotRunError struct{ msg string }

func (e *NotRunError) Error() string { return e.msg }

// Open checks that dir is a run directory (it holds the spec.yaml that a
// run writes) and returns it. When it is not, the error says what a run
// directory is and lists the runs found under dir, newest first.
func Open(dir string) (*Run, error) {
	const what = "(a run directory is what pipe run writes: runs/<spec name>/<timestamp>)"
	st, err := os.Stat(dir)
	if err != nil {
		msg := fmt.Sprintf("%s: no such run directory %s", dir, what)
		// A mistyped timestamp: the runs beside it are what was meant. The
		// working directory or / would be a long walk for a guess.
		if parent := filepath.Dir(filepath.Clean(dir)); parent != "." && parent != "/" {
			msg += listRuns(parent, "; runs under "+parent)
		}
		return nil, &NotRunError{msg}
	}
	if !st.IsDir() {
		msg := fmt.Sprintf("%s is a file, not a run directory %s", dir, what)
		if ext := filepath.Ext(dir); ext == ".yaml" || ext == ".yml" {
			msg += fmt.Sprintf("; to train the spec and write one: pipe run %s", dir)
		}
		return nil, &NotRunError{msg}
	}
	if _, err := os.Stat(filepath.Join(dir, SpecFile)); err == nil {
		return &Run{Dir: dir}, nil
	}
	msg := fmt.Sprintf("%s is not a run directory: it has no %s %s", dir, SpecFile, what)
	return nil, &NotRunError{msg + listRuns(dir, "; runs under it")}
}

// listRuns is intro, then the runs under dir newest first, one per line;
// "" when there are none.
func listRuns(dir, intro string) string {
	runs, _ := Find(dir)
	if len(runs) == 0 {
		return ""
	}
	const most = 10
	msg := intro + ", newest first:"
	for _, r := range runs[:min(len(runs), most)] {
		msg += "\n  " + r
	}
	if len(runs) > most {
		msg += fmt.Sprintf("\n  ... and %d more", len(runs)-most)
	}
	return msg
}

// Find lists the run directories under root (root itself, a spec's
// folder runs/<name>, or a runs folder), newest first. Unfinished writes
// (hidden .partial-* folders) are left out.
func Find(root string) ([]string, error) {
	var runs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, SpecFile)); err == nil {
			runs = append(runs, path)
			return filepath.SkipDir
		}
		return nil
	})
	// Timestamps sort by time; newest first, ties by path.
	slices.SortFunc(runs, func(a, b string) int {
		if c := strings.Compare(filepath.Base(b), filepath.Base(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return runs, err
}

// Latest returns the newest finished run of the spec called name under
// runsDir: one whose metrics.json has test metrics.
func Latest(runsDir, name string) (*Run, map[string]float64, error) {
	runs, err := Find(filepath.Join(runsDir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	for _, dir := range runs {
		r := &Run{Dir: dir}
		if test, err := r.TestMetrics(); err == nil && test != nil {
			return r, test, nil
		}
	}
	return nil, nil, fmt.Errorf("no finished run of %s under %s", name, runsDir)
}

// SpecPath is the run's resolved spec.
func (r *Run) SpecPath() string { return filepath.Join(r.Dir, SpecFile) }

// TestMetrics reads the final test metrics from metrics.json (nil for a
// run that did not finish).
func (r *Run) TestMetrics() (map[string]float64, error) {
	b, err := os.ReadFile(filepath.Join(r.Dir, MetricsFile))
	if err != nil {
		return nil, err
	}
	var m struct {
		Test map[string]float64 `json:"test"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(r.Dir, MetricsFile), err)
	}
	return m.Test, nil
}

// History reads history.json: every series by name.
func (r *Run) History() (map[string][]float64, error) {
	path := filepath.Join(r.Dir, HistoryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var series map[string][]float64
	if err := json.Unmarshal(b, &series); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return series, nil
}

// LoadCheckpoint attaches the run's checkpoint to store: variables that
// exist get their saved values at once, those created later (when a graph
// is built) get them on creation.
func (r *Run) LoadCheckpoint(store *model.Store) error {
	dir := filepath.Join(r.Dir, CheckpointDir)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s has no checkpoint of the fitted model: %w", r.Dir, err)
	}
	if _, err := checkpoint.Build(store).Dir(dir).Immediate().Done(); err != nil {
		return fmt.Errorf("%s: %w", r.Dir, err)
	}
	return nil
}

// SaveCheckpoint writes every variable of store under dir/checkpoint in
// GoMLX's checkpoint format (a JSON index and binary values).
func SaveCheckpoint(dir string, store *model.Store) error {
	h, err := checkpoint.Build(store).Dir(filepath.Join(dir, CheckpointDir)).Done()
	if err != nil {
		return err
	}
	return h.Save()
}
