package ops

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Builder carries what a layer needs while its graph is built.
type Builder struct {
	Graph    *graph.Graph
	Scope    *model.Scope // already scoped to the layer's own name
	Training bool         // dropout and friends act only when true
	// Seed and Index seed the layer's initialisers. Weights are drawn from
	// a generator of their own per layer, so every graph that pipe builds
	// (training step, evaluation) finds the same initial values, and the
	// same spec and seed give the same weights.
	Seed  uint64
	Index int
	// Penalties collects regularisation terms (a layer's l2) that the
	// training step adds to the loss.
	Penalties *[]*graph.Node
	// Updates collects the new values of layer state (SetState) when the
	// stack is built more than once on the same variables, once per part
	// of the batch (train.shards > 1); nil sets them at once.
	Updates *StateUpdates
}

// AddPenalty adds a regularisation term to the training loss.
func (b *Builder) AddPenalty(p *graph.Node) {
	if b.Penalties != nil {
		*b.Penalties = append(*b.Penalties, p)
	}
}

func (b *Builder) rng(name string) *rand.Rand {
	return rand.New(rand.NewPCG(b.Seed, uint64(b.Index)*0x9E3779B97F4A7C15^hash(name)))
}

// GlorotUniform is Keras' default kernel initialiser: U(-l, l) with
// l = sqrt(6 / (fanIn + fanOut)).
func (b *Builder) GlorotUniform(name string, fanIn, fanOut int, dims ...int) *graph.Node {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	return b.Uniform(name, limit, dims...)
}

// Uniform creates (on first use) a variable drawn from U(-limit, limit).
func (b *Builder) Uniform(name string, limit float64, dims ...int) *graph.Node {
	return b.variable(name, uniform(b.rng(name), data.Elements(dims), limit), dims)
}

// Zeros creates (on first use) a zero variable, Keras' default for biases.
func (b *Builder) Zeros(name string, dims ...int) *graph.Node {
	return b.variable(name, make([]float32, data.Elements(dims)), dims)
}

func (b *Builder) variable(name string, data []float32, dims []int) *graph.Node {
	v := b.Scope.VariableWithValue(name, tensors.FromFlatDataAndDimensions(data, dims...))
	return v.NodeValue(b.Graph)
}

// StatePrefix begins the name of every variable that holds layer state
// (Keras' non-trainable weights: batch_normalization's moving_mean is
// /batch_normalization/state.moving_mean). The name, not the path, carries
// the mark: a variable's name is chosen by its layer's Go code, a scope's
// may come from the user. Checkpoints do not record which variables train,
// so the prefix is how a loaded checkpoint's state is known (IsState).
const StatePrefix = "state."

// IsState says whether the variable at path holds layer state, which the
// training step updates by assignment and never by gradient.
func IsState(path string) bool {
	return strings.HasPrefix(path[strings.LastIndex(path, "/")+1:], StatePrefix)
}

// State creates (on first use) the layer's state variable name (stored as
// StatePrefix+name), filled with init. It is never trainable, also when a
// checkpoint created it. Layers read it with NodeValue and, when
// b.Training, give it its value after the step with SetState.
func (b *Builder) State(name string, init float32, dims ...int) *model.Variable {
	vals := make([]float32, data.Elements(dims))
	for i := range vals {
		vals[i] = init
	}
	return b.state(name, vals, dims)
}

// StateWeight is State with the initial values drawn by the initializer
// component init, or by def when init is left out (its Kind is empty), as
// Weight draws them: Keras' moving_mean_initializer and the like.
func (b *Builder) StateWeight(name string, init spec.Component, def Initializer, dims ...int) *model.Variable {
	return b.state(name, b.initialValues(name, init, def, FansOf(dims), dims), dims)
}

func (b *Builder) state(name string, vals []float32, dims []int) *model.Variable {
	v := b.Scope.VariableWithValue(StatePrefix+name, tensors.FromFlatDataAndDimensions(vals, dims...))
	return v.SetTrainable(false)
}

// SetState gives state variable v the value it holds after this training
// step. Outside training it does nothing: evaluation and prediction only
// read state.
func (b *Builder) SetState(v *model.Variable, value *graph.Node) {
	switch {
	case !b.Training:
	case b.Updates != nil:
		b.Updates.add(v, value)
	default:
		v.SetNodeValue(value)
	}
}

// StateUpdates gathers the values that the parts of a batch give each state
// variable. With train.shards > 1 each part is normalised by its own
// statistics (as Keras' BatchNormalization on several replicas without
// synchronisation), and each state variable ends the step at the mean of
// its parts' values: for a moving average, the old value moved towards the
// mean of the parts' statistics, as tf.distribute aggregates the replicas'
// updates. A part never sees another's update.
type StateUpdates struct {
	vars   []*model.Variable
	values map[*model.Variable][]*graph.Node
}

func (u *StateUpdates) add(v *model.Variable, value *graph.Node) {
	if u.values == nil {
		u.values = map[*model.Variable][]*graph.Node{}
	}
	if _, ok := u.values[v]; !ok {
		u.vars = append(u.vars, v)
	}
	u.values[v] = append(u.values[v], value)
}

// Apply sets every gathered variable to the mean of its values. Call it
// once every part is built.
func (u *StateUpdates) Apply() {
	for _, v := range u.vars {
		vals := u.values[v]
		sum := vals[0]
		for _, x := range vals[1:] {
			sum = graph.Add(sum, x)
		}
		if len(vals) > 1 {
			sum = graph.MulScalar(sum, 1/float64(len(vals)))
		}
		v.SetNodeValue(sum)
	}
	u.vars, u.values = nil, nil
}

func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}
