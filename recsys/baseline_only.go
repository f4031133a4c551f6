package recsys

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("baseline_only", "Surprise's BaselineOnly: r = mu + b_u + b_i, mu the mean training rating and the biases regularised least squares, estimated by alternating least squares (method: als, Surprise's default) or by SGD over the training ratings in Surprise's order (method: sgd), with Surprise's bsl_options and their defaults. A user or item without training ratings has bias 0 (Surprise's estimate), counted as a fallback; predictions are clipped to the rating scale.",
		func() Recommender {
			return &BaselineOnly{Method: "als", RegU: 15, RegI: 10, Reg: 0.02, LearningRate: 0.005}
		})
}

// BaselineOnly is Surprise's BaselineOnly, its params Surprise's
// bsl_options.
//
// ALS (Surprise's baseline_als, after MyMediaLite): biases start at 0;
// each epoch sets every item's bias, then every user's, to its
// regularised least-squares value given the other side:
//
//	b_i = Σ_{u rated i} (r_ui - mu - b_u) / (reg_i + |U_i|)
//	b_u = Σ_{i rated by u} (r_ui - mu - b_i) / (reg_u + |I_u|)
//
// SGD (baseline_sgd): for each training rating, e = r_ui - (mu + b_u + b_i),
// b_u += lr (e - reg b_u), b_i += lr (e - reg b_i).
//
// n_epochs has a default per method in Surprise (10 for als, 20 for sgd):
// 0 here means that default, so that switching method keeps Surprise's.
type BaselineOnly struct {
	Method       string  `pipe:"method,oneof=als|sgd" doc:"how the biases are estimated: als (alternating least squares) or sgd (stochastic gradient descent)"`
	NEpochs      int     `pipe:"n_epochs,min=0,max=100000" doc:"ALS sweeps or SGD passes; 0: Surprise's default for the method, 10 for als and 20 for sgd"`
	RegU         float64 `pipe:"reg_u,min=0" doc:"als: regularisation of the user biases"`
	RegI         float64 `pipe:"reg_i,min=0" doc:"als: regularisation of the item biases"`
	Reg          float64 `pipe:"reg,min=0" doc:"sgd: regularisation of both biases"`
	LearningRate float64 `pipe:"learning_rate,min=0" doc:"sgd: step size"`
}

// epochs is n_epochs, or Surprise's default for the method.
func (p *BaselineOnly) epochs() int {
	switch {
	case p.NEpochs > 0:
		return p.NEpochs
	case p.Method == "sgd":
		return 20
	}
	return 10
}

// baselineModel is a fitted BaselineOnly.
type baselineModel struct {
	BaselineOnly
	data   *surpriseTrain
	bu, bi []float64
}

func (p *BaselineOnly) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	t, err := newSurpriseTrain(ctx.Info, train)
	if err != nil {
		return nil, nil, fmt.Errorf("baseline_only: %w", err)
	}
	m := &baselineModel{BaselineOnly: *p, data: t, bu: make([]float64, t.nUsers), bi: make([]float64, t.nItems)}
	h := &data.History{}
	err = p.baselines(t, m.bu, m.bi, func(epoch int) error {
		return epochHistory(ctx, h, m.Predict, train, epoch, p.epochs())
	})
	if err != nil {
		return nil, nil, fmt.Errorf("baseline_only: %w", err)
	}
	return m, h, nil
}

