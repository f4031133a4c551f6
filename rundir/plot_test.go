package rundir

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"gonum.org/v1/plot"
)

// TestHistoryTicksDiffer: the panels of one- and two-epoch histories, whose
// values span a few thousandths (losses near 2.30), label their ticks so
// that neighbouring labels differ and each reads as the value it marks.
func TestHistoryTicksDiffer(t *testing.T) {
	histories := map[string]*data.History{
		"1 epoch": {Names: []string{"loss", "accuracy", "val_loss", "val_accuracy"},
			Values: [][]float64{{2.3090}, {0.1123}, {2.3010}, {0.1135}}},
		"2 epochs": {Names: []string{"loss", "val_loss"},
			Values: [][]float64{{2.30951, 2.30412}, {2.30633, 2.30104}}},
		"1 epoch, no validation": {Names: []string{"rmse"}, Values: [][]float64{{1.0246}}},
	}
	for name, h := range histories {
		panels, err := historyPanels("t", h)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range panels {
			for axis, a := range map[string]*plot.Axis{"x": &p.X, "y": &p.Y} {
				lo, hi := a.Min, a.Max
				if lo == hi { // as plot widens an empty range before asking for ticks
					lo, hi = lo-1, hi+1
				}
				var labels []string
				for _, tick := range a.Tick.Marker.Ticks(lo, hi) {
					if tick.Label == "" {
						continue
					}
					labels = append(labels, tick.Label)
					if v, err := strconv.ParseFloat(tick.Label, 64); err != nil || math.Abs(v-tick.Value) > (hi-lo)/100 {
						t.Errorf("%s, %s, %s axis: label %q marks %v", name, p.Title.Text, axis, tick.Label, tick.Value)
					}
				}
				if len(labels) < 2 {
					t.Errorf("%s, %s, %s axis: labels %q", name, p.Title.Text, axis, labels)
				}
				for k := 1; k < len(labels); k++ {
					if labels[k] == labels[k-1] {
						t.Errorf("%s, %s, %s axis [%v, %v]: neighbouring labels are the same: %q", name, p.Title.Text, axis, lo, hi, labels)
						break
					}
				}
			}
		}
		// And the whole figure draws.
		path := filepath.Join(t.TempDir(), "history.png")
		if err := writeHistoryPlot(path, "t", h); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("%s: no history.png: %v", name, err)
		}
	}
}

// TestDistinctTicksRanges: the labels differ and are exact enough for wide,
// narrow, tiny and large ranges alike.
func TestDistinctTicksRanges(t *testing.T) {
	for _, r := range [][2]float64{{2.301, 2.309}, {2.295, 2.305}, {2.30101, 2.30102}, {0, 1}, {0.5, 3.5}, {1e-7, 2e-7}, {1234567, 1234568}, {-0.004, 0.003}, {0, 40}} {
		ticks := distinctTicks{}.Ticks(r[0], r[1])
		var prev string
		for _, tick := range ticks {
			if tick.Label == "" {
				continue
			}
			v, err := strconv.ParseFloat(tick.Label, 64)
			if err != nil || math.Abs(v-tick.Value) > (r[1]-r[0])/100 || tick.Label == prev {
				t.Errorf("range %v: labels %v", r, ticks)
				break
			}
			prev = tick.Label
		}
	}
}
