// Package sweep runs a spec many times over a set of --set overrides
// (pipe sweep) or over the folds of a k-fold test split (pipe cv), reusing
// any run whose key already has a finished run, so that a killed sweep
// picks up where it stopped.
package sweep

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Grid is one --grid PATH=[v1,v2,...]: every value of Path is tried.
type Grid struct {
	Path   string
	Values []string
}

// ParseGrid reads PATH=[v1,v2,...]. The values are kept as written, so
// that they reach the spec exactly as --set would give them.
func ParseGrid(s string) (Grid, error) {
	path, rest, ok := strings.Cut(s, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		return Grid{}, fmt.Errorf("--grid %q: want PATH=[v1,v2,...]", s)
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") {
		return Grid{}, fmt.Errorf("--grid %q: the values must be a bracketed list, e.g. %s=[0.01,0.1]", s, path)
	}
	vals := splitList(rest[1 : len(rest)-1])
	if len(vals) == 0 {
		return Grid{}, fmt.Errorf("--grid %q: no values", s)
	}
	return Grid{Path: path, Values: vals}, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Random is one --random PATH=uniform(a,b), loguniform(a,b) or
// choice(v1,v2,...): each trial draws a value.
type Random struct {
	Path    string
	Kind    string // uniform, loguniform, choice
	A, B    float64
	Choices []string
}

// ParseRandom reads PATH=uniform(a,b), loguniform(a,b) or choice(v1,...).
func ParseRandom(s string) (Random, error) {
	path, rest, ok := strings.Cut(s, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		return Random{}, fmt.Errorf("--random %q: want PATH=uniform(a,b), loguniform(a,b) or choice(v1,v2,...)", s)
	}
	rest = strings.TrimSpace(rest)
	kind, args, ok := strings.Cut(rest, "(")
	if !ok || !strings.HasSuffix(args, ")") {
		return Random{}, fmt.Errorf("--random %q: want uniform(a,b), loguniform(a,b) or choice(v1,v2,...) after %s=", s, path)
	}
	vals := splitList(args[:len(args)-1])
	r := Random{Path: path, Kind: kind}
	switch kind {
	case "choice":
		if len(vals) == 0 {
			return Random{}, fmt.Errorf("--random %q: choice needs at least one value", s)
		}
		r.Choices = vals
	case "uniform", "loguniform":
		if len(vals) != 2 {
			return Random{}, fmt.Errorf("--random %q: %s takes two bounds", s, kind)
		}
		var err1, err2 error
		r.A, err1 = strconv.ParseFloat(vals[0], 64)
		r.B, err2 = strconv.ParseFloat(vals[1], 64)
		if err1 != nil || err2 != nil || !(r.A < r.B) {
			return Random{}, fmt.Errorf("--random %q: %s needs two numbers a < b", s, kind)
		}
		if kind == "loguniform" && r.A <= 0 {
			return Random{}, fmt.Errorf("--random %q: loguniform needs 0 < a < b", s)
		}
	default:
		return Random{}, fmt.Errorf("--random %q: unknown distribution %q (uniform, loguniform or choice)", s, kind)
	}
	return r, nil
}

func (r Random) draw(rng *rand.Rand) string {
	switch r.Kind {
	case "choice":
		return r.Choices[rng.IntN(len(r.Choices))]
	case "uniform":
		return fmtFloat(r.A + rng.Float64()*(r.B-r.A))
	default: // loguniform
		la, lb := math.Log(r.A), math.Log(r.B)
		return fmtFloat(math.Exp(la + rng.Float64()*(lb-la)))
	}
}

// fmtFloat keeps 4 significant digits: enough to tell trials apart, and
// short in the table and in the run's spec.
func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// Param is one overridden field of a trial.
type Param struct{ Path, Value string }

// Trial is one run of a sweep: its overrides, in the order given.
type Trial struct{ Params []Param }

// Sets are the trial's overrides as --set takes them.
func (t Trial) Sets() []string {
	out := make([]string, len(t.Params))
	for i, p := range t.Params {
		out[i] = p.Path + "=" + p.Value
	}
	return out
}

// Trials is the grid's product, in order (the last --grid varies
// fastest); with random parameters, each grid point is combined with n
// draws from a generator seeded with seed, so the same command gives the
// same trials.
func Trials(grid []Grid, random []Random, n int, seed uint64) []Trial {
	points := []Trial{{}}
	for _, g := range grid {
		var next []Trial
		for _, p := range points {
			for _, v := range g.Values {
				ps := append(append([]Param(nil), p.Params...), Param{g.Path, v})
				next = append(next, Trial{ps})
			}
		}
		points = next
	}
	if len(random) == 0 {
		return points
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eeb))
	var out []Trial
	for _, p := range points {
		for range n {
			ps := append([]Param(nil), p.Params...)
			for _, r := range random {
				ps = append(ps, Param{r.Path, r.draw(rng)})
			}
			out = append(out, Trial{ps})
		}
	}
	return out
}
