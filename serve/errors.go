package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an answer other than 200: its status, the request field at
// fault (instances[3].pixels) when there is one, and a message that says
// what to change.
type apiError struct {
	Status int
	Field  string
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// badRequest is a 400 about field; the message starts with the field, so
// that it reads alone.
func badRequest(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &apiError{Status: http.StatusBadRequest, Field: field, Msg: msg}
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, errorBody{Error: e.Msg, Field: e.Field})
}

// writeJSON answers v with status. A value that does not encode (a NaN
// output of a diverged model) is a 500 saying so, not half a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "the answer does not encode as JSON: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
