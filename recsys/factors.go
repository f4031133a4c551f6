package recsys

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/pipe-ml/pipe/data"
)

// predictPairs predicts every (user, item) pair of x with estimate, which
// says whether both were known; the model name prefixes errors.
func predictPairs(name string, d *surpriseTrain, x *data.Array, estimate func(u, i int32) (float64, bool)) ([]float32, int, error) {
	if err := checkPairCounts(d.nUsers, d.nItems, x); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	pred, fallbacks := make([]float32, len(x.Int)/2), 0
	for k := range pred {
		v, known := estimate(x.Int[2*k], x.Int[2*k+1])
		if !known {
			fallbacks++
		}
		pred[k] = d.clip(v)
	}
	return pred, fallbacks, nil
}

// biasedFactors is the fitted state of SVD and NMF: user and item biases
// and factors, p users x f and q items x f.
type biasedFactors struct {
	bu, bi, p, q []float64
}

// estimate is mu + b_u + b_i + q_i·p_u (Surprise's SVD and NMF), the
// biases only when biased and each term only for a known side, and
// whether both sides were known.
func (b *biasedFactors) estimate(d *surpriseTrain, f int, biased bool, u, i int32) (float64, bool) {
	ku, ki := d.knowsUser(u), d.knowsItem(i)
	if !biased {
		if ku && ki {
			return factorDot(b.q[int(i)*f:int(i+1)*f], b.p[int(u)*f:int(u+1)*f]), true
		}
		// Surprise: PredictionImpossible, answered with the global mean.
		return d.global, false
	}
	v := d.global
	if ku {
		v += b.bu[u]
	}
	if ki {
		v += b.bi[i]
	}
	if ku && ki {
		v += factorDot(b.q[int(i)*f:int(i+1)*f], b.p[int(u)*f:int(u+1)*f])
	}
	return v, ku && ki
}

// state is the factors and biases as tensors; mu is the training ratings'
// mean, which restore computes again from them.
func (b *biasedFactors) state(d *surpriseTrain, f int) map[string]*tensors.Tensor {
	return map[string]*tensors.Tensor{
		"bu": f64Vec(b.bu), "bi": f64Vec(b.bi),
		"p": f64Mat(b.p, d.nUsers, f), "q": f64Mat(b.q, d.nItems, f),
	}
}

// restore loads what state saved, for the model name.
func (b *biasedFactors) restore(name string, d *surpriseTrain, f int, state map[string]*tensors.Tensor) error {
	return loadF64State(name, state,
		f64State{"bu", &b.bu, []int{d.nUsers}}, f64State{"bi", &b.bi, []int{d.nItems}},
		f64State{"p", &b.p, []int{d.nUsers, f}}, f64State{"q", &b.q, []int{d.nItems, f}})
}

// trainable counts p and q, and the biases when biased.
func (b *biasedFactors) trainable(biased bool) int {
	n := len(b.p) + len(b.q)
	if biased {
		n += len(b.bu) + len(b.bi)
	}
	return n
}

// factorParamCount counts p and q of nFactors each, and the biases when
// biased.
func factorParamCount(info *data.RatingInfo, nFactors int, biased bool) (int, string) {
	formula := fmt.Sprintf("(users + items) x %d", nFactors)
	if biased {
		formula += " + users + items"
	}
	if info == nil {
		return -1, formula
	}
	n := (len(info.Users) + len(info.Items)) * nFactors
	if biased {
		n += len(info.Users) + len(info.Items)
	}
	return n, formula
}
