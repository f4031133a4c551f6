// Package rundir owns the run directory: the files a run writes, written
// atomically; opening a finished or interrupted run; and finding runs.
// run, resume, evaluate, predict, compare and golden go through it, so the
// layout is written down once, here.
package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
)

// The files of a run directory.
const (
	SpecFile        = "spec.yaml"         // the resolved spec, every default filled in
	SourceFile      = "source.yaml"       // the spec as given: extends merged, --set applied, before defaults and blocks
	SummaryFile     = "summary.txt"       // the layer table
	MetricsFile     = "metrics.json"      // final test metrics, parameters, training time
	HistoryFile     = "history.json"      // Keras' history.history
	HistoryArrow    = "history.arrow"     // one row per epoch
	HistoryPlot     = "history.png"       // loss and metrics per epoch
	PredictionsFile = "predictions.arrow" // one row per test example
	CheckpointDir   = "checkpoint"        // GoMLX's checkpoint of every variable
	KeyFile         = "run.json"          // what made the run: its Key
	ReportFile      = "report.json"       // a classifier's classification report
	ReportText      = "report.txt"        // the same as Markdown tables
	ConfusionPlot   = "confusion.png"     // its confusion matrix, drawn
	FittedFile      = "fitted.json"       // transforms' statistics fitted on the training split, by spec path
	AugmentPlot     = "augment.png"       // training images beside their augmented copies
	// A model trained towards its image input: test inputs beside their
	// reconstructions (and, under noise, the clean targets).
	ReconstructionsPlot = "reconstructions.png"
)

// Contents is what a run writes.
type Contents struct {
	Spec        []byte                     // SpecFile
	Source      []byte                     // SourceFile; nil for none
	Summary     []byte                     // SummaryFile
	Metrics     map[string]any             // MetricsFile
	History     *data.History              // HistoryFile, HistoryArrow, HistoryPlot
	Predictions *arrowio.PredictionRows    // PredictionsFile; nil for none
	Checkpoint  *model.Store               // CheckpointDir; nil for none
	Key         *Key                       // KeyFile, Created set when written; nil for none
	Report      *Report                    // ReportFile, ReportText, ConfusionPlot; nil for none
	Fitted      map[string]json.RawMessage // FittedFile; nil for none
	Augment     *ImageGrid                 // AugmentPlot; nil for none
	Grid        *ImageGrid                 // ReconstructionsPlot; nil for none
}

// Write writes a run of the spec called name as a new directory
// runsDir/name/<timestamp>, or over replace, the same run's earlier
// directory (a checkpoint of train.checkpoint_every, or the interrupted
// run being resumed). Files go to a hidden temporary directory first,
// renamed into place only when complete, so an interrupted write leaves no
// half-written directory that looks finished, and no other run's
// directory is ever reused.
func Write(runsDir, name string, c Contents, replace string) (string, error) {
	if runsDir == "" {
		runsDir = "runs"
	}
	parent := filepath.Join(runsDir, name)
	if replace != "" {
		// Cleaned, so that a directory given with a trailing slash
		// (--resume runs/x/<timestamp>/) has its real parent.
		replace = filepath.Clean(replace)
		parent = filepath.Dir(replace)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	RemoveStalePartials(parent)
	tmp, err := os.MkdirTemp(parent, ".partial-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := c.write(tmp, name); err != nil {
		return "", err
	}
	if replace != "" {
		// Moved aside, then replaced, then removed, so a crash leaves one
		// of the two whole.
		old := filepath.Join(parent, ".replaced-"+filepath.Base(tmp))
		if err := os.Rename(replace, old); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, replace); err != nil {
			os.Rename(old, replace)
			return "", err
		}
		return replace, os.RemoveAll(old)
	}
	stamp := time.Now().Format("20060102-150405")
	for i := 1; ; i++ {
		dir := filepath.Join(parent, stamp)
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		// os.Rename onto an existing non-empty directory fails, so a
		// finished run is never replaced; try the next name instead.
		err := os.Rename(tmp, dir)
		if err == nil {
			return dir, nil
		}
		if _, statErr := os.Stat(dir); statErr != nil || i > 100 {
			return "", errors.Join(fmt.Errorf("writing run directory %s", dir), err)
		}
	}
}

// write puts every file of c into dir.
func (c Contents) write(dir, name string) error {
	files := map[string]any{HistoryFile: c.History, MetricsFile: c.Metrics}
	if c.Fitted != nil {
		files[FittedFile] = c.Fitted
	}
	if c.Key != nil {
		k := *c.Key
		k.Created = time.Now().Truncate(time.Millisecond) // orders runs of the same second
		files[KeyFile] = k
	}
	for file, v := range files {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, SpecFile), c.Spec, 0o644); err != nil {
		return err
	}
	if c.Source != nil {
		if err := os.WriteFile(filepath.Join(dir, SourceFile), c.Source, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), c.Summary, 0o644); err != nil {
		return err
	}
	if err := arrowio.WriteHistory(filepath.Join(dir, HistoryArrow), c.History); err != nil {
		return err
	}
	if err := writeHistoryPlot(filepath.Join(dir, HistoryPlot), name, c.History); err != nil {
		return fmt.Errorf("%s: %w", HistoryPlot, err)
	}
	if c.Checkpoint != nil {
		if err := SaveCheckpoint(dir, c.Checkpoint); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	if c.Predictions != nil {
		if err := arrowio.WritePredictions(filepath.Join(dir, PredictionsFile), *c.Predictions); err != nil {
			return err
		}
	}
	if c.Report != nil {
		if err := c.Report.write(dir, name); err != nil {
			return err
		}
	}
	if c.Augment != nil {
		if err := writeImageGrid(filepath.Join(dir, AugmentPlot), name, *c.Augment); err != nil {
			return fmt.Errorf("%s: %w", AugmentPlot, err)
		}
	}
	if c.Grid != nil {
		if err := writeImageGrid(filepath.Join(dir, ReconstructionsPlot), name, *c.Grid); err != nil {
			return fmt.Errorf("%s: %w", ReconstructionsPlot, err)
		}
	}
	return nil
}

// RemoveStalePartials deletes what killed writers left in dir: hidden
// .partial-* folders more than a day old (a live writer's is younger).
// The cache writes its entries the same way and calls it too.
func RemoveStalePartials(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, ".partial-*"))
	for _, p := range old {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
			os.RemoveAll(p)
		}
	}
}
