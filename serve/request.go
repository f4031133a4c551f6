package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/pipeline"
)

// instance is one input of POST /v1/predict: exactly one of image (a PNG
// or JPEG, base64), pixels (the raw pixels 0..255, flat or nested as the
// loader's shape), text (a review) or ratings (item -> rating, with an
// optional top).
type instance struct {
	Image   *string                    `json:"image"`
	Pixels  json.RawMessage            `json:"pixels"`
	Text    *string                    `json:"text"`
	Ratings map[string]json.RawMessage `json:"ratings"`
	Top     *int                       `json:"top"`
}

// userInput is a checked ratings instance.
type userInput struct {
	field   string
	ratings map[int32]float32
	top     int
}

// request is a checked body: examples for the model, or users' ratings.
type request struct {
	examples []data.Array
	users    []userInput
}

// readBody reads at most max bytes; a longer body is a 413, found before
// the body is read when the client declares its length.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	tooLarge := &apiError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("the request body is larger than %d bytes (pipe serve --max-body)", max)}
	if r.ContentLength > max {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, badRequest("", "reading the request body: %v", err)
	}
	return b, nil
}

// parseRequest checks a body {"instances": [...]} against the model's input
// kind and decodes every instance; the first mistake is a 400 naming it.
func (s *Server) parseRequest(body []byte) (*request, error) {
	var top struct {
		Instances *[]json.RawMessage `json:"instances"`
	}
	if err := decodeStrict(body, &top); err != nil {
		return nil, jsonError("", err)
	}
	switch {
	case top.Instances == nil:
		return nil, badRequest("instances", `missing: the body is {"instances": [...]}`)
	case len(*top.Instances) == 0:
		return nil, badRequest("instances", "empty: give at least one instance")
	case len(*top.Instances) > s.cfg.MaxInstances:
		return nil, badRequest("instances", "%d instances, at most %d in one request (pipe serve --max-instances)", len(*top.Instances), s.cfg.MaxInstances)
	}
	req := &request{}
	for i, raw := range *top.Instances {
		field := fmt.Sprintf("instances[%d]", i)
		if err := s.parseInstance(req, field, raw); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// parseInstance decodes one instance into req.
func (s *Server) parseInstance(req *request, field string, raw json.RawMessage) error {
	var in instance
	if err := decodeStrict(raw, &in); err != nil {
		return jsonError(field, err)
	}
	var given []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"image", in.Image != nil}, {"pixels", in.Pixels != nil}, {"text", in.Text != nil}, {"ratings", in.Ratings != nil}} {
		if f.ok {
			given = append(given, f.name)
		}
	}
	want := wantFields(s.pred)
	switch {
	case len(given) == 0:
		return badRequest(field, "no input: this model takes %s", want)
	case len(given) > 1:
		return badRequest(field, "one input per instance, got %s", strings.Join(given, " and "))
	case in.Top != nil && in.Ratings == nil:
		return badRequest(field+".top", "only a ratings instance takes top")
	}
	kind := pipeline.InputImage
	switch given[0] {
	case "text":
		kind = pipeline.InputText
	case "ratings":
		kind = pipeline.InputRatings
	}
	if kind != s.pred.Kind {
		return badRequest(field, "this model (%s) takes %s, not %s", s.pred.Plan.Name, want, given[0])
	}
	var x data.Array
	var err error
	switch given[0] {
	case "image":
		var b []byte
		if b, err = decodeBase64(*in.Image); err != nil {
			return badRequest(field+".image", "not base64: %v", err)
		}
		x, err = s.pred.Decode(field+".image", b)
	case "pixels":
		var px []float64
		if px, err = pixelValues(field+".pixels", in.Pixels, s.pred.Raw.Shape); err != nil {
			return err
		}
		x, err = s.pred.FromPixels(field+".pixels", px)
	case "text":
		x, err = s.pred.Decode(field+".text", []byte(*in.Text))
	case "ratings":
		u, err := s.parseRatings(field, in)
		if err != nil {
			return err
		}
		req.users = append(req.users, u)
		return nil
	}
	if err != nil {
		return inputError(err)
	}
	req.examples = append(req.examples, x)
	return nil
}

// parseRatings checks a user's ratings and top.
func (s *Server) parseRatings(field string, in instance) (userInput, error) {
	u := userInput{field: field, top: s.cfg.DefaultTop}
	if in.Top != nil {
		if *in.Top < 0 {
			return u, badRequest(field+".top", "%d: want 0 (all items) or more", *in.Top)
		}
		u.top = *in.Top
	}
	ratings := make(map[string]float64, len(in.Ratings))
	for item, raw := range in.Ratings {
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return u, badRequest(fmt.Sprintf("%s.ratings[%q]", field, item), "want a number, got %s", clip(string(raw)))
		}
		ratings[item] = v
	}
	r, err := s.pred.UserRatings(field+".ratings", ratings)
	if err != nil {
		return u, inputError(err)
	}
	u.ratings = r
	return u, nil
}

