package pipeline

import (
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/optim"
	"github.com/pipe-ml/pipe/rundir"
)

// Model is a plan's network with its variables on a backend, and the two
// compiled computations that use them: a training step and an evaluation.
type Model struct {
	plan      *Plan
	backend   compute.Backend
	store     *model.Store
	trainStep *model.Exec
	evaluate  *model.Exec
	predict   *model.Exec   // built on first use by Outputs
	parallel  *dataParallel // the training step across devices; nil on one device
	mode      string        // how training uses several devices, for the log; "" on one device
}

// NewModel creates the variables' store and the computations. Variables
// are created on the first call, from the seed.
func NewModel(plan *Plan, backend compute.Backend) (*Model, error) {
	m := &Model{plan: plan, backend: backend, store: model.NewStore()}
	if err := m.store.SetRNGStateFromSeed(int64(plan.Seed)); err != nil {
		return nil, err
	}
	var err error
	if m.trainStep, err = model.NewExec(backend, m.store, m.trainGraph); err != nil {
		return nil, err
	}
	if m.evaluate, err = model.NewExec(backend, m.store, m.evalGraph); err != nil {
		return nil, err
	}
	// A backend with several devices trains data-parallel (parallel.go);
	// evaluation and predictions stay on the first device.
	var parallel bool
	devices := backend.NumDevices()
	if parallel, m.mode = parallelMode(devices, plan.Train.BatchSize); parallel {
		if m.parallel, err = newDataParallel(m, devices); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// rngStatePath is the variable in which GoMLX keeps the random state that
// dropout draws from (Scope.RandomUniform): every training step advances
// it, so it is part of what a checkpoint must carry.
var rngStatePath = model.JoinPath("/", model.RNGStateVariableName)

// loadTrainingState gives m the variables of run's checkpoint to go on
// training from: weights, optimizer state, step counter and random state.
// Call it before the first step, while no graph is built.
func (m *Model) loadTrainingState(run *rundir.Run) error {
	// NewModel seeded the random state, so its variable exists already, and
	// GoMLX's immediate checkpoint load only sets the variables it creates
	// (for an existing one CreateVariable returns it unchanged): the saved
	// state would be dropped, and the resumed run would draw the dropout
	// masks of the first epochs again. Removed first, the variable is
	// created from the checkpoint.
	if err := m.store.DeleteVariable(rngStatePath); err != nil {
		return err
	}
	if err := run.LoadCheckpoint(m.store); err != nil {
		return err
	}
	if m.store.GetVariable(rngStatePath) == nil {
		// A checkpoint without it cannot continue exactly; the seeded state
		// at least keeps the resumed run repeatable.
		if err := m.store.SetRNGStateFromSeed(int64(m.plan.Seed)); err != nil {
			return err
		}
	}
	// The checkpoint does not record which variables train: it creates
	// every one trainable. A fresh run creates these as non-trainable;
	// the random state in particular is used by the forward pass, so as
	// trainable it would be handed to the gradient and the optimizer.
	for v := range m.store.IterVariables() {
		switch p := v.Path(); {
		case p == rngStatePath, strings.HasPrefix(p, "/train/"), strings.HasPrefix(p, "/optimizer/"), p == "/global_step", ops.IsState(p):
			v.SetTrainable(false)
		}
	}
	return nil
}

// forward builds the layer graph on x. It returns the outputs (one per
// head) and the regularisation penalties that layers added to the loss.
//
// With train.shards > 1 the graph is built once per part of the batch, on
// the same variables: the parts are independent branches of the graph,
// which the Go backend's executor runs side by side on its cores, and the
// gradients of the parts add up as autodiff sums over the whole batch.
// Layer state (batch_normalization's moving statistics) ends a training
// step at the mean of the values the parts give it (ops.StateUpdates).
func (m *Model) forward(scope *model.Scope, x *graph.Node, training bool) ([]*graph.Node, []*graph.Node) {
	// The Go backend compiles the variables of graphs that are not marked as
	// training into constants, so an evaluation graph would keep the weights
	// it first saw. Every graph of pipe is marked as training to keep
	// variables as parameters; dropout reads Builder.Training instead.
	scope.SetTraining(x.Graph(), true)
	n := x.Shape().Dimensions[0]
	shards := max(1, min(m.plan.Train.Shards, n))
	var penalties, again []*graph.Node // the weights' penalties, counted once
	heads := m.plan.Heads
	parts := make([][]*graph.Node, len(heads)) // per head, per part
	var updates ops.StateUpdates
	for k := range shards {
		part := x
		if shards > 1 {
			part = graph.Slice(x, graph.AxisRange(k*n/shards, (k+1)*n/shards))
		}
		values := m.plan.inputValues(part)        // the inputs, then each stage's output
		masks := make([]*graph.Node, len(values)) // the values' masks (ops.MaskedLayer); nil for none
		for i, st := range m.plan.Stages {
			pen := &penalties
			if k > 0 {
				pen = &again
			}
			ls := layerScope(scope, st.Name, k)
			if st.Shares != "" {
				// The owner's variables, built before; their penalties
				// count once, with the owner's.
				ls, pen = layerScope(scope, st.Shares, 1), &again
			}
			b := &ops.Builder{Graph: x.Graph(), Scope: ls, Training: training, Seed: uint64(m.plan.Seed), Index: i, Penalties: pen, Updates: &updates}
			xs := make([]*graph.Node, len(st.From))
			ms := make([]*graph.Node, len(st.From))
			for j, f := range st.From {
				xs[j], ms[j] = values[f], masks[f]
			}
			y, mask := st.BuildMasked(b, xs, ms)
			values, masks = append(values, y), append(masks, mask)
		}
		for h, head := range heads {
			parts[h] = append(parts[h], values[len(m.plan.Inputs)+head.Stage])
		}
	}
	updates.Apply()
	outs := make([]*graph.Node, len(heads))
	for h := range heads {
		outs[h] = parts[h][0]
		if shards > 1 {
			outs[h] = graph.Concatenate(parts[h], 0)
		}
	}
	return outs, penalties
}

// layerScope is the scope of a layer's variables in part k of the batch.
// A layer of a block (res/conv2d) sits in the block's use's scope; its name
// is unique, so At, which allows a scope to be entered again, is safe.
func layerScope(scope *model.Scope, name string, k int) *model.Scope {
	if strings.Contains(name, "/") {
		for part := range strings.SplitSeq(name, "/") {
			scope = scope.At("%s", part)
		}
		return scope
	}
	if k > 0 {
		return scope.Shared("%s", name)
	}
	return scope.In("%s", name)
}

// metricSums returns, for each metric of the plan, its ΣValue and ΣWeight
// over the batch (a vector of 2 x metrics), and the objective. Metrics
// measure the main output.
func (p *Plan) metricSums(preds []*graph.Node, x, y, on *graph.Node) (*graph.Node, evaluators.Measure) {
	total, heads := p.objective(preds, x, y, on)
	target := y
	if p.Heads[0].Target == "input" && !p.InputInY {
		target = x
	}
	return metricSums(p.Metrics, p.Loss, preds[0], target, total, heads), total
}

// metricSums measures pred against y with each metric; loss reports the
// objective total, and a head's loss series its own measure.
func metricSums(metrics []NamedMetric, loss evaluators.Loss, pred, y *graph.Node, total evaluators.Measure, heads []evaluators.Measure) *graph.Node {
	sums := make([]*graph.Node, len(metrics))
	for i, metric := range metrics {
		var measure evaluators.Measure
		switch {
		case metric.Name == "loss":
			measure = total
		case metric.head > 0:
			measure = heads[metric.head-1]
		default:
			measure = metric.Build(pred, y, loss)
		}
		sums[i] = graph.ConvertDType(measure.Sums(), pred.DType())
	}
	return graph.Concatenate(sums, 0)
}

// trainGraph is one optimisation step on a batch; it returns the batch's
// metric sums, measured before the update as Keras does.
func (m *Model) trainGraph(scope *model.Scope, x, y *graph.Node) *graph.Node {
	g := x.Graph()
	preds, penalties := m.forward(scope, x, true)
	sums, measure := m.plan.metricSums(preds, x, y, m.phaseNode(g))
	loss := measure.Mean()
	for _, p := range penalties {
		loss = graph.Add(loss, p)
	}

	var vars []*model.Variable
	var values []*graph.Node
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
			values = append(values, v.NodeValue(g))
		}
	}
	grads := graph.Gradient(loss, values...)

	if clip := m.plan.Train.ClipNorm; clip > 0 {
		grads = clipGlobalNorm(grads, clip)
	}
	train := m.store.Scope("/train")
	stepVar := train.VariableWithValue("step", float32(0)).SetTrainable(false)
	step := graph.AddScalar(stepVar.NodeValue(g), 1)
	stepVar.SetNodeValue(step)
	scale := train.VariableWithValue(lrScaleVar, float32(1)).SetTrainable(false).NodeValue(g)
	for i, v := range vars {
		v.SetNodeValue(m.plan.Optimizer.Update(values[i], grads[i], optim.Slot(m.store, v), step, scale))
	}
	return sums
}

