package bench

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ScriptPath is the reference's path inside the repository.
const ScriptPath = "bench/torch/reference.py"

// script is the reference as built into the binary, for a pipe run
// outside its repository.
//
//go:embed torch/reference.py
var script []byte

// Reference is the PyTorch reference: an interpreter and the script.
type Reference struct {
	Python, Script string
}

// Info is what the reference says of itself and of the machine (--info).
type Info struct {
	Torch         string   `json:"torch"`
	BLAS          string   `json:"blas"`
	Conv          string   `json:"conv"`
	FlushDenormal bool     `json:"flush_denormal"`
	Threads       int      `json:"threads"`
	CeilingGFLOPS float64  `json:"ceiling_gflops"`
	Models        []string `json:"models"`

	// Ceilings are CeilingGFLOPS of this probe and of one more at the
	// start of each further trial (Run): the load can change in between.
	Ceilings []float64 `json:"-"`
}

// TorchLine is one measurement of the reference.
type TorchLine struct {
	Model       string   `json:"model"`
	Batch       int      `json:"batch"`
	Steps       int      `json:"steps"`
	FirstStepS  float64  `json:"first_step_s"`
	TrainPerS   float64  `json:"train_samples_per_s"`
	EvalPerS    float64  `json:"eval_samples_per_s"`
	PredictPerS float64  `json:"predict_samples_per_s"`
	MACs        int64    `json:"macs_per_sample"`
	Params      int64    `json:"params"`
	Conv        []string `json:"conv"`
	PeakRSSMB   float64  `json:"peak_rss_mb"`
}

// MissingError says that the reference cannot run here: no interpreter,
// no torch, or no script. pipe's side of the bench goes on without it.
type MissingError struct{ Msg string }

func (e *MissingError) Error() string { return e.Msg }

const install = "install it with apt-get install -y python3-torch libopenblas0-pthread, or pass --python"

// DefaultScript finds the reference: ScriptPath in the repository around
// dir (dir or a folder above it holding go.mod), then beside the binary
// exe (in a folder above it), else the copy built into the binary, written
// to a temporary file that done removes.
func DefaultScript(dir, exe string) (path string, done func(), err error) {
	for _, start := range []string{dir, filepath.Dir(exe)} {
		if start == "." || start == "" {
			continue
		}
		for d := start; ; d = filepath.Dir(d) {
			p := filepath.Join(d, ScriptPath)
			if _, err := os.Stat(p); err == nil {
				return p, func() {}, nil
			}
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
				break
			}
		}
	}
	f, err := os.CreateTemp("", "pipe-bench-reference-*.py")
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	done = func() { os.Remove(f.Name()) }
	if _, err := f.Write(script); err != nil {
		done()
		return "", nil, err
	}
	return f.Name(), done, nil
}

// run runs the script with args and returns its stdout, or why it failed:
// a *MissingError when the interpreter, torch or the script is missing.
func (r Reference) run(args ...string) ([]byte, error) {
	if _, err := os.Stat(r.Script); err != nil {
		return nil, &MissingError{fmt.Sprintf("no PyTorch reference: no script at %s", r.Script)}
	}
	if _, err := exec.LookPath(r.Python); err != nil {
		return nil, &MissingError{fmt.Sprintf("no PyTorch reference: no Python interpreter %s (%s)", r.Python, install)}
	}
	out, err := exec.Command(r.Python, append([]string{r.Script}, args...)...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		msg := strings.TrimSpace(string(ee.Stderr))
		if ee.ExitCode() == 3 || strings.Contains(msg, "No module named 'torch'") {
			return nil, &MissingError{fmt.Sprintf("no PyTorch reference: %s cannot import torch (%s)", r.Python, install)}
		}
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:] // a traceback's last line says what went wrong
		}
		return nil, fmt.Errorf("%s %s: %s", r.Python, r.Script, msg)
	}
	return out, err
}

// Probe asks the reference for its libraries, the matmul ceiling on
// threads and its models.
func (r Reference) Probe(threads int) (*Info, error) {
	out, err := r.run("--info", "--threads", strconv.Itoa(threads))
	if err != nil {
		return nil, err
	}
	var info Info
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("%s --info: %v", r.Script, err)
	}
	info.Ceilings = []float64{info.CeilingGFLOPS}
	return &info, nil
}

// Measure runs the reference's model t.Name in a process of its own.
func (r Reference) Measure(t Target, o Options) (TorchLine, error) {
	args := []string{t.Name, "--threads", strconv.Itoa(o.Threads), "--batch", strconv.Itoa(t.Batch),
		"--steps", strconv.Itoa(o.Steps), "--min-steps", strconv.Itoa(o.MinSteps),
		"--min-time", strconv.FormatFloat(o.MinTime.Seconds(), 'f', -1, 64),
		"--optimizer", t.Optimizer, "--lr", strconv.FormatFloat(t.LR, 'g', -1, 64)}
	out, err := r.run(args...)
	if err != nil {
		return TorchLine{}, err
	}
	var line TorchLine
	if err := json.Unmarshal(out, &line); err != nil {
		return TorchLine{}, fmt.Errorf("%s %s: %v", r.Script, t.Name, err)
	}
	return line, nil
}
