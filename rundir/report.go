package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Report is a classifier's classification report, as the run directory
// holds it: ReportFile (JSON), ReportText (Markdown) and ConfusionPlot.
// rundir writes what the evaluators computed; it does not compute scores.
type Report struct {
	JSON      any       // ReportFile: marshalled as it is
	Text      []byte    // ReportText
	Confusion Confusion // ConfusionPlot
}

// write puts the report's three files into dir; title heads the plot.
func (r *Report) write(dir, title string) error {
	b, err := json.MarshalIndent(r.JSON, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", ReportFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ReportFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ReportText), r.Text, 0o644); err != nil {
		return err
	}
	if err := writeConfusionPlot(filepath.Join(dir, ConfusionPlot), title, r.Confusion); err != nil {
		return fmt.Errorf("%s: %w", ConfusionPlot, err)
	}
	return nil
}

// Classes are the class names a classifier's run recorded in
// metrics.json ("classes"), from its dataset at training time, so that
// predict can name classes without loading the dataset; nil for a run
// whose dataset names none, that is no classifier, or that was written
// before runs recorded them.
func (r *Run) Classes() ([]string, error) {
	path := filepath.Join(r.Dir, MetricsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var m struct {
		Classes []string `json:"classes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m.Classes, nil
}