// baselines estimates the biases bu and bi (zeros, of a value per user
// and per item) as the params say (Surprise's compute_baselines), calling
// after(epoch) once each epoch is done.
func (p *BaselineOnly) baselines(t *surpriseTrain, bu, bi []float64, after func(epoch int) error) error {
	mu := t.global
	for epoch := 1; epoch <= p.epochs(); epoch++ {
		switch p.Method {
		case "als":
			// The k-NN models' ALS step, the same sums in the same order.
			alsStep(&t.byItem, bi, bu, mu, p.RegI)
			alsStep(&t.byUser, bu, bi, mu, p.RegU)
		case "sgd":
			// Not fitBaselines' SGD: Surprise's BaselineOnly visits users in
			// order of first appearance and a user's ratings in training
			// order, where the k-NN models' estimator goes by index; the
			// numbers differ.
			lr, reg := p.LearningRate, p.Reg
			for b, u := range t.users {
				for k := t.start[b]; k < t.start[b+1]; k++ {
					i := t.items[k]
					e := t.r[k] - (mu + bu[u] + bi[i])
					bu[u] += lr * (e - reg*bu[u])
					bi[i] += lr * (e - reg*bi[i])
				}
			}
		default:
			return fmt.Errorf("unknown method %q (als or sgd)", p.Method)
		}
		if after != nil {
			if err := after(epoch); err != nil {
				return err
			}
		}
	}
	return nil
}

// estimate is Surprise's BaselineOnly.estimate: the global mean plus the
// bias of each side that is known.
func (m *baselineModel) estimate(u, i int32) (float64, bool) {
	d := m.data
	v, known := d.global, true
	if d.knowsUser(u) {
		v += m.bu[u]
	} else {
		known = false
	}
	if d.knowsItem(i) {
		v += m.bi[i]
	} else {
		known = false
	}
	return v, known
}

func (m *baselineModel) Predict(x *data.Array) ([]float32, int, error) {
	return predictPairs("baseline_only", m.data, x, m.estimate)
}

// NewUsers: a new user's bias is fitted to their ratings with the item
// biases fixed (see PredictUser).
func (p *BaselineOnly) NewUsers() error { return nil }

// PredictUser folds a new user in: their bias is the value the method
// converges to with the item biases fixed, over the n rated items that
// have training ratings, e_i = r_i - mu - b_i:
//
//	als: b = Σ e_i / (reg_u + n), the ALS user step;
//	sgd: b = Σ e_i / (n (1 + reg)), where the SGD steps settle (the
//	     penalty applied once per rating, as each step does).
//
// Every item then gets mu + b + b_i, so the order is that of the item
// biases. Items without training ratings get mu + b, fallbacks; a user
// none of whose items has training ratings is an unknown user (bias 0).
func (m *baselineModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	d := m.data
	if err := checkItems(d.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("baseline_only: %w", err)
	}
	items, r := d.knownItems(ratings)
	var b float64
	if n := float64(len(items)); n > 0 {
		var dev float64
		for k, i := range items {
			dev += r[k] - d.global - m.bi[i]
		}
		if m.Method == "sgd" {
			b = dev / (n * (1 + m.Reg))
		} else {
			b = dev / (m.RegU + n)
		}
	}
	pred, fallbacks := make([]float32, d.nItems), 0
	for i := range int32(d.nItems) {
		v := d.global + b
		if d.knowsItem(i) {
			v += m.bi[i]
		}
		if _, rated := ratings[i]; !rated && (!d.knowsItem(i) || len(items) == 0) {
			fallbacks++
		}
		pred[i] = d.clip(v)
	}
	return pred, fallbacks, nil
}

// State is the fitted biases; mu is the training ratings' mean, which
// Restore computes again from them.
func (m *baselineModel) State() (map[string]*tensors.Tensor, error) {
	return map[string]*tensors.Tensor{"bu": f64Vec(m.bu), "bi": f64Vec(m.bi)}, nil
}

func (p *BaselineOnly) Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error) {
	t, err := newSurpriseTrain(info, train)
	if err != nil {
		return nil, fmt.Errorf("baseline_only: %w", err)
	}
	m := &baselineModel{BaselineOnly: *p, data: t}
	err = loadF64State("baseline_only", state, f64State{"bu", &m.bu, []int{t.nUsers}}, f64State{"bi", &m.bi, []int{t.nItems}})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ParamCount counts a bias per user and per item.
func (p *BaselineOnly) ParamCount(info *data.RatingInfo) (int, string) {
	if info == nil {
		return -1, "users + items"
	}
	return len(info.Users) + len(info.Items), "users + items"
}

func (m *baselineModel) TrainableParams() int { return len(m.bu) + len(m.bi) }
