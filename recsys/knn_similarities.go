package recsys

import (
	"fmt"
	"math"
)

// Surprise's similarity measures (surprise/similarities.pyx) between the
// rows x of a rating matrix (users when user-based, items when item-based),
// over the columns y they share: with r_xy the rating, Y_xx' the columns
// rated by both x and x' and n = |Y_xx'|,
//
//	cosine:           Σ r_xy r_x'y / sqrt(Σ r_xy² · Σ r_x'y²)
//	msd:              1 / (Σ (r_xy - r_x'y)² / n + 1)
//	pearson:          (n Σ r_xy r_x'y - Σ r_xy Σ r_x'y) /
//	                  sqrt((n Σ r_xy² - (Σ r_xy)²)(n Σ r_x'y² - (Σ r_x'y)²)),
//	                  i.e. Pearson's r with the means taken over Y_xx' only
//	pearson_baseline: Σ e_xy e_x'y / sqrt(Σ e_xy² · Σ e_x'y²) · (n-1)/(n-1+shrinkage),
//	                  e the residual r - (mu + b_u + b_i) of the baselines
//
// all sums over Y_xx'. A pair with n < min_support (for pearson_baseline,
// n < max(2, min_support)) has similarity 0, and so has a pair whose
// denominator is 0 (Surprise does so for pearson; for cosine and
// pearson_baseline it would divide by zero, which only ratings of 0 or
// residuals all exactly 0 can cause). Every row's similarity to itself is
// 1, as in Surprise's matrix.

// simAcc holds the running sums of one pair of rows, together so that one
// cache line serves each update.
type simAcc struct {
	n                     int32
	dot, sq1, sq2, s1, s2 float64
}

// simKind is a similarity measure, an int so that the inner loop does not
// compare strings.
type simKind int

const (
	simCosine simKind = iota
	simMSD
	simPearson
	simPearsonBaseline
)

// simKinds are the measures by their spec names.
var simKinds = map[string]simKind{"cosine": simCosine, "msd": simMSD, "pearson": simPearson, "pearson_baseline": simPearsonBaseline}

// simMeasure computes rows of a similarity matrix.
type simMeasure struct {
	kind       simKind
	minSupport int
	shrinkage  float64
	// yr indexes the ratings by column: the rows that rated each column.
	yr *sparseRows
	// yv is the value of each rating of yr that enters the sums: the rating,
	// or for pearson_baseline its residual.
	yv []float64
}

// simScratch is one worker's buffers for computing a row.
type simScratch struct {
	acc     []simAcc
	touched []int32
}

func newSimScratch(n int) *simScratch { return &simScratch{acc: make([]simAcc, n)} }

func similarityKind(name string) (simKind, error) {
	k, ok := simKinds[name]
	if !ok {
		return 0, fmt.Errorf("unknown similarity %q (cosine, msd, pearson or pearson_baseline)", name)
	}
	return k, nil
}

// row sets out[x'] to the similarity of a row to every row x' (out must be
// zero on entry). The row rated the columns cols (ascending) with values
// vals (ratings, or residuals for pearson_baseline); self is its own index,
// whose similarity is 1 (-1 for a row outside the training data, a new
// user). Each sum runs over the shared columns in ascending order, whichever
// of the pair is the row, so the matrix made of these rows is exactly
// symmetric and does not depend on how rows are spread over workers.
func (m *simMeasure) row(s *simScratch, cols []int32, vals []float64, self int32, out []float64) {
	for k, y := range cols {
		v1 := vals[k]
		for j := m.yr.start[y]; j < m.yr.start[y+1]; j++ {
			x2 := m.yr.col[j]
			a := &s.acc[x2]
			if a.n == 0 {
				s.touched = append(s.touched, x2)
			}
			v2 := m.yv[j]
			a.n++
			switch m.kind {
			case simMSD:
				a.dot += (v1 - v2) * (v1 - v2)
			case simPearson:
				a.s1 += v1
				a.s2 += v2
				fallthrough
			default:
				a.dot += v1 * v2
				a.sq1 += v1 * v1
				a.sq2 += v2 * v2
			}
		}
	}
	minSupport := int32(m.minSupport)
	if m.kind == simPearsonBaseline {
		minSupport = max(2, minSupport)
	}
	for _, x2 := range s.touched {
		a := &s.acc[x2]
		if a.n >= minSupport {
			out[x2] = m.finish(a)
		}
		*a = simAcc{}
	}
	s.touched = s.touched[:0]
	if self >= 0 {
		out[self] = 1
	}
}

// finish is the similarity of a pair from its sums.
func (m *simMeasure) finish(a *simAcc) float64 {
	n := float64(a.n)
	var num, den float64
	switch m.kind {
	case simMSD:
		return 1 / (a.dot/n + 1)
	case simPearson:
		num = n*a.dot - a.s1*a.s2
		den = math.Sqrt((n*a.sq1 - a.s1*a.s1) * (n*a.sq2 - a.s2*a.s2))
	default:
		num, den = a.dot, math.Sqrt(a.sq1*a.sq2)
	}
	if den == 0 || math.IsNaN(den) {
		return 0
	}
	sim := num / den
	if m.kind == simPearsonBaseline {
		sim *= (n - 1) / (n - 1 + m.shrinkage)
	}
	return sim
}
