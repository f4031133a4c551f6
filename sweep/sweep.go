package sweep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/rundir"
)

// Options say how a sweep runs its trials.
type Options struct {
	Spec     string           // the spec file
	Sets     []string         // --set overrides common to every trial, before the trial's
	Pipeline pipeline.Options // data, cache and runs directories, backend
	// Jobs is how many trials run at once (at least 1).
	Jobs int
	// Command, when not nil, makes the process that runs one trial (pipe
	// run with the given overrides); Run adds GOMAXPROCS so that the jobs
	// share the cores instead of each taking all of them. Nil runs the
	// trials in this process, one after another.
	Command func(ctx context.Context, sets []string) *exec.Cmd
	Log     io.Writer // a line per trial started, reused or failed; nil for none
	// Label names trial i (from 0) in the log; nil for "trial i+1/n".
	Label func(i int) string
}

// Outcome is what one trial gave.
type Outcome struct {
	Trial   Trial
	Dir     string // its run directory
	Reused  bool   // an earlier run with the same key stood for it
	History map[string][]float64
	Test    map[string]float64
	Err     error // the trial failed: nothing else is set
}

// Run runs every trial not yet run with its key and returns one outcome
// per trial, in the trials' order. A trial that fails does not stop the
// others; its outcome holds the error. The error returned is for what
// stops the sweep itself (a spec that does not load).
func Run(ctx context.Context, trials []Trial, opt Options) ([]Outcome, error) {
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Log != nil {
		// Trials running at once log from their own goroutines.
		opt.Log = &lockedWriter{w: opt.Log}
	}
	if opt.Pipeline.RunsDir == "" {
		opt.Pipeline.RunsDir = "runs"
	}
	if opt.Label == nil {
		opt.Label = func(i int) string { return fmt.Sprintf("trial %d/%d", i+1, len(trials)) }
	}
	out := make([]Outcome, len(trials))
	keys := make([]string, len(trials))
	names := make([]string, len(trials))
	// Keys first, for every trial: a spec or override error is found
	// before anything runs, and trials already run are known.
	var pending []int
	queued := map[string]bool{}
	for i, t := range trials {
		out[i].Trial = t
		plan, err := pipeline.Load(opt.Spec, append(append([]string(nil), opt.Sets...), t.Sets()...)...)
		if err != nil {
			return nil, fmt.Errorf("trial %d (%s): %w", i+1, strings.Join(t.Sets(), " "), err)
		}
		key, err := plan.RunKey(opt.Pipeline)
		if err != nil {
			return nil, fmt.Errorf("trial %d: %w", i+1, err)
		}
		keys[i], names[i] = key.Key, plan.Name
		run, _, _, err := rundir.LatestWithKey(opt.Pipeline.RunsDir, plan.Name, key.Key)
		if err != nil {
			return nil, err
		}
		switch {
		case run != nil:
			out[i].Reused = true
			logf(opt.Log, "%s: reusing %s\n", opt.Label(i), run.Dir)
		case queued[key.Key]:
			// The same overrides twice (a random choice drawn again):
			// one run stands for both.
		default:
			queued[key.Key] = true
			pending = append(pending, i)
		}
	}

	procs := max(1, runtime.NumCPU()/opt.Jobs)
	sem := make(chan struct{}, opt.Jobs)
	var wg sync.WaitGroup
	for _, i := range pending {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			logf(opt.Log, "%s: running %s\n", opt.Label(i), strings.Join(trials[i].Sets(), " "))
			if err := runOne(ctx, trials[i], opt, procs); err != nil {
				out[i].Err = err
				logf(opt.Log, "%s: failed: %v\n", opt.Label(i), err)
			}
		}(i)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Every outcome is read back from its run directory, run now or
	// before, so that a reused trial and a new one read the same way.
	for i := range out {
		if out[i].Err != nil {
			continue
		}
		run, test, _, err := rundir.LatestWithKey(opt.Pipeline.RunsDir, names[i], keys[i])
		if err == nil && run == nil {
			err = fmt.Errorf("no finished run with its key in %s", opt.Pipeline.RunsDir)
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Dir, out[i].Test = run.Dir, test
		if out[i].History, err = run.History(); err != nil {
			out[i].Err = err
		}
	}
	return out, nil
}

// runOne runs a trial as a child process when opt.Command says how, else
// in this process.
func runOne(ctx context.Context, t Trial, opt Options, procs int) error {
	sets := append(append([]string(nil), opt.Sets...), t.Sets()...)
	if opt.Command == nil {
		plan, err := pipeline.Load(opt.Spec, sets...)
		if err != nil {
			return err
		}
		po := opt.Pipeline
		po.Context = ctx
		res, err := pipeline.Run(plan, po)
		if err == nil && res.Interrupted {
			err = fmt.Errorf("interrupted: %v", res.Stopped)
		}
		return err
	}
	cmd := opt.Command(ctx, sets)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, lastLine(buf.String()))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
