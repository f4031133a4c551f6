package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/bench"
	"github.com/pipe-ml/pipe/pipeline"
)

func benchCmd(g *globalFlags) *cobra.Command {
	var one, oneStart, start bool
	var batch, steps, minSteps, trials int
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
				return benchOne(cmd, g, args[0], pipeline.BenchOptions{Batch: batch, Steps: steps, MinSteps: minSteps, MinTime: minTime}, profile)
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
			o.Self = []string{os.Args[0], "bench"}
			if g.dataDir != "" {
				o.Self = append(o.Self, "--data-dir", g.dataDir)
			}
			for _, s := range g.sets {
				o.Self = append(o.Self, "--set", s)
			}
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
	cmd.Flags().MarkHidden("one")
	cmd.Flags().MarkHidden("one-start")
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