// phaseVar is the variable (under /train) that holds, per head, 1 where
// its loss counts in the current phase; Fit sets it before each epoch.
const phaseVar = "phase_outputs"

// phaseNode is the phase variable's value in g; nil without phases.
func (m *Model) phaseNode(g *graph.Graph) *graph.Node {
	if len(m.plan.Train.Phases) == 0 {
		return nil
	}
	on := make([]float32, len(m.plan.Heads))
	for i, b := range m.plan.Train.Phases[0].On {
		if b {
			on[i] = 1
		}
	}
	return m.store.Scope("/train").VariableWithValue(phaseVar, on).SetTrainable(false).NodeValue(g)
}

// setPhase gives the phase variable the outputs of epoch's phase.
func (m *Model) setPhase(epoch int) error {
	ph := m.plan.Train.phaseOf(epoch)
	if ph == nil {
		return nil
	}
	on := make([]float32, len(ph.On))
	for i, b := range ph.On {
		if b {
			on[i] = 1
		}
	}
	v := m.store.Scope("/train").VariableWithValue(phaseVar, on).SetTrainable(false)
	return v.SetValue(tensors.FromValue(on))
}

// lrScaleVar is the variable (under /train) that holds the learning-rate
// schedule's factor; Fit sets it between epochs.
const lrScaleVar = "lr_scale"

