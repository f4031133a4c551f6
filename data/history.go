package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// History is the per-epoch record of every metric, the series Keras'
// History.history holds: loss, accuracy, val_loss, val_accuracy, ...
type History struct {
	Names  []string    // series names, in report order
	Values [][]float64 // Values[i][epoch] of series Names[i]
}

// Add appends one epoch's value to series name, creating it on first use.
func (h *History) Add(name string, v float64) {
	for i, n := range h.Names {
		if n == name {
			h.Values[i] = append(h.Values[i], v)
			return
		}
	}
	h.Names = append(h.Names, name)
	h.Values = append(h.Values, []float64{v})
}

// Clone returns a copy that later Adds do not change.
func (h *History) Clone() *History {
	c := &History{Names: append([]string(nil), h.Names...)}
	for _, v := range h.Values {
		c.Values = append(c.Values, append([]float64(nil), v...))
	}
	return c
}

// Last returns the last value of every series.
func (h *History) Last() map[string]float64 {
	out := map[string]float64{}
	for i, n := range h.Names {
		if len(h.Values[i]) > 0 {
			out[n] = h.Values[i][len(h.Values[i])-1]
		}
	}
	return out
}

// MarshalJSON writes {"loss": [...], ...} with the series in report order.
func (h History) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range h.Names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(h.Values[i])
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", n, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Series returns the values of the series called name (nil when absent).
func (h *History) Series(name string) []float64 {
	for i, n := range h.Names {
		if n == name {
			return h.Values[i]
		}
	}
	return nil
}

// Minimised turns a value of series name into one to minimise: accuracy
// counts negated, so early stopping and plateau schedules compare one way.
func Minimised(name string, v float64) float64 {
	if strings.HasSuffix(name, "accuracy") {
		return -v
	}
	return v
}
