package serve

import (
	"errors"
	"net/http"

	"github.com/pipe-ml/pipe/pipeline"
)

// prediction is one instance's answer: a class with its probabilities
// (several outputs), a value (one output; with a class when the run names
// two classes, a sigmoid), or the unrated items best first (a user's
// ratings).
type prediction struct {
	Class         *int        `json:"class,omitempty"`
	ClassName     string      `json:"class_name,omitempty"`
	Probabilities []float32   `json:"probabilities,omitempty"`
	Value         *float32    `json:"value,omitempty"`
	Items         []ratedItem `json:"items,omitempty"`
	Rated         *int        `json:"rated,omitempty"`     // how many ratings the instance gave
	Fallbacks     *int        `json:"fallbacks,omitempty"` // of all unrated items, how many got the model's fallback (the user's mean)
}

type ratedItem struct {
	Item   string  `json:"item"`
	Rating float32 `json:"rating"`
}

// predictResponse is the body of a 200 from POST /v1/predict: one
// prediction per instance, in order.
type predictResponse struct {
	Predictions []prediction `json:"predictions"`
}

// predict answers POST /v1/predict.
func (s *Server) predict(w http.ResponseWriter, r *http.Request) error {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := s.parseRequest(body)
	if err != nil {
		return err
	}
	var out []prediction
	if len(req.examples) > 0 {
		rows, err := s.batch.submit(r.Context(), req.examples)
		switch {
		case errors.Is(err, errClosed):
			return &apiError{Status: http.StatusServiceUnavailable, Msg: err.Error()}
		case r.Context().Err() != nil:
			return nil // the client is gone: nobody reads an answer
		case err != nil:
			return err
		}
		for _, row := range rows {
			out = append(out, s.outputPrediction(row))
		}
	}
	for _, u := range req.users {
		p, err := s.pred.PredictUser(u.field, u.ratings)
		if err != nil {
			return inputError(err)
		}
		out = append(out, userPrediction(p, u.top))
	}
	writeJSON(w, http.StatusOK, predictResponse{Predictions: out})
	return nil
}

// outputPrediction reads a layer stack's outputs for one example as
// predict and predictions.arrow do: the first largest of several outputs is
// the class; one output is a value, and a class (>= 0.5) when the run
// names two classes.
func (s *Server) outputPrediction(row []float32) prediction {
	names := s.pred.Classes
	if len(row) == 1 {
		v := row[0]
		p := prediction{Value: &v}
		if len(names) == 2 {
			c := 0
			if v >= 0.5 {
				c = 1
			}
			p.Class, p.ClassName = &c, names[c]
		}
		return p
	}
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	p := prediction{Class: &best, Probabilities: row}
	if len(names) == len(row) {
		p.ClassName = names[best]
	}
	return p
}

// userPrediction keeps the top items (all for top 0).
func userPrediction(p pipeline.Prediction, top int) prediction {
	n := len(p.Items)
	if top > 0 {
		n = min(n, top)
	}
	items := make([]ratedItem, n)
	for i := range items {
		items[i] = ratedItem{Item: p.Items[i], Rating: p.Outputs[i]}
	}
	rated, fallbacks := p.Rated, p.Fallbacks
	return prediction{Items: items, Rated: &rated, Fallbacks: &fallbacks}
}
