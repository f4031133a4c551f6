package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/data"
)

func init() {
	Models.Register("matrix_factorization", "Biased matrix factorisation (Funk SVD, as Surprise's SVD): r = mu + b_u + b_i + p_u . q_i, fitted by minibatch SGD on GoMLX with L2 regularisation.",
		func() Recommender {
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
}

// mfModel is a fitted MatrixFactorization: the params it was fitted with and what it learned.
type mfModel struct {
	MatrixFactorization

	data           *ratingData
	shift, scale   []float64 // per-user normalisation: r' = (r - shift) / scale
	mu             float64
	p, q, bu, bi   []float32
	nUsers, nItems int
	trainedUser    []bool
	trainedItem    []bool
	itemRatings    []float32  // training ratings per item
	scaleRange     [2]float32 // the rating scale, to clip predictions
}

// normalise fills the per-user shift and scale of the chosen normalisation.
func (m *mfModel) normalise() {
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

func (p *MatrixFactorization) Fit(ctx *FitContext, train *data.Split) (Fitted, *data.History, error) {
	m := &mfModel{MatrixFactorization: *p}
	h, err := m.fit(ctx, train)
	if err != nil {
		return nil, nil, err
	}
	return m, h, nil
}

func (m *mfModel) fit(ctx *FitContext, train *data.Split) (*data.History, error) {
	d, err := newRatingData(ctx.Info, train)
	if err != nil {
		return nil, err
	}
	m.data, m.nUsers, m.nItems, m.scaleRange = d, d.nUsers, d.nItems, d.scale
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
	m.itemRatings = make([]float32, d.nItems)
	for k := range n {
		m.trainedUser[users[k]], m.trainedItem[items[k]] = true, true
		m.itemRatings[items[k]]++
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
		index := []*graph.Node{ui, ii, ui, ii} // the rows of p, q, bu, bi
		rows := []*graph.Node{graph.Gather(vals[0], ui), graph.Gather(vals[1], ii)}
		pred := graph.AddScalar(graph.ReduceSum(graph.Mul(rows[0], rows[1]), -1), m.mu)
		penalty := graph.Add(graph.ReduceAllSum(graph.Square(rows[0])), graph.ReduceAllSum(graph.Square(rows[1])))
		if m.Biases {
			bu, bi := graph.Gather(vals[2], ui), graph.Gather(vals[3], ii)
			rows = append(rows, bu, bi)
			pred = graph.Add(pred, graph.Add(bu, bi))
			penalty = graph.Add(penalty, graph.Add(graph.ReduceAllSum(graph.Square(bu)), graph.ReduceAllSum(graph.Square(bi))))
		}
		e := graph.Sub(pred, r)
		sq := graph.ReduceAllSum(graph.Square(e))
		// Half the squared error and half the penalty: its gradient is
		// Surprise's update direction, e*q_i + reg*p_u.
		loss := graph.MulScalar(graph.Add(sq, graph.MulScalar(penalty, m.Regularization)), 0.5)
		// The gradient with respect to the gathered rows, added into the
		// batch's rows of the tables: a step costs the batch, not the
		// tables' size (the gradient of the whole tables would be dense
		// zeros but for those rows, and an epoch quadratic in the ratings).
		grads := graph.Gradient(loss, rows...)
		for k, g := range grads {
			vars[k].SetNodeValue(graph.ScatterSum(vals[k], index[k], graph.MulScalar(g, -m.LearningRate), false, false))
		}
		return sq
	})
	if err != nil {
		return nil, err
	}
	h := &data.History{}
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

// Predict scores each pair; a user or item without training ratings gets
// the fallback of ratingData (user mean, item mean, global mean).
func (m *mfModel) Predict(x *data.Array) ([]float32, int, error) {
	if m.data == nil {
		return nil, 0, fmt.Errorf("matrix_factorization: predict before fit")
	}
	if err := checkPairs(&data.RatingInfo{Users: make([]string, m.nUsers), Items: make([]string, m.nItems)}, x); err != nil {
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

// NewUsers: a new user's factors and bias are fitted to their ratings with
// the item side fixed (fold-in, see PredictUser).
func (m *MatrixFactorization) NewUsers() error { return nil }

// State is the fitted factors and biases of users (p, bu) and items (q,
// bi), the normalised global mean mu and how many training ratings each
// item had (items with none keep their random initial factors and get the
// fallback). Fold-in (PredictUser) needs only the item side.
func (m *mfModel) State() (map[string]*tensors.Tensor, error) {
	if m.q == nil {
		return nil, fmt.Errorf("matrix_factorization: no state before fit")
	}
	return map[string]*tensors.Tensor{
		"p":            tensors.FromFlatDataAndDimensions(slices.Clone(m.p), m.nUsers, m.Factors),
		"bu":           tensors.FromFlatDataAndDimensions(slices.Clone(m.bu), m.nUsers),
		"q":            tensors.FromFlatDataAndDimensions(slices.Clone(m.q), m.nItems, m.Factors),
		"bi":           tensors.FromFlatDataAndDimensions(slices.Clone(m.bi), m.nItems),
		"mu":           tensors.FromScalar(m.mu), // float64, as fitted
		"item_ratings": tensors.FromFlatDataAndDimensions(slices.Clone(m.itemRatings), m.nItems),
	}, nil
}

func (p *MatrixFactorization) Restore(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) (Fitted, error) {
	m := &mfModel{MatrixFactorization: *p}
	if err := m.loadState(info, train, state); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *mfModel) loadState(info *data.RatingInfo, train *data.Split, state map[string]*tensors.Tensor) error {
	d, err := newRatingData(info, train)
	if err != nil {
		return fmt.Errorf("matrix_factorization: %w", err)
	}
	m.data, m.nUsers, m.nItems, m.scaleRange = d, d.nUsers, d.nItems, d.scale
	m.normalise()
	mu, err := stateTensor[float64](state, "mu")
	if err != nil {
		return fmt.Errorf("matrix_factorization: %w", err)
	}
	m.mu = mu[0]
	for _, t := range []struct {
		name string
		dst  *[]float32
		dims []int
	}{
		{"p", &m.p, []int{m.nUsers, m.Factors}}, {"bu", &m.bu, []int{m.nUsers}},
		{"q", &m.q, []int{m.nItems, m.Factors}}, {"bi", &m.bi, []int{m.nItems}}, {"item_ratings", &m.itemRatings, []int{m.nItems}},
	} {
		if *t.dst, err = stateTensor[float32](state, t.name, t.dims...); err != nil {
			return fmt.Errorf("matrix_factorization: %w", err)
		}
	}
	m.trainedUser, m.trainedItem = make([]bool, m.nUsers), make([]bool, m.nItems)
	for k := range len(train.X.Int) / 2 {
		m.trainedUser[train.X.Int[2*k]] = true
	}
	for i, c := range m.itemRatings {
		m.trainedItem[i] = c > 0
	}
	return nil
}

// PredictUser folds a new user into the fitted model: with the item
// factors and biases fixed, the user's factors p and bias b minimise the
// training objective restricted to that user,
//
//	Σ_i (mu + b + bi_i + p·q_i - t_i)² + reg·n·(|p|² + b²)
//
// over the n rated items that had training ratings, t_i the rating
// normalised with the user's own mean (and standard deviation) as the
// model's normalize says. The penalty is reg·n because training applies it
// once per rating, as Surprise's per-rating SGD rule does. This is a ridge
// regression of F (+1 with biases) unknowns, solved exactly (at least
// 1e-9 on the diagonal, so that it has one solution when regularization is
// 0). Items without training ratings, or every item when none of the
// user's items has any, get the user's mean.
func (m *mfModel) PredictUser(ratings map[int32]float32) ([]float32, int, error) {
	if m.q == nil {
		return nil, 0, fmt.Errorf("matrix_factorization: PredictUser before fit")
	}
	if err := checkItems(m.nItems, ratings); err != nil {
		return nil, 0, fmt.Errorf("matrix_factorization: %w", err)
	}
	items := sortedItems(ratings)
	mean, sd := userStats(ratings, items)
	shift, scale := 0.0, 1.0
	if m.Normalize != "none" {
		shift = mean
		if m.Normalize == "zscore" && sd > 1e-6 {
			scale = sd
		}
	}
	f := m.Factors
	dim := f
	if m.Biases {
		dim++
	}
	// The fold-in's ridge system: a row per trained rated item, its
	// factors (and 1 for the bias), against the normalised rating less mu
	// (and the item bias).
	var a, y []float64
	for _, i := range items {
		if !m.trainedItem[i] {
			continue
		}
		for j := range f {
			a = append(a, float64(m.q[int(i)*f+j]))
		}
		yi := (float64(ratings[i])-shift)/scale - m.mu
		if m.Biases {
			a = append(a, 1)
			yi -= float64(m.bi[i])
		}
		y = append(y, yi)
	}
	n := len(y)
	pred, fallbacks := make([]float32, m.nItems), 0
	if n == 0 {
		for i := range pred {
			pred[i] = clipTo(m.scaleRange, mean)
		}
		return pred, m.nItems - len(ratings), nil
	}
	x, err := ridge(a, y, dim, m.Regularization*float64(n))
	if err != nil {
		return nil, 0, fmt.Errorf("matrix_factorization: fold-in: %w", err)
	}
	for i := range m.nItems {
		if !m.trainedItem[i] {
			pred[i] = clipTo(m.scaleRange, mean)
			if _, rated := ratings[int32(i)]; !rated {
				fallbacks++
			}
			continue
		}
		v := m.mu
		for j := range f {
			v += x[j] * float64(m.q[i*f+j])
		}
		if m.Biases {
			v += x[f] + float64(m.bi[i])
		}
		pred[i] = clipTo(m.scaleRange, v*scale+shift)
	}
	return pred, fallbacks, nil
}

// solveSPD solves a x = b for a symmetric positive definite n x n matrix a
// (row-major, overwritten) by Cholesky decomposition.
func solveSPD(a, b []float64, n int) ([]float64, error) {
	for j := range n {
		d := a[j*n+j]
		for k := range j {
			d -= a[j*n+k] * a[j*n+k]
		}
		if !(d > 0) {
			return nil, fmt.Errorf("the system is not positive definite")
		}
		a[j*n+j] = math.Sqrt(d)
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := range j {
				s -= a[i*n+k] * a[j*n+k]
			}
			a[i*n+j] = s / a[j*n+j]
		}
	}
	x := slices.Clone(b)
	for i := range n { // L y = b
		for k := range i {
			x[i] -= a[i*n+k] * x[k]
		}
		x[i] /= a[i*n+i]
	}
	for i := n - 1; i >= 0; i-- { // Lᵀ x = y
		for k := i + 1; k < n; k++ {
			x[i] -= a[k*n+i] * x[k]
		}
		x[i] /= a[i*n+i]
	}
	return x, nil
}
