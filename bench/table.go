package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// Header is what the table says about the run as a whole.
type Header struct {
	Date, CPU string
	Threads   int
	Backend   string
	Trials    int
	Ref       Reference
	Info      *Info // nil: no reference, InfoErr says why
	InfoErr   error
}

// CPUModel is the first "model name" of /proc/cpuinfo, "" where there is none.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Stat is the median of a measurement's trials and their spread.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Of summarises vs; N is 0 when there are none.
func Of(vs []float64) Stat {
	if len(vs) == 0 {
		return Stat{}
	}
	s := slices.Sorted(slices.Values(vs))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Format writes the median in unit's style with the spread in brackets
// when there are several trials.
func (s Stat) Format(unit func(float64) string) string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N == 1 || s.Min == s.Max {
		return unit(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", unit(s.Median), unit(s.Min), unit(s.Max))
}

// Rate formats samples/s: whole numbers with thousands separators from
// 100 on, three significant digits below.
func Rate(v float64) string {
	if v >= 100 {
		return thousands(int64(math.Round(v)))
	}
	return fmt.Sprintf("%.3g", v)
}

// Seconds formats a duration in seconds.
func Seconds(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.1f s", v)
	}
	return fmt.Sprintf("%.2f s", v)
}

// MB formats a size in MB.
func MB(v float64) string { return thousands(int64(math.Round(v))) + " MB" }

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// Ratio formats pipe's median over the reference's.
func Ratio(pipe, torch Stat) string {
	if pipe.N == 0 || torch.N == 0 || torch.Median == 0 {
		return "n/a"
	}
	r := pipe.Median / torch.Median
	if r >= 10 {
		return fmt.Sprintf("%.1fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// TrainFLOPs is the floating-point operations of training on one example
// with fwd forward multiply-adds: three products of the same size
// (forward, the gradient of the inputs, that of the weights), two
// operations to a multiply-add.
func TrainFLOPs(fwd int64) float64 { return 6 * float64(fwd) }

func gflops(fwd int64, samples Stat) string {
	if samples.N == 0 || fwd == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3g", TrainFLOPs(fwd)*samples.Median/1e9)
}

func pick[T any](ls []T, f func(T) float64) Stat {
	vs := make([]float64, len(ls))
	for i, l := range ls {
		vs[i] = f(l)
	}
	return Of(vs)
}

// WriteTable prints the header lines, one table of every result and the
// notes under it.
func WriteTable(w io.Writer, h Header, results []*Result) {
	fmt.Fprintf(w, "pipe bench, %s, %s, %d threads, backend %s; median of %d trials (min–max), pipe and PyTorch alternating, each measurement a process of its own\n",
		h.Date, h.CPU, h.Threads, h.Backend, h.Trials)
	if h.Info != nil {
		fmt.Fprintf(w, "PyTorch %s (%s %s): BLAS %s; convolutions %s\n", h.Info.Torch, h.Ref.Python, h.Ref.Script, h.Info.BLAS, h.Info.Conv)
		flush := "flushed to zero (torch.set_flush_denormal(True), before its threads start)"
		if !h.Info.FlushDenormal {
			flush = "not flushed (torch.set_flush_denormal is not supported on this CPU)"
		}
		fmt.Fprintf(w, "Denormals: PyTorch's %s; pipe's recurrent layers flush gradients below 1e-27 to zero in the graph (ops/lstm.go flushBelow), and Go leaves the CPU's own flush mode off\n", flush)
		ceiling := Of(h.Info.Ceilings)
		if ceiling.N == 0 {
			ceiling = Of([]float64{h.Info.CeilingGFLOPS})
		}
		fmt.Fprintf(w, "Ceiling: PyTorch float32 matmul of 2048x2048 matrices on %d threads, %s GFLOP/s\n", h.Info.Threads,
			ceiling.Format(func(v float64) string { return fmt.Sprintf("%.1f", v) }))
	} else {
		fmt.Fprintf(w, "PyTorch: %v; pipe's numbers only\n", h.InfoErr)
	}
	fmt.Fprintln(w, "Training GFLOP/s: 6 x forward multiply-adds per example (pipe's count, on both sides) x training samples/s")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| model | batch | train pipe | train PyTorch | pipe/PyTorch | eval pipe | eval PyTorch | pipe/PyTorch | predict pipe | predict PyTorch | pipe/PyTorch | first step pipe | first step PyTorch | start cold | start cached | peak RSS pipe | peak RSS PyTorch | GFLOP/s pipe | GFLOP/s PyTorch |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var notes []string
	for _, r := range results {
		if r.PipeErr != nil {
			notes = append(notes, fmt.Sprintf("%s: pipe failed: %v", r.Name, r.PipeErr))
		}
		if r.StartErr != nil {
			notes = append(notes, fmt.Sprintf("%s: start-up not measured: %v", r.Name, r.StartErr))
		}
		if len(r.Uncounted) > 0 {
			notes = append(notes, fmt.Sprintf("%s: %s multiply-adds per example (forward); counted as 0: %s", r.Name, thousands(r.MACs), strings.Join(r.Uncounted, ", ")))
		}
		train, eval, pred := pick(r.Pipe, func(l Line) float64 { return l.SamplesPerS }), pick(r.Pipe, func(l Line) float64 { return l.EvalPerS }), pick(r.Pipe, func(l Line) float64 { return l.PredictPerS })
		first, rss := pick(r.Pipe, func(l Line) float64 { return l.FirstStepS }), pick(r.Pipe, func(l Line) float64 { return l.PeakRSSMB })
		ttrain, teval, tpred := pick(r.Torch, func(l TorchLine) float64 { return l.TrainPerS }), pick(r.Torch, func(l TorchLine) float64 { return l.EvalPerS }), pick(r.Torch, func(l TorchLine) float64 { return l.PredictPerS })
		tfirst, trss := pick(r.Torch, func(l TorchLine) float64 { return l.FirstStepS }), pick(r.Torch, func(l TorchLine) float64 { return l.PeakRSSMB })
		torch := func(s Stat, unit func(float64) string) string {
			switch {
			case h.Info == nil:
				return "n/a"
			case !r.HasRef:
				return "no reference"
			case r.TorchErr != nil && s.N == 0:
				return "failed"
			}
			return s.Format(unit)
		}
		if r.TorchErr != nil {
			notes = append(notes, fmt.Sprintf("%s: PyTorch failed: %v", r.Name, r.TorchErr))
		}
		if len(r.Torch) > 0 {
			t := r.Torch[0]
			if t.MACs != r.MACs {
				notes = append(notes, fmt.Sprintf("%s: PyTorch's model counts %s multiply-adds per example, pipe's %s", r.Name, thousands(t.MACs), thousands(r.MACs)))
			}
			if len(t.Conv) > 0 {
				notes = append(notes, fmt.Sprintf("%s: PyTorch's convolutions run %s", r.Name, strings.Join(t.Conv, ", ")))
			}
		}
		tflops := gflops(r.MACs, ttrain)
		if h.Info == nil || !r.HasRef {
			tflops = torch(Stat{}, nil)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Name, r.Batch,
			train.Format(Rate), torch(ttrain, Rate), Ratio(train, ttrain),
			eval.Format(Rate), torch(teval, Rate), Ratio(eval, teval),
			pred.Format(Rate), torch(tpred, Rate), Ratio(pred, tpred),
			first.Format(Seconds), torch(tfirst, Seconds),
			Of(r.Cold).Format(Seconds), Of(r.Warm).Format(Seconds),
			rss.Format(MB), torch(trss, MB),
			gflops(r.MACs, train), tflops)
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
}