// clipGlobalNorm scales all gradients together so that their global L2
// norm is at most clip (Keras' global_clipnorm).
func clipGlobalNorm(grads []*graph.Node, clip float64) []*graph.Node {
	var sq *graph.Node
	for _, g := range grads {
		s := graph.ReduceAllSum(graph.Square(g))
		if sq == nil {
			sq = s
		} else {
			sq = graph.Add(sq, s)
		}
	}
	norm := graph.Sqrt(sq)
	factor := graph.Div(graph.Scalar(norm.Graph(), norm.DType(), clip), graph.Max(norm, graph.Scalar(norm.Graph(), norm.DType(), clip)))
	out := make([]*graph.Node, len(grads))
	for i, g := range grads {
		out[i] = graph.Mul(g, graph.ConvertDType(factor, g.DType()))
	}
	return out
}

// evalGraph returns the metric sums of a batch, without dropout.
func (m *Model) evalGraph(scope *model.Scope, x, y *graph.Node) *graph.Node {
	preds, _ := m.forward(scope, x, false)
	sums, _ := m.plan.metricSums(preds, x, y, m.phaseNode(x.Graph()))
	return sums
}

// run calls exec on examples idx of split and returns the metric sums.
func (m *Model) run(exec *model.Exec, split *data.Split, idx []int) ([]float64, error) {
	x, y, err := m.plan.batch(split, idx)
	if err != nil {
		return nil, err
	}
	return runBatch(exec, x, y)
}

