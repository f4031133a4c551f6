package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/pipeline"
)

// benchModels are the course models that ../shared/bench/torch_anchor.py
// also trains, with its batch sizes and step counts.
var benchModels = []struct {
	spec, torch string
	batch, step int
}{
	{"specs/mnist_cnn.yaml", "mnist_cnn", 128, 50},
	{"specs/cifar10_cnn.yaml", "cifar10_cnn", 128, 50},
	{"specs/imdb_lstm.yaml", "imdb_lstm", 128, 3},
	{"specs/cf/movielense_i_autorec.yaml", "i_autorec", 64, 50},
}

// benchLine is what one measurement (a child process) prints.
type benchLine struct {
	Spec        string  `json:"spec"`
	Batch       int     `json:"batch"`
	Steps       int     `json:"steps"`
	FirstStepS  float64 `json:"first_step_s"`
	SamplesPerS float64 `json:"samples_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

func benchCmd(g *globalFlags) *cobra.Command {
	var one bool
	var batch, steps int
	var torchScript, profile string
	cmd := &cobra.Command{
		Use:   "bench [SPEC...]",
		Short: "Training throughput, first-step time and peak memory of the course models, with the ratio to PyTorch",
		Long: "Trains each model on a random batch of its shapes for a fixed number of steps after one warm-up step, " +
			"each in its own process so that its peak RSS is its own; then runs the PyTorch reference " +
			"(torch_anchor.py, when /usr/bin/python3 has torch) on the same models at the same thread count.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if one {
				return benchOne(cmd, g, args[0], batch, steps, profile)
			}
			return benchAll(cmd, g, args, torchScript)
		},
	}
	cmd.Flags().BoolVar(&one, "one", false, "measure one spec in this process (used by bench itself)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "with --one: write a CPU profile (go tool pprof)")
	cmd.Flags().IntVar(&batch, "batch", 0, "batch size (default: the PyTorch anchor's)")
	cmd.Flags().IntVar(&steps, "steps", 0, "timed steps (default: the PyTorch anchor's)")
	cmd.Flags().StringVar(&torchScript, "torch", "../shared/bench/torch_anchor.py", "the PyTorch anchor script")
	cmd.Flags().MarkHidden("one")
	return cmd
}

func benchOne(cmd *cobra.Command, g *globalFlags, path string, batch, steps int, profile string) error {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	plan, err := g.load(path)
	if err != nil {
		return err
	}
	backend, err := pipeline.NewBackend(g.backend)
	if err != nil {
		return err
	}
	res, err := pipeline.Bench(plan, backend, batch, steps)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return json.NewEncoder(cmd.OutOrStdout()).Encode(benchLine{
		Spec: plan.Spec.Name, Batch: batch, Steps: steps, FirstStepS: res.FirstStep.Seconds(),
		SamplesPerS: res.SamplesPerS, PeakRSSMB: peakRSSMB(),
	})
}

// peakRSSMB reads this process's peak resident set size (VmHWM).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func benchAll(cmd *cobra.Command, g *globalFlags, specs []string, torchScript string) error {
	type row struct {
		pipe  benchLine
		torch string
		err   error
	}
	var rows []row
	var torchModels []string
	for _, m := range benchModels {
		if len(specs) > 0 && !contains(specs, m.spec) {
			continue
		}
		args := []string{"bench", "--one", m.spec, "--batch", strconv.Itoa(m.batch), "--steps", strconv.Itoa(m.step)}
		if g.backend != "" {
			args = append(args, "--backend", g.backend)
		}
		out, err := exec.Command(os.Args[0], args...).Output()
		var line benchLine
		if err == nil {
			err = json.Unmarshal(out, &line)
		} else if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%s", strings.TrimSpace(string(ee.Stderr)))
		}
		rows = append(rows, row{pipe: line, torch: m.torch, err: err})
		torchModels = append(torchModels, m.torch)
	}
	if len(rows) == 0 {
		return usageError{fmt.Errorf("no course model among %v (bench knows %d: see pipe bench --help)", specs, len(benchModels))}
	}
	threads := runtime.GOMAXPROCS(0)
	torch, torchErr := runTorch(torchScript, threads, torchModels)
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Training throughput, %d threads, backend %s (samples/s; PyTorch: %s)\n\n", threads, orDefault(g.backend, "go"), torchNote(torchErr))
	fmt.Fprintln(w, "| model | batch | pipe samples/s | PyTorch samples/s | pipe/PyTorch | first step | pipe peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(w, "| %s | | failed: %v | | | | |\n", r.torch, r.err)
			continue
		}
		t, ratio := "n/a", "n/a"
		if v, ok := torch[r.torch]; ok {
			t, ratio = fmt.Sprintf("%.0f", v), fmt.Sprintf("%.2fx", r.pipe.SamplesPerS/v)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %.2f s | %.0f MB |\n", r.pipe.Spec, r.pipe.Batch, r.pipe.SamplesPerS, t, ratio, r.pipe.FirstStepS, r.pipe.PeakRSSMB)
	}
	return nil
}

// runTorch runs the PyTorch anchor and returns samples/s by model name.
func runTorch(script string, threads int, models []string) (map[string]float64, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("no anchor script at %s", script)
	}
	args := append([]string{script, "--threads", strconv.Itoa(threads)}, models...)
	out, err := exec.Command("/usr/bin/python3", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("/usr/bin/python3 %s: %v (install PyTorch with apt-get install python3-torch)", script, err)
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

func torchNote(err error) string {
	if err != nil {
		return "not run: " + err.Error()
	}
	return "../shared/bench/torch_anchor.py in the same invocation"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
