package ops

import (
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/data"
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

func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}
