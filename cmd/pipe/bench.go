package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/bench"
	"github.com/pipe-ml/pipe/pipeline"
)

func benchCmd(g *globalFlags) *cobra.Command {
	var one, oneStart, oneFit, start bool
	var batch, steps, minSteps, trials int
	var curvesDir string
	var curveNames []string
	var co bench.CurveOptions
	var lim bench.Limits
	var minTime time.Duration
	var profile string
	o := bench.Options{}
	cmd := &cobra.Command{
		Use:   "bench [SPEC...]",
		Short: "Training, evaluation and prediction throughput, first step, start-up and peak memory of models, with the ratio to PyTorch",
		Long: "Trains each model on a random batch of its shapes after one warm-up step, then evaluates and predicts it, " +
			"each in its own process so that its peak RSS is its own; measures the start-up from the data without " +
			"and with the Arrow cache (--start); and runs the PyTorch reference (--torch, with --python) on the " +
			"models it has an entry for (by spec name), at the same batch size, optimizer and thread count, " +
			"alternating with pipe's trials. Prints the median of --trials with the spread. " +
			"Without SPEC: the course models and cifar10_convnet.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if one {
				if len(args) != 1 {
					return usageError{fmt.Errorf("--one takes one spec")}
				}
				if oneStart {
					return benchStart(cmd, g, args[0])
				}
				if oneFit {
					return benchFit(cmd, g, args[0])
				}
				return benchOne(cmd, g, args[0], pipeline.BenchOptions{Batch: batch, Steps: steps, MinSteps: minSteps, MinTime: minTime}, profile)
			}
			if curvesDir != "" {
				if len(args) > 0 {
					return usageError{fmt.Errorf("--curves measures its own curves; give no spec (choose them with --curve)")}
				}
				return benchCurves(cmd, g, curvesDir, curveNames, co, lim, o, steps, minSteps, minTime)
			}
			if len(args) == 0 {
				args = bench.Models
			}
			var targets []bench.Target
			for _, path := range args {
				plan, err := g.load(path)
				if err != nil {
					return err
				}
				t := bench.TargetOf(path, plan)
				if batch > 0 {
					t.Batch = batch
				}
				targets = append(targets, t)
			}
			o.Self = benchSelf(g)
			o.Backend, o.Threads, o.Trials, o.Steps, o.MinSteps, o.MinTime, o.Start = cmp.Or(g.backend, pipeline.DefaultBackend), runtime.GOMAXPROCS(0), trials, steps, minSteps, minTime, start
			if o.Ref.Script == "" {
				wd, _ := os.Getwd()
				exe, _ := os.Executable()
				script, done, err := bench.DefaultScript(wd, exe)
				if err != nil {
					return err
				}
				defer done()
				o.Ref.Script = script
			}
			if !g.quiet {
				o.Log = cmd.ErrOrStderr()
			}
			info, infoErr := o.Ref.Probe(o.Threads)
			if infoErr != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), infoErr)
			}
			results := bench.Run(o, targets, info)
			bench.WriteTable(cmd.OutOrStdout(), bench.Header{Date: time.Now().Format("2006-01-02"), CPU: bench.CPUModel(),
				Threads: o.Threads, Backend: o.Backend, Trials: trials, Ref: o.Ref, Info: info, InfoErr: infoErr}, results)
			return nil
		},
	}
	cmd.Flags().BoolVar(&one, "one", false, "measure one spec in this process (used by bench itself)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "with --one: write a CPU profile (go tool pprof)")
	cmd.Flags().IntVar(&batch, "batch", 0, "batch size (default: the spec's)")
	cmd.Flags().IntVar(&steps, "steps", 0, "timed steps of training, evaluation and prediction (default: by --min-time)")
	cmd.Flags().DurationVar(&minTime, "min-time", 2*time.Second, "each of training, evaluation and prediction runs at least this long")
	cmd.Flags().IntVar(&minSteps, "min-steps", 2, "each phase also runs at least this many steps (1 suits the slow recurrent models)")
	cmd.Flags().IntVar(&trials, "trials", 5, "trials of each side, alternating; the table shows their median and spread")
	cmd.Flags().BoolVar(&start, "start", true, "measure the start-up from the data to the first step, without and with the Arrow cache (needs the datasets)")
	cmd.Flags().StringVar(&o.Ref.Script, "torch", "", "the PyTorch reference script (default: "+bench.ScriptPath+" in the repository around the working directory or the binary, else the copy built into pipe)")
	cmd.Flags().StringVar(&o.Ref.Python, "python", "/usr/bin/python3", "the Python interpreter that has PyTorch")
	cmd.Flags().BoolVar(&oneStart, "one-start", false, "with --one: measure the start-up instead (used by bench itself)")
	cmd.Flags().BoolVar(&oneFit, "one-fit", false, "with --one: fit the spec on its whole data instead (used by bench itself)")
	cmd.Flags().StringVar(&curvesDir, "curves", "", "measure the cost curves instead and write their tables (curves.md, curves.csv) and one PNG each into this folder, which must not hold them yet: samples/s and peak RSS of the CNNs against --batches, time per step and peak RSS of the LSTM and GRU against --lengths, fit time and peak RSS of user_knn, matrix factorisation, RBM-CF and I-AutoRec against --ratings (synthetic, MovieLens-shaped); every point a process of its own, training points timed by --steps or --min-time")
	cmd.Flags().StringSliceVar(&curveNames, "curve", nil, "with --curves: only these curves (e.g. mnist_cnn_batch, imdb_gru_length, user_knn_ratings)")
	cmd.Flags().IntSliceVar(&co.Batches, "batches", []int{16, 32, 64, 128, 256, 512}, "with --curves: the batch sizes of the CNN curves")
	cmd.Flags().IntSliceVar(&co.Lengths, "lengths", []int{100, 250, 500, 1000, 2000}, "with --curves: the sequence lengths of the LSTM and GRU curves")
	cmd.Flags().IntSliceVar(&co.Ratings, "ratings", []int{100_000, 1_000_000, 10_000_000}, "with --curves: the numbers of ratings of the rating-model curves")
	cmd.Flags().IntVar(&co.LengthBatch, "length-batch", 0, "with --curves: the batch size of the sequence-length curves (default: the spec's)")
	cmd.Flags().IntVar(&co.FitEpochs, "fit-epochs", 0, "with --curves: epochs of every fit over ratings (default: each spec's)")
	cmd.Flags().Float64Var(&lim.MaxMB, "curve-max-mb", 0, "with --curves: a point over ratings whose peak RSS, carried on from the two before it, would exceed this many MB is extrapolated instead of run (default: half the memory available now)")
	cmd.Flags().Float64Var(&lim.MaxSeconds, "curve-max-s", 1800, "with --curves: likewise for a fit that would take longer than this many seconds")
	cmd.Flags().MarkHidden("one")
	cmd.Flags().MarkHidden("one-start")
	cmd.Flags().MarkHidden("one-fit")
	return cmd
}

