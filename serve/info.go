package serve

import (
	"net/http"
	"time"

	"github.com/pipe-ml/pipe/pipeline"
)

// modelInfo is the body of GET /v1/model: what the model takes and gives,
// and the server's limits, so that a client can build requests without
// reading the spec.
type modelInfo struct {
	Name   string     `json:"name"`
	Run    string     `json:"run"`
	Loader string     `json:"loader"`
	Input  inputInfo  `json:"input"`
	Output outputInfo `json:"output"`
	Limits limitsInfo `json:"limits"`
}

type inputInfo struct {
	Kind   pipeline.InputKind `json:"kind"`
	Fields []string           `json:"fields"`          // what an instance may hold
	Shape  []int              `json:"shape,omitempty"` // of "pixels" (images)
	Items  int                `json:"items,omitempty"` // ratings: the dataset's items
	Scale  []float32          `json:"scale,omitempty"` // ratings: lowest and highest rating
}

type outputInfo struct {
	Kind    string   `json:"kind"` // classes, value or items
	Width   int      `json:"width,omitempty"`
	Classes []string `json:"classes,omitempty"`
	Top     *int     `json:"top,omitempty"` // items answered when an instance names no top
}

type limitsInfo struct {
	MaxBodyBytes int64   `json:"max_body_bytes"`
	MaxInstances int     `json:"max_instances"`
	MaxBatch     int     `json:"max_batch,omitempty"` // examples in one model call
	BatchWaitMS  float64 `json:"batch_wait_ms"`
}

// model answers GET /v1/model.
func (s *Server) model(w http.ResponseWriter, _ *http.Request) error {
	p := s.pred
	info := modelInfo{Name: p.Plan.Name, Run: p.Dir, Loader: p.Plan.LoaderName,
		Input:  inputInfo{Kind: p.Kind},
		Limits: limitsInfo{MaxBodyBytes: s.cfg.MaxBodyBytes, MaxInstances: s.cfg.MaxInstances, MaxBatch: p.MaxBatch, BatchWaitMS: float64(s.cfg.BatchWait) / float64(time.Millisecond)}}
	switch p.Kind {
	case pipeline.InputImage:
		info.Input.Fields, info.Input.Shape = []string{"image", "pixels"}, p.Raw.Shape
	case pipeline.InputText:
		info.Input.Fields = []string{"text"}
	case pipeline.InputRatings:
		ri := p.RatingInfo()
		info.Input.Fields, info.Input.Items, info.Input.Scale = []string{"ratings", "top"}, len(ri.Items), ri.Scale[:]
		top := s.cfg.DefaultTop
		info.Output = outputInfo{Kind: "items", Top: &top}
	}
	switch {
	case p.Kind == pipeline.InputRatings:
	case p.Width > 1:
		info.Output = outputInfo{Kind: "classes", Width: p.Width, Classes: p.Classes}
	default:
		info.Output = outputInfo{Kind: "value", Width: p.Width, Classes: p.Classes}
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// healthBody is the body of GET /healthz: the model is loaded and
// answering, with how many model calls served how many examples (their
// ratio is how well requests are batched).
type healthBody struct {
	Status     string  `json:"status"`
	Model      string  `json:"model"`
	UptimeS    float64 `json:"uptime_s"`
	InFlight   int64   `json:"in_flight"` // predictions being answered now
	ModelCalls int64   `json:"model_calls"`
	Examples   int64   `json:"examples"`
}

// health answers GET /healthz.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) error {
	calls, examples := s.pred.Stats()
	writeJSON(w, http.StatusOK, healthBody{Status: "ok", Model: s.pred.Plan.Name, UptimeS: time.Since(s.started).Seconds(), InFlight: s.inFlight.Load(), ModelCalls: calls, Examples: examples})
	return nil
}
