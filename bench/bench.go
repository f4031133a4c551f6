// Package bench is pipe's benchmark harness: it times training steps of the
// course models, each in a process of its own so that its peak RSS is its
// own, runs the PyTorch reference on the same models, and prints the table
// with the ratio. `pipe bench` is its command line.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"

	"github.com/pipe-ml/pipe/pipeline"
)

// Model is a course model that the PyTorch reference also trains, with
// its batch size and step count.
type Model struct {
	Spec, Torch  string
	Batch, Steps int
}

// Models are the models `pipe bench` measures by default.
var Models = []Model{
	{"specs/mnist_cnn.yaml", "mnist_cnn", 128, 50},
	{"specs/cifar10_cnn.yaml", "cifar10_cnn", 128, 50},
	{"specs/imdb_lstm.yaml", "imdb_lstm", 128, 3},
	{"specs/cf/movielense_i_autorec.yaml", "i_autorec", 64, 50},
}

// Line is what one measurement (a child process) prints, as JSON.
type Line struct {
	Spec        string  `json:"spec"`
	Batch       int     `json:"batch"`
	Steps       int     `json:"steps"`
	FirstStepS  float64 `json:"first_step_s"`
	SamplesPerS float64 `json:"samples_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

// One measures a plan in this process and returns its line.
func One(plan *pipeline.Plan, backend compute.Backend, batch, steps int) (Line, error) {
	res, err := pipeline.Bench(plan, backend, batch, steps)
	if err != nil {
		return Line{}, err
	}
	return Line{Spec: plan.Name, Batch: batch, Steps: steps, FirstStepS: res.FirstStep.Seconds(),
		SamplesPerS: res.SamplesPerS, PeakRSSMB: PeakRSSMB()}, nil
}

// PeakRSSMB is this process's peak resident set size in MB.
func PeakRSSMB() float64 { return float64(pipeline.PeakRSS()) / (1 << 20) }

// Options say how to run the whole table.
type Options struct {
	Specs   []string // the models' spec paths to keep; all when empty
	Self    []string // the command that measures one model: Self + [--one SPEC --batch B --steps N]
	Backend string   // passed to each measurement; "" for the default
	Python  string   // the interpreter of the PyTorch reference
	Torch   string   // the PyTorch reference script
	Threads int
}

// Row is one model's measurement and its PyTorch reference.
type Row struct {
	Pipe  Line
	Torch string // the reference's model name
	Err   error
}

// All measures every model of Options.Specs, each in its own process.
func All(o Options) ([]Row, error) {
	var rows []Row
	for _, m := range Models {
		if len(o.Specs) > 0 && !slices.Contains(o.Specs, m.Spec) {
			continue
		}
		args := append(slices.Clone(o.Self[1:]), "--one", m.Spec, "--batch", strconv.Itoa(m.Batch), "--steps", strconv.Itoa(m.Steps))
		if o.Backend != "" {
			args = append(args, "--backend", o.Backend)
		}
		out, err := exec.Command(o.Self[0], args...).Output()
		var line Line
		if err == nil {
			err = json.Unmarshal(out, &line)
		} else if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%s", strings.TrimSpace(string(ee.Stderr)))
		}
		rows = append(rows, Row{Pipe: line, Torch: m.Torch, Err: err})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no course model among %v (bench knows %d: see pipe bench --help)", o.Specs, len(Models))
	}
	return rows, nil
}

// Torch runs the PyTorch reference on models and returns samples/s by
// model name.
func Torch(o Options, models []string) (map[string]float64, error) {
	if _, err := os.Stat(o.Torch); err != nil {
		return nil, fmt.Errorf("no reference script at %s", o.Torch)
	}
	args := append([]string{o.Torch, "--threads", strconv.Itoa(o.Threads)}, models...)
	out, err := exec.Command(o.Python, args...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v (install PyTorch with apt-get install python3-torch libopenblas0-pthread)", o.Python, o.Torch, err)
	}
	res := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var line struct {
			Model       string  `json:"model"`
			SamplesPerS float64 `json:"samples_per_s"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil {
			res[line.Model] = line.SamplesPerS
		}
	}
	return res, nil
}

// WriteTable prints the rows with PyTorch's samples/s and the ratio;
// torchErr says why there is no reference.
func WriteTable(w io.Writer, o Options, rows []Row, torch map[string]float64, torchErr error) {
	note := o.Torch + " in the same invocation"
	if torchErr != nil {
		note = "not run: " + torchErr.Error()
	}
	fmt.Fprintf(w, "Training throughput, %d threads, backend %s (samples/s; PyTorch: %s)\n\n", o.Threads, o.Backend, note)
	fmt.Fprintln(w, "| model | batch | pipe samples/s | PyTorch samples/s | pipe/PyTorch | first step | pipe peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		if r.Err != nil {
			fmt.Fprintf(w, "| %s | | failed: %v | | | | |\n", r.Torch, r.Err)
			continue
		}
		t, ratio := "n/a", "n/a"
		if v, ok := torch[r.Torch]; ok {
			t, ratio = fmt.Sprintf("%.0f", v), fmt.Sprintf("%.2fx", r.Pipe.SamplesPerS/v)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %.2f s | %.0f MB |\n", r.Pipe.Spec, r.Pipe.Batch, r.Pipe.SamplesPerS, t, ratio, r.Pipe.FirstStepS, r.Pipe.PeakRSSMB)
	}
}
