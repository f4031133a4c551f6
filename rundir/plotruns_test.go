package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

// historyRun writes a run of spec named name whose history holds series.
func historyRun(t *testing.T, runsDir, name, specText string, h *data.History) string {
	t.Helper()
	dir, err := Write(runsDir, name, Contents{Spec: []byte(specText), Metrics: map[string]any{"spec": name}, History: h}, "")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlotRuns: the curves of three runs go on one PNG; the legend tells
// runs of the same spec apart by the fields that differ, another spec by
// its name; a run without the series is an error that names the run and
// the series it has, and writes nothing.
func TestPlotRuns(t *testing.T) {
	runs := t.TempDir()
	acc := func(v ...float64) *data.History {
		return &data.History{Names: []string{"loss", "accuracy", "val_loss", "val_accuracy"}, Values: [][]float64{v, v, v, v}}
	}
	a := historyRun(t, runs, "cnn", "name: cnn\ntrain:\n  epochs: 3\n", acc(0.5, 0.7, 0.8))
	b := historyRun(t, runs, "cnn", "name: cnn\ntrain:\n  epochs: 5\n", acc(0.4, 0.6, 0.7, 0.75, 0.8))
	c := historyRun(t, runs, "mlp", "name: mlp\n", acc(0.3))
	if got, want := curveLabels([]string{a, b, c}), []string{"cnn train.epochs=3", "cnn train.epochs=5", "mlp"}; !slices.Equal(got, want) {
		t.Errorf("legend %q, want %q", got, want)
	}
	out := filepath.Join(t.TempDir(), "curves.png")
	if err := PlotRuns(out, "val_accuracy", []string{a, b, c}); err != nil {
		t.Fatal(err)
	}
	// 8x5 inches at 96 dpi, and below them a legend line a run.
	if b := decodePNG(t, out).Bounds(); b.Dx() != 768 || b.Dy() < 480+3*12 || b.Dy() > 480+3*24+24 {
		t.Errorf("curves.png is %dx%d, want 768 wide and 480 high with 3 legend lines", b.Dx(), b.Dy())
	}
	// Reruns of one spec differ in no field: their directories tell them apart.
	again := historyRun(t, runs, "mlp", "name: mlp\n", acc(0.35))
	if got := curveLabels([]string{c, again}); !slices.Equal(got, []string{c, again}) {
		t.Errorf("reruns: legend %q, want their directories", got)
	}
	if got := curveLabels([]string{c, c}); got[0] != "mlp ("+c+")" || got[1] != got[0] {
		t.Errorf("a run given twice: legend %q", got)
	}

	noVal := historyRun(t, runs, "rating", "name: rating\n", &data.History{Names: []string{"rmse"}, Values: [][]float64{{1.1, 1.0}}})
	other := filepath.Join(t.TempDir(), "other.png")
	err := PlotRuns(other, "val_acuracy", []string{a, noVal})
	var se *SeriesError
	if !errors.As(err, &se) || se.Run != a {
		t.Fatalf("a misspelled series: %v, want a SeriesError for %s first", err, a)
	}
	for _, want := range []string{
		a + `: history.json has no val_acuracy series (did you mean "val_accuracy"?); it has accuracy, loss, val_accuracy, val_loss`,
		noVal + ": history.json has no val_acuracy series; it has rmse",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := PlotRuns(other, "val_acc", []string{a}); err == nil || !strings.Contains(err.Error(), `(did you mean "val_accuracy"?)`) {
		t.Errorf("a series cut short: %v, want the one it begins", err)
	}
	if _, statErr := os.Stat(other); statErr == nil {
		t.Error("a failed plot wrote its file")
	}
	var notRun *NotRunError
	if err := PlotRuns(other, "loss", []string{a, t.TempDir()}); !errors.As(err, &notRun) {
		t.Errorf("a folder that is no run: %v, want a NotRunError", err)
	}
	// A run stopped before its first epoch has the series but no value.
	empty := historyRun(t, runs, "cnn", "name: cnn\n", &data.History{Names: []string{"loss"}, Values: [][]float64{{}}})
	if err := PlotRuns(other, "loss", []string{empty}); !errors.As(err, &se) || !strings.Contains(err.Error(), "has no epoch of loss") {
		t.Errorf("a series without epochs: %v, want a SeriesError", err)
	}
}