// benchOne measures one spec in this process and prints its JSON line.
func benchOne(cmd *cobra.Command, g *globalFlags, path string, o pipeline.BenchOptions, profile string) error {
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
	backend, err := pipeline.NewBackend(cmp.Or(g.backend, plan.Backend))
	if err != nil {
		return err
	}
	line, err := bench.One(plan, backend, o)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return json.NewEncoder(cmd.OutOrStdout()).Encode(line)
}

// benchStart measures, in this process, the time from reading the spec to
// the end of the first training step on its data, which come from the
// cache (--cache-dir) when it holds them.
func benchStart(cmd *cobra.Command, g *globalFlags, path string) error {
	start := time.Now()
	plan, err := g.load(path)
	if err != nil {
		return err
	}
	backend, err := pipeline.NewBackend(cmp.Or(g.backend, plan.Backend))
	if err != nil {
		return err
	}
	if err := pipeline.BenchStart(plan, backend, g.dataPath(), g.cachePath()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return json.NewEncoder(cmd.OutOrStdout()).Encode(bench.StartLine{StartS: time.Since(start).Seconds()})
}

// benchFit fits one spec on its whole data in this process and prints its
// JSON line: a point of a curve over ratings.
func benchFit(cmd *cobra.Command, g *globalFlags, path string) error {
	plan, err := g.load(path)
	if err != nil {
		return err
	}
	base := bench.PeakRSSMB()
	backend, err := pipeline.NewBackend(cmp.Or(g.backend, plan.Backend))
	if err != nil {
		return err
	}
	line, err := bench.OneFit(plan, backend, g.dataPath(), base)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return json.NewEncoder(cmd.OutOrStdout()).Encode(line)
}

// benchCurves measures the cost curves (those named, or all) and writes
// them into dir.
func benchCurves(cmd *cobra.Command, g *globalFlags, dir string, names []string, co bench.CurveOptions, lim bench.Limits, o bench.Options, steps, minSteps int, minTime time.Duration) error {
	curves := bench.DefaultCurves(co)
	if len(names) > 0 {
		var picked []bench.Curve
		for _, n := range names {
			i := slices.IndexFunc(curves, func(c bench.Curve) bool { return c.Name == n })
			if i < 0 {
				valid := make([]string, len(curves))
				for j, c := range curves {
					valid[j] = c.Name
				}
				return usageError{fmt.Errorf("--curve %s: no such curve (%s)", n, strings.Join(valid, ", "))}
			}
			picked = append(picked, curves[i])
		}
		curves = picked
	}
	if err := bench.PrepareCurveDir(dir, curves); err != nil {
		return err
	}
	if lim.MaxMB == 0 {
		lim.MaxMB = float64(pipeline.AvailableMemory()) / (1 << 20) / 2
	}
	o.Self = benchSelf(g)
	o.Backend, o.Threads, o.Steps, o.MinSteps, o.MinTime = cmp.Or(g.backend, pipeline.DefaultBackend), runtime.GOMAXPROCS(0), steps, minSteps, minTime
	if !g.quiet {
		o.Log = cmd.ErrOrStderr()
	}
	load, _ := os.ReadFile("/proc/loadavg")
	header := fmt.Sprintf("pipe bench --curves, %s, %s, %d threads, backend %s; load average at the start %s; each point a process of its own",
		time.Now().Format("2006-01-02"), bench.CPUModel(), o.Threads, o.Backend, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	results := bench.RunCurves(o, curves, lim)
	bench.WriteCurveTables(cmd.OutOrStdout(), header, results)
	paths, err := bench.WriteCurves(dir, header, results)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "\nwrote %s\n", strings.Join(paths, ", "))
	return nil
}

// benchSelf is the command that measures one point: this binary's bench
// with the global flags that the points share.
func benchSelf(g *globalFlags) []string {
	self := []string{os.Args[0], "bench"}
	if g.dataDir != "" {
		self = append(self, "--data-dir", g.dataDir)
	}
	for _, s := range g.sets {
		self = append(self, "--set", s)
	}
	return self
}