// runBatch calls exec on a batch as the model takes it and returns the
// metric sums.
func runBatch(exec *model.Exec, x, y data.Array) ([]float64, error) {
	out, err := exec.Call1(tensorOf(x), tensorOf(y))
	if err != nil {
		return nil, err
	}
	return metricValues(out)
}

// Outputs returns the model's output for every example of split, without
// dropout, flattened example after example.
func (m *Model) Outputs(split *data.Split) ([]float32, error) {
	predict, err := m.predictExec()
	if err != nil {
		return nil, err
	}
	var all []float32
	n := split.Len()
	batch := m.evalBatch()
	for from := 0; from < n; from += batch {
		idx := make([]int, 0, batch)
		for i := from; i < min(from+batch, n); i++ {
			idx = append(idx, i)
		}
		x, err := m.plan.batchColumn(&split.X, "x", idx)
		if err != nil {
			return nil, err
		}
		out, err := predict.Call1(tensorOf(x))
		if err != nil {
			return nil, err
		}
		v, err := tensors.CopyFlatData[float32](out)
		if err != nil {
			return nil, err
		}
		all = append(all, v...)
	}
	return all, nil
}

// outputsOf is Outputs on examples in memory or streamed, in order.
func (m *Model) outputsOf(ex examples) ([]float32, error) {
	if mem, ok := ex.(memExamples); ok {
		return m.Outputs(mem.s)
	}
	var all []float32
	err := ex.batches(m.evalBatch(), nil, 0, func(split *data.Split, idx []int) error {
		b := data.Split{X: data.Array{Schema: split.X.Schema}, Y: data.Array{Schema: split.Y.Schema}}
		appendExamples(&b, split, idx)
		out, err := m.Outputs(&b)
		all = append(all, out...)
		return err
	})
	return all, err
}

// predictionRows turns the outputs of a classifier (several class
// probabilities, or one sigmoid) or a single-value regression into the rows
// of predictions.arrow. Other outputs (whole rating vectors) have no rows.
func predictionRows(outputs []float32, labels *data.Array, classes []string) (arrowio.PredictionRows, bool) {
	n := labels.Len()
	if n == 0 || len(outputs)%n != 0 {
		return arrowio.PredictionRows{}, false
	}
	width := len(outputs) / n
	rows := arrowio.PredictionRows{Index: make([]int64, n), Label: make([]float32, n), Prediction: make([]float32, n)}
	labelWidth := labels.Size()
	for i := range n {
		rows.Index[i] = int64(i)
		out := outputs[i*width : (i+1)*width]
		switch {
		case labels.DType == data.Int32 && labelWidth == 1:
			rows.Label[i] = float32(labels.Int[i])
		case labelWidth == width && width > 1: // one-hot
			rows.Label[i] = float32(evaluators.Argmax(labels.Float[i*width : (i+1)*width]))
		case labelWidth == 1:
			rows.Label[i] = labels.Float[i]
		default:
			return arrowio.PredictionRows{}, false
		}
		switch {
		case width > 1:
			rows.Prediction[i] = float32(evaluators.Argmax(out))
			rows.Probabilities = append(rows.Probabilities, out)
		case labels.Classes == 2 || (labels.DType == data.Int32 && len(classes) == 2): // one sigmoid
			rows.Prediction[i] = 0
			if out[0] >= 0.5 {
				rows.Prediction[i] = 1
			}
			rows.Probabilities = append(rows.Probabilities, []float32{1 - out[0], out[0]})
		default:
			rows.Prediction[i] = out[0]
		}
	}
	if rows.Probabilities != nil {
		rows.ClassNames = classes
	}
	return rows, true
}
