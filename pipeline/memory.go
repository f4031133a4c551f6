package pipeline

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// MemoryEstimate is a rough lower bound of the bytes a layer stack needs
// to train: every parameter four times (value, gradient, two optimizer
// slots), every value of layer state once, and every layer's output for a
// batch three times (forward value, its gradient, and one temporary), all
// float32.
func (p *Plan) MemoryEstimate() int64 {
	return 4 * (4*int64(p.Params()) + int64(p.NonTrainableParams()) + 3*p.outputsPerExample()*int64(p.Train.BatchSize))
}

// outputsPerExample is how many values the layers output for one example.
func (p *Plan) outputsPerExample() int64 {
	var acts int64
	for _, s := range p.Stages {
		acts += int64(data.Elements(s.Out))
	}
	return acts
}

// checkMemory rejects a plan whose estimate exceeds the machine's memory,
// at validation, instead of letting it be killed midway through training.
func (p *Plan) checkMemory() spec.ErrorList {
	total := machineMemory()
	if total == 0 {
		return nil
	}
	if est := p.MemoryEstimate(); est > total {
		biggest := p.Stages[0]
		for _, s := range p.Stages {
			if s.NParams > biggest.NParams {
				biggest = s
			}
		}
		return spec.ErrorList{p.Errorf(biggest.SpecPath, "training needs at least %s (parameters, gradients, optimizer state and a batch of activations), more than this machine's %s; layer %s alone has %s parameters",
			bytesText(est), bytesText(total), biggest.Name, Thousands(biggest.NParams))}
	}
	return nil
}

// machineMemory is the machine's total memory, or 0 where it cannot be
// read (no check then).
func machineMemory() int64 { return procBytes("/proc/meminfo", "MemTotal:") }

// AvailableMemory is the memory the machine can give without swapping
// (MemAvailable), or 0 where it cannot be read.
func AvailableMemory() int64 { return procBytes("/proc/meminfo", "MemAvailable:") }

// PeakRSS is this process's peak resident set size (VmHWM), or 0 where it
// cannot be read.
func PeakRSS() int64 { return procBytes("/proc/self/status", "VmHWM:") }

// procBytes reads a "Key: N kB" line of a Linux /proc file.
func procBytes(file, key string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
