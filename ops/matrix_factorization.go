package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
)

func init() {
	Models.Register("matrix_factorization", "Biased matrix factorisation (Funk SVD, as Surprise's SVD): r = mu + b_u + b_i + p_u . q_i, fitted by minibatch SGD on GoMLX with L2 regularisation.",
		func() any {
			return &MatrixFactorization{Factors: 100, Epochs: 20, LearningRate: 0.005, Regularization: 0.02, Biases: true, Normalize: "none", BatchSize: 64, InitStd: 0.1}
		})
}

// MatrixFactorization is Funk-SVD style matrix factorisation. Each minibatch
// step follows the per-rating SGD rule of Surprise's SVD, summed over the
// batch: p_u += lr * (e * q_i - reg * p_u), and likewise for q_i and the biases.
type MatrixFactorization struct {
	Factors        int     `pipe:"factors,min=1,max=10000" doc:"latent factors per user and item"`
	Epochs         int     `pipe:"epochs,min=1,max=10000" doc:"passes over the training ratings"`
	LearningRate   float64 `pipe:"learning_rate,min=0" doc:"SGD step size"`
	Regularization float64 `pipe:"regularization,min=0" doc:"L2 penalty on factors and biases"`
	Biases         bool    `pipe:"biases" doc:"learn a bias per user and per item"`
	Normalize      string  `pipe:"normalize,oneof=none|center|zscore" doc:"fit ratings as they are, minus each user's mean (center), or in units of each user's standard deviation (zscore)"`
	BatchSize      int     `pipe:"batch_size,min=1" doc:"ratings per SGD step"`
	InitStd        float64 `pipe:"init_std,min=0" doc:"standard deviation of the normal initialisation of the factors"`

	data           *ratingData
	shift, scale   []float64 // per-user normalisation: r' = (r - shift) / scale
	mu             float64
	p, q, bu, bi   []float32
	nUsers, nItems int
	trainedUser    []bool
	trainedItem    []bool
}

// normalise fills the per-user shift and scale of the chosen normalisation.
func (m *MatrixFactorization) normalise() {
	d := m.data
	m.shift, m.scale = make([]float64, d.nUsers), make([]float64, d.nUsers)
	for u := range d.nUsers {
		m.scale[u] = 1
		if m.Normalize == "none" {
			continue
		}
		m.shift[u] = d.userMean[u]
		if m.Normalize == "zscore" {
			_, vals := d.byUser.row(u)
			var ss float64
			for _, v := range vals {
				ss += (float64(v) - d.userMean[u]) * (float64(v) - d.userMean[u])
			}
			if sd := math.Sqrt(ss / float64(max(len(vals), 1))); sd > 1e-6 {
				m.scale[u] = sd
			}
		}
	}
}

