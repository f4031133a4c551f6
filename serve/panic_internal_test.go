package serve

import (
	"bytes"
	"encoding/json"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/pipeline"
)

// TestServePanicIsA500: a handler that panics answers 500 with one JSON
// line, no stack; the panic goes to the server's log, and the server
// serves the next request.
func TestServePanicIsA500(t *testing.T) {
	var logged bytes.Buffer
	cfg := DefaultConfig()
	cfg.Log = log.New(&logged, "", 0)
	s := New(&pipeline.Predictor{Plan: &pipeline.Plan{Name: "none"}, MaxBatch: 1}, cfg)
	defer s.Close()
	s.routes["/boom"] = route{http.MethodGet, func(http.ResponseWriter, *http.Request) error { panic("index out of range [3] with length 3") }}
	for range 2 {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 500 || body["error"] != "internal error (see the server's log)" {
			t.Errorf("panic: %d %q", rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "goroutine") || strings.Contains(rec.Body.String(), "index out of range") {
			t.Errorf("the panic reached the client: %s", rec.Body)
		}
	}
	if !strings.Contains(logged.String(), "internal error serving GET /boom: index out of range [3] with length 3") || strings.Contains(logged.String(), "goroutine") {
		t.Errorf("log: %q", logged.String())
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("after the panics, /healthz: %d %s", rec.Code, rec.Body)
	}
}
