package recsys

import "fmt"

// Baseline estimates b_ui = mu + b_u + b_i (Koren 2010, section 2.1), as
// Surprise computes them for BaselineOnly, KNNBaseline and the
// pearson_baseline similarity: mu is the global mean of the training
// ratings, b_u and b_i are fitted to the residuals r_ui - mu with
// regularisation, by alternating least squares (Surprise's default) or by
// stochastic gradient descent. Users and items without training ratings
// keep b = 0. Any model of the package that needs baselines shares this
// estimator, so that they agree with each other and with Surprise.

// BaselineOptions are Surprise's bsl_options, as params of a model that
// embeds them: each key of bsl_options with a bsl_ prefix, flat beside the
// model's other params (a nested mapping would have no place in the
// generated reference), so that the names say what they tune.
type BaselineOptions struct {
	Method       string  `pipe:"bsl_method,oneof=als|sgd" doc:"how the baselines are fitted: als, alternating least squares (each pass sets every b_i, then every b_u, to its regularised least-squares value given the others), or sgd, stochastic gradient descent over the ratings"`
	Epochs       int     `pipe:"bsl_n_epochs,min=0" doc:"passes of bsl_method; 0: the method's default, 10 for als and 20 for sgd (Surprise's)"`
	RegU         float64 `pipe:"bsl_reg_u,min=0" doc:"als: regularisation of the user biases (b_u = sum of its residuals / (bsl_reg_u + number of the user's ratings))"`
	RegI         float64 `pipe:"bsl_reg_i,min=0" doc:"als: regularisation of the item biases"`
	Reg          float64 `pipe:"bsl_reg,min=0" doc:"sgd: regularisation of both biases"`
	LearningRate float64 `pipe:"bsl_learning_rate,min=0" doc:"sgd: step size"`
}

// DefaultBaselineOptions are Surprise's defaults: ALS with reg_u 15 and
// reg_i 10 (and, were sgd chosen, reg 0.02 and learning rate 0.005).
func DefaultBaselineOptions() BaselineOptions {
	return BaselineOptions{Method: "als", RegU: 15, RegI: 10, Reg: 0.02, LearningRate: 0.005}
}

// epochs resolves n_epochs 0 to the method's default, so that switching
// the method alone gives Surprise's setting for it.
func (o BaselineOptions) epochs() int {
	switch {
	case o.Epochs > 0:
		return o.Epochs
	case o.Method == "sgd":
		return 20
	}
	return 10
}

func (o BaselineOptions) check() error {
	switch o.Method {
	case "als", "sgd":
		return nil
	}
	return fmt.Errorf("unknown baseline method %q (als or sgd)", o.Method)
}

// baselines are fitted biases: the baseline of (u, i) is mu + bu[u] + bi[i].
type baselines struct {
	mu     float64
	bu, bi []float64
}

func (b *baselines) of(u, i int32) float64 { return b.mu + b.bu[u] + b.bi[i] }

// fitBaselines estimates the biases of d's training ratings. Both methods
// visit users and items in index order and a row's ratings in ascending
// column order, so the result is deterministic.
func (o BaselineOptions) fitBaselines(d *ratingData) (*baselines, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	b := &baselines{mu: d.global, bu: make([]float64, d.nUsers), bi: make([]float64, d.nItems)}
	n := o.epochs()
	if o.Method == "sgd" {
		for range n {
			for u := range d.nUsers {
				items, vals := d.byUser.row(u)
				for k, i := range items {
					err := float64(vals[k]) - (b.mu + b.bu[u] + b.bi[i])
					// Both updates use the biases from before the step, as
					// Surprise's does.
					bu, bi := b.bu[u], b.bi[i]
					b.bu[u] += o.LearningRate * (err - o.Reg*bu)
					b.bi[i] += o.LearningRate * (err - o.Reg*bi)
				}
			}
		}
		return b, nil
	}
	for range n {
		alsStep(&d.byItem, b.bi, b.bu, b.mu, o.RegI)
		alsStep(&d.byUser, b.bu, b.bi, b.mu, o.RegU)
	}
	return b, nil
}

// alsStep sets the bias of every row of s (items, or users) to the
// regularised mean of its residuals given the other side's biases:
// bias[r] = Σ (r_rc - mu - other[c]) / (reg + n_r). Rows without
// ratings keep 0 (with reg 0 the formula would be 0/0).
func alsStep(s *sparseRows, bias, other []float64, mu, reg float64) {
	for r := range bias {
		cols, vals := s.row(r)
		if len(cols) == 0 {
			continue
		}
		var dev float64
		for k, c := range cols {
			dev += float64(vals[k]) - mu - other[c]
		}
		bias[r] = dev / (reg + float64(len(cols)))
	}
}

// foldInUser is the bias of a user outside the training data who rated
// items (ascending, all within the training items) with ratings, the item
// biases held fixed: ALS's user step (what the last epoch would give such a
// user), or the SGD epochs run over this user's ratings alone. The training
// biases are left as they were, so predicting for a new user never changes
// the model.
func (o BaselineOptions) foldInUser(b *baselines, items []int32, ratings []float64) float64 {
	if len(items) == 0 {
		return 0
	}
	if o.Method == "sgd" {
		var bu float64
		for range o.epochs() {
			for k, i := range items {
				err := ratings[k] - (b.mu + bu + b.bi[i])
				bu += o.LearningRate * (err - o.Reg*bu)
			}
		}
		return bu
	}
	var dev float64
	for k, i := range items {
		dev += ratings[k] - b.mu - b.bi[i]
	}
	return dev / (o.RegU + float64(len(items)))
}
