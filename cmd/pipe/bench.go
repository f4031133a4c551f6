package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/bench"
	"github.com/pipe-ml/pipe/pipeline"
)

func benchCmd(g *globalFlags) *cobra.Command {
	var one bool
	var batch, steps int
	var profile string
	o := bench.Options{}
	cmd := &cobra.Command{
		Use:   "bench [SPEC...]",
		Short: "Training throughput, first-step time and peak memory of the course models, with the ratio to PyTorch",
		Long: "Trains each model on a random batch of its shapes for a fixed number of steps after one warm-up step, " +
			"each in its own process so that its peak RSS is its own; then runs the PyTorch reference " +
			"(--torch, with --python) on the same models at the same thread count.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if one {
				if len(args) != 1 {
					return usageError{fmt.Errorf("--one takes one spec")}
				}
				return benchOne(cmd, g, args[0], batch, steps, profile)
			}
			o.Specs, o.Self, o.Backend, o.Threads = args, []string{os.Args[0], "bench"}, cmp.Or(g.backend, pipeline.DefaultBackend), runtime.GOMAXPROCS(0)
			rows, err := bench.All(o)
			if err != nil {
				return usageError{err}
			}
			var models []string
			for _, r := range rows {
				models = append(models, r.Torch)
			}
			torch, torchErr := bench.Torch(o, models)
			bench.WriteTable(cmd.OutOrStdout(), o, rows, torch, torchErr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&one, "one", false, "measure one spec in this process (used by bench itself)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "with --one: write a CPU profile (go tool pprof)")
	cmd.Flags().IntVar(&batch, "batch", 0, "batch size (default: the PyTorch reference's)")
	cmd.Flags().IntVar(&steps, "steps", 0, "timed steps (default: the PyTorch reference's)")
	cmd.Flags().StringVar(&o.Torch, "torch", "../shared/bench/torch_anchor.py", "the PyTorch reference script")
	cmd.Flags().StringVar(&o.Python, "python", "/usr/bin/python3", "the Python interpreter that has PyTorch")
	cmd.Flags().MarkHidden("one")
	return cmd
}

// benchOne measures one spec in this process and prints its JSON line.
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
	backend, err := pipeline.NewBackend(cmp.Or(g.backend, plan.Backend))
	if err != nil {
		return err
	}
	line, err := bench.One(plan, backend, batch, steps)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return json.NewEncoder(cmd.OutOrStdout()).Encode(line)
}