func (m *MatrixFactorization) Fit(ctx *FitContext, train *loaders.Split) (*evaluators.History, error) {
	d, err := newRatingData(ctx.Info, train)
	if err != nil {
		return nil, err
	}
	m.data, m.nUsers, m.nItems = d, d.nUsers, d.nItems
	m.normalise()
	n := len(train.Y.Float)
	users, items, target := make([]int32, n), make([]int32, n), make([]float32, n)
	var sum float64
	for k := range n {
		u := train.X.Int[2*k]
		users[k], items[k] = u, train.X.Int[2*k+1]
		target[k] = float32((float64(train.Y.Float[k]) - m.shift[u]) / m.scale[u])
		sum += float64(target[k])
	}
	m.mu = sum / float64(n)
	m.trainedUser, m.trainedItem = make([]bool, d.nUsers), make([]bool, d.nItems)
	for k := range n {
		m.trainedUser[users[k]], m.trainedItem[items[k]] = true, true
	}

	rng := rand.New(rand.NewPCG(ctx.Seed, 0x3f))
	normal := func(size int) []float32 {
		v := make([]float32, size)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * m.InitStd)
		}
		return v
	}
	store := model.NewStore()
	scope := store.RootScope()
	f := m.Factors
	pVar := scope.VariableWithValue("p", tensors.FromFlatDataAndDimensions(normal(d.nUsers*f), d.nUsers, f))
	qVar := scope.VariableWithValue("q", tensors.FromFlatDataAndDimensions(normal(d.nItems*f), d.nItems, f))
	buVar := scope.VariableWithValue("bu", tensors.FromFlatDataAndDimensions(make([]float32, d.nUsers), d.nUsers))
	biVar := scope.VariableWithValue("bi", tensors.FromFlatDataAndDimensions(make([]float32, d.nItems), d.nItems))

	step, err := model.NewExec(ctx.Backend, store, func(s *model.Scope, u, i, r *graph.Node) *graph.Node {
		g := u.Graph()
		s.SetTraining(g, true) // keep variables as parameters (see pipeline.Model.forward)
		vars := []*model.Variable{pVar, qVar, buVar, biVar}
		vals := make([]*graph.Node, len(vars))
		for k, v := range vars {
			vals[k] = v.NodeValue(g)
		}
		ui, ii := graph.InsertAxes(u, -1), graph.InsertAxes(i, -1)
		pu, qi := graph.Gather(vals[0], ui), graph.Gather(vals[1], ii)
		pred := graph.AddScalar(graph.ReduceSum(graph.Mul(pu, qi), -1), m.mu)
		penalty := graph.Add(graph.ReduceAllSum(graph.Square(pu)), graph.ReduceAllSum(graph.Square(qi)))
		if m.Biases {
			bu, bi := graph.Gather(vals[2], ui), graph.Gather(vals[3], ii)
			pred = graph.Add(pred, graph.Add(bu, bi))
			penalty = graph.Add(penalty, graph.Add(graph.ReduceAllSum(graph.Square(bu)), graph.ReduceAllSum(graph.Square(bi))))
		}
		e := graph.Sub(pred, r)
		sq := graph.ReduceAllSum(graph.Square(e))
		// Half the squared error and half the penalty: its gradient is
		// Surprise's update direction, e*q_i + reg*p_u.
		loss := graph.MulScalar(graph.Add(sq, graph.MulScalar(penalty, m.Regularization)), 0.5)
		grads := graph.Gradient(loss, vals...)
		for k, v := range vars {
			if k >= 2 && !m.Biases {
				continue
			}
			v.SetNodeValue(graph.Sub(vals[k], graph.MulScalar(grads[k], m.LearningRate)))
		}
		return sq
	})
	if err != nil {
		return nil, err
	}
	h := &evaluators.History{}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	bu, bi, br := make([]int32, 0, m.BatchSize), make([]int32, 0, m.BatchSize), make([]float32, 0, m.BatchSize)
	for epoch := 1; epoch <= m.Epochs; epoch++ {
		rng.Shuffle(n, func(a, b int) { order[a], order[b] = order[b], order[a] })
		var sse float64
		for from := 0; from < n; from += m.BatchSize {
			bu, bi, br = bu[:0], bi[:0], br[:0]
			for _, k := range order[from:min(from+m.BatchSize, n)] {
				bu, bi, br = append(bu, users[k]), append(bi, items[k]), append(br, target[k])
			}
			out, err := step.Call1(tensors.FromFlatDataAndDimensions(bu, len(bu)), tensors.FromFlatDataAndDimensions(bi, len(bi)), tensors.FromFlatDataAndDimensions(br, len(br)))
			if err != nil {
				return h, fmt.Errorf("epoch %d: %w", epoch, err)
			}
			sse += float64(tensors.MustCopyFlatData[float32](out)[0])
		}
		if math.IsNaN(sse) || math.IsInf(sse, 0) {
			return h, fmt.Errorf("epoch %d: the training error is %v; lower learning_rate", epoch, sse)
		}
		m.p = tensors.MustCopyFlatData[float32](pVar.MustValue())
		m.q = tensors.MustCopyFlatData[float32](qVar.MustValue())
		m.bu = tensors.MustCopyFlatData[float32](buVar.MustValue())
		m.bi = tensors.MustCopyFlatData[float32](biVar.MustValue())
		// The training error is on the normalised scale, before the step's
		// update; validation is on the rating scale, as the test metric.
		h.Add("rmse", math.Sqrt(sse/float64(n))*meanScale(m.scale))
		if ctx.Val != nil && ctx.Val.Len() > 0 {
			pred, _, err := m.Predict(&ctx.Val.X)
			if err != nil {
				return h, err
			}
			h.Add("val_rmse", rmse(pred, ctx.Val.Y.Float))
		}
		if ctx.Log != nil {
			last := h.Last()
			ctx.Log("epoch %d/%d - rmse: %.4f - val_rmse: %.4f\n", epoch, m.Epochs, last["rmse"], last["val_rmse"])
		}
	}
	return h, nil
}

// meanScale is the mean of the per-user scales, to report a normalised
// training error roughly on the rating scale.
func meanScale(s []float64) float64 {
	var sum float64
	for _, v := range s {
		sum += v
	}
	return sum / float64(max(len(s), 1))
}

func rmse(pred, truth []float32) float64 {
	var ss float64
	for i := range pred {
		e := float64(pred[i] - truth[i])
		ss += e * e
	}
	return math.Sqrt(ss / float64(max(len(pred), 1)))
}

// Predict scores each pair; a user or item without training ratings gets
// the fallback of ratingData (user mean, item mean, global mean).
func (m *MatrixFactorization) Predict(x *loaders.Array) ([]float32, int, error) {
	if m.data == nil {
		return nil, 0, fmt.Errorf("matrix_factorization: predict before fit")
	}
	if err := checkPairs(&loaders.RatingInfo{Users: make([]string, m.nUsers), Items: make([]string, m.nItems)}, x); err != nil {
		return nil, 0, err
	}
	n, f := len(x.Int)/2, m.Factors
	pred, fallbacks := make([]float32, n), 0
	for k := range n {
		u, i := x.Int[2*k], x.Int[2*k+1]
		if !m.trainedUser[u] || !m.trainedItem[i] {
			pred[k] = m.data.clip(m.data.fallback(u, i))
			fallbacks++
			continue
		}
		v := m.mu
		for j := range f {
			v += float64(m.p[int(u)*f+j] * m.q[int(i)*f+j])
		}
		if m.Biases {
			v += float64(m.bu[u] + m.bi[i])
		}
		pred[k] = m.data.clip(v*m.scale[u] + m.shift[u])
	}
	return pred, fallbacks, nil
}
