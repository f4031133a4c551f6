package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/serve"
)

func serveCmd(g *globalFlags) *cobra.Command {
	cfg := serve.DefaultConfig()
	var addr string
	var maxBatch int
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve RUN_DIR",
		Short: "Serve a finished run's model over HTTP: POST /v1/predict (JSON), GET /v1/model, GET /healthz",
		Long: "Serve a finished run's model over HTTP until Ctrl-C or SIGTERM. POST /v1/predict takes " +
			`{"instances": [...]}: for an image model {"image": base64 PNG or JPEG} or {"pixels": [...]} (0..255, flat or ` +
			`in the loader's shape), for a text model {"text": "..."}, for a rating model {"ratings": {item: rating}, "top": N}; ` +
			"it answers one prediction per instance, as pipe predict would. Concurrent requests share model calls of up to " +
			"--max-batch examples. GET /v1/model says what the model takes; GET /healthz that it is up.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case cfg.MaxBodyBytes < 1:
				return usageError{fmt.Errorf("--max-body must be at least 1 byte, got %d", cfg.MaxBodyBytes)}
			case cfg.MaxInstances < 1:
				return usageError{fmt.Errorf("--max-instances must be at least 1, got %d", cfg.MaxInstances)}
			case maxBatch < 1:
				return usageError{fmt.Errorf("--max-batch must be at least 1, got %d", maxBatch)}
			case cfg.BatchWait < 0:
				return usageError{fmt.Errorf("--batch-wait must not be negative, got %s", cfg.BatchWait)}
			case cfg.DefaultTop < 0:
				return usageError{fmt.Errorf("--top must be at least 0, got %d", cfg.DefaultTop)}
			}
			cfg.Log = log.New(cmd.ErrOrStderr(), "pipe serve: ", log.LstdFlags)
			start := time.Now()
			pred, err := pipeline.NewPredictor(args[0], g.options(), maxBatch)
			if err != nil {
				return err
			}
			defer pred.Close()
			for _, w := range pred.Warnings {
				cfg.Log.Print(w)
			}
			if err := pred.Warm(); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv := serve.New(pred, cfg)
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s input) loaded in %.1fs; serving on http://%s: POST /v1/predict, GET /v1/model, GET /healthz\n",
				pred.Plan.Name, pred.Kind, time.Since(start).Seconds(), ln.Addr())
			if err := serve.Serve(ctx, ln, srv, grace); err != nil {
				return err
			}
			calls, examples := pred.Stats()
			fmt.Fprintf(cmd.OutOrStdout(), "stopped: %d examples in %d model calls\n", examples, calls)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body", cfg.MaxBodyBytes, "largest request body in bytes; larger ones get 413")
	f.IntVar(&cfg.MaxInstances, "max-instances", cfg.MaxInstances, "most instances in one request")
	f.IntVar(&maxBatch, "max-batch", 32, "most examples in one model call (concurrent requests share calls)")
	f.DurationVar(&cfg.BatchWait, "batch-wait", cfg.BatchWait, "how long a request waits for others to share its model call (0: only those already queued)")
	f.IntVar(&cfg.DefaultTop, "top", cfg.DefaultTop, "for a user's ratings: items answered when an instance gives no top (0: all)")
	f.DurationVar(&grace, "grace", 10*time.Second, "on Ctrl-C or SIGTERM, how long requests in flight may take to finish")
	return cmd
}