// wantFields says what an instance holds for the model.
func wantFields(pred *pipeline.Predictor) string {
	switch pred.Kind {
	case pipeline.InputImage:
		n := 1
		for _, d := range pred.Raw.Shape {
			n *= d
		}
		return fmt.Sprintf(`an image ("image": a base64 PNG or JPEG, or "pixels": %d numbers 0..255)`, n)
	case pipeline.InputText:
		return `a text ("text": the review)`
	}
	return `a user's ratings ("ratings": {item: rating}, and "top": N)`
}

// decodeStrict decodes one JSON value into v: unknown fields and anything
// after the value are mistakes, not ignored.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// jsonError turns a JSON decoding error into a 400 naming the field and,
// for a syntax error, the byte offset.
func jsonError(field string, err error) *apiError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	join := func(f string) string {
		switch {
		case field == "":
			return f
		case f == "":
			return field
		}
		return field + "." + f
	}
	body := `the body is {"instances": [...]}`
	switch {
	case errors.As(err, &syntax):
		if field == "" {
			return badRequest("", "malformed JSON at byte %d: %v", syntax.Offset, err)
		}
		return badRequest(field, "malformed JSON: %v", err)
	case errors.As(err, &typ):
		f := join(typ.Field)
		if f == "" {
			return badRequest("", "%s, got a JSON %s", body, typ.Value)
		}
		return badRequest(f, "want %s, got a JSON %s", jsonType(typ.Type.String()), typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(field, "the JSON is empty or cut short: %s", body)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		known := `"instances"`
		if field != "" {
			known = `"image", "pixels", "text", "ratings", "top"`
		}
		return badRequest(field, "unknown field %s (the fields are %s)", name, known)
	}
	return badRequest(field, "%s", strings.TrimPrefix(msg, "json: "))
}

// jsonType names a Go type as JSON.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]") || strings.HasPrefix(goType, "*[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "serve."), strings.HasPrefix(goType, "struct"):
		return "an object"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.Contains(goType, "float"):
		return "a number"
	}
	return goType
}

// decodeBase64 takes standard base64, with or without padding, and the
// data: URL a browser makes of a file.
func decodeBase64(s string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		if _, after, ok := strings.Cut(rest, ";base64,"); ok {
			s = after
		}
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	return base64.RawStdEncoding.DecodeString(s)
}

// pixelValues flattens pixels given flat or nested as the loader's shape
// (28x28, 32x32x3), row by row.
func pixelValues(field string, raw json.RawMessage, shape []int) ([]float64, error) {
	var flat []float64
	if err := json.Unmarshal(raw, &flat); err == nil {
		return flat, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest(field, "malformed JSON: %v", err)
	}
	out := make([]float64, 0, 1024)
	var walk func(v any, path string, depth int) error
	walk = func(v any, path string, depth int) error {
		if depth == len(shape) {
			f, ok := v.(float64)
			if !ok {
				return badRequest(path, "want a number 0..255, got %s", jsonKind(v))
			}
			out = append(out, f)
			return nil
		}
		a, ok := v.([]any)
		if !ok {
			return badRequest(path, "want an array of %d, got %s (pixels are flat, or nested as %s)", shape[depth], jsonKind(v), shapeText(shape))
		}
		if len(a) != shape[depth] {
			return badRequest(path, "%d entries, want %d (pixels are flat, or nested as %s)", len(a), shape[depth], shapeText(shape))
		}
		for i, e := range a {
			if err := walk(e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	size := 1
	for _, d := range shape {
		size *= d
	}
	if a, ok := v.([]any); ok && len(a) == size && len(shape) > 1 {
		// Flat, with something other than a number in it.
		for i, e := range a {
			if err := walk(e, fmt.Sprintf("%s[%d]", field, i), len(shape)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if err := walk(v, field, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// inputError is a Predictor's InputError as a 400; any other error stays
// a server-side failure.
func inputError(err error) error {
	var ie *pipeline.InputError
	if errors.As(err, &ie) {
		return &apiError{Status: http.StatusBadRequest, Field: ie.Field, Msg: ie.Error()}
	}
	return err
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

func shapeText(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

// clip shortens a value quoted back in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
