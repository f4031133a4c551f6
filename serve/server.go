// Package serve answers predictions of a finished run over HTTP with JSON:
// POST /v1/predict, GET /v1/model, GET /healthz. Concurrent requests are
// queued and run together through one model call (batcher.go); every
// mistake in a request is a 4xx with a JSON error naming the field, and
// no panic reaches a client.
package serve

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/pipe-ml/pipe/pipeline"
)

// Config are the server's limits and batching.
type Config struct {
	MaxBodyBytes int64         // a larger request body is refused with 413
	MaxInstances int           // instances in one request at most (400 beyond)
	BatchWait    time.Duration // how long the first queued example waits for others to share its model call
	DefaultTop   int           // items answered for a user's ratings when the instance names no top (0: all)
	Log          *log.Logger   // start, stop and server-side failures; nil: the standard logger
}

// DefaultConfig: 8 MiB bodies hold a batch of 1,000 base64 PNG digits
// several times over; 5 ms of waiting is small next to a model call.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 8 << 20, MaxInstances: 1024, BatchWait: 5 * time.Millisecond, DefaultTop: 10}
}

// Server is the HTTP handler of one loaded model.
type Server struct {
	pred    *pipeline.Predictor
	cfg     Config
	batch   *batcher
	routes  map[string]route
	started time.Time

	inFlight atomic.Int64 // predictions being answered, for /healthz
}

// route is one endpoint: the method it takes and its handler.
type route struct {
	method  string
	handler func(http.ResponseWriter, *http.Request) error
}

// New serves pred. Close it to stop its batcher.
func New(pred *pipeline.Predictor, cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = log.New(os.Stderr, "", log.LstdFlags)
	}
	s := &Server{pred: pred, cfg: cfg, started: time.Now()}
	s.batch = newBatcher(pred, cfg.BatchWait)
	s.routes = map[string]route{
		"/v1/predict": {http.MethodPost, s.predict},
		"/v1/model":   {http.MethodGet, s.model},
		"/healthz":    {http.MethodGet, s.health},
	}
	return s
}

// ServeHTTP routes a request. A handler's error is answered as JSON
// (errors.go); a panic becomes a 500 with one line, logged without a
// stack, and the server goes on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Log.Printf("internal error serving %s %s: %v", r.Method, r.URL.Path, v)
			writeError(w, &apiError{Status: http.StatusInternalServerError, Msg: "internal error (see the server's log)"})
		}
	}()
	rt, ok := s.routes[r.URL.Path]
	switch {
	case !ok:
		writeError(w, &apiError{Status: http.StatusNotFound, Msg: "no endpoint " + r.URL.Path + " (POST /v1/predict, GET /v1/model, GET /healthz)"})
		return
	case r.Method != rt.method:
		w.Header().Set("Allow", rt.method)
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Msg: r.URL.Path + " takes " + rt.method + ", not " + r.Method})
		return
	}
	if err := rt.handler(w, r); err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.cfg.Log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
			ae = &apiError{Status: http.StatusInternalServerError, Msg: err.Error()}
		}
		writeError(w, ae)
	}
}

// Close stops the batcher once the model call in progress is answered;
// predictions asked after it get 503.
func (s *Server) Close() { s.batch.close() }

// Serve serves s on ln until ctx is done (SIGINT, SIGTERM), then stops
// taking connections, lets the requests in flight finish for up to grace,
// and closes s.
func Serve(ctx context.Context, ln net.Listener, s *Server, grace time.Duration) error {
	hs := &http.Server{
		Handler: s,
		// Slow or stalled clients hold no goroutine for long.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          s.cfg.Log,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		s.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close()
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
