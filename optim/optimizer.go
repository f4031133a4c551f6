// Package optim holds the optimizers and learning-rate schedules, each
// registered by its YAML name with tf.keras' update rules and defaults.
package optim

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/spec"
)

// Optimizers is the optimizer registry. pipe implements the update rules
// itself, with tf.keras' formulas and defaults, because GoMLX ships neither
// Adadelta nor SGD with momentum, and its RMSProp differs from Keras'.
var Optimizers = spec.NewRegistry[Optimizer]("optimizer")

func init() {
	Optimizers.Register("sgd", "Stochastic gradient descent, optionally with (Nesterov) momentum.",
		func() Optimizer { return &SGD{LearningRate: 0.01} })
	Optimizers.Register("adam", "Adam (Kingma & Ba 2015).",
		func() Optimizer { return &Adam{LearningRate: 0.001, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7} })
	Optimizers.Register("rmsprop", "RMSprop (Hinton), Keras' variant without centring.",
		func() Optimizer { return &RMSprop{LearningRate: 0.001, Rho: 0.9, Epsilon: 1e-7} })
	Optimizers.Register("adadelta", "Adadelta (Zeiler 2012). Keras before 2.3 used learning_rate 1.0, the paper's algorithm; tf.keras uses 0.001.",
		func() Optimizer { return &Adadelta{LearningRate: 0.001, Rho: 0.95, Epsilon: 1e-7} })
}

// Optimizer computes a variable's new value from its gradient.
type Optimizer interface {
	// Update returns the new value of v. slot creates (on first use) a zero
	// state variable of v's shape; step is the 1-based step number; scale
	// multiplies the learning rate (the learning-rate schedule's factor).
	Update(v, grad *graph.Node, slot func(name string) *model.Variable, step, scale *graph.Node) *graph.Node
}

// rate is the scheduled learning rate: the configured one times scale.
func rate(lr float64, scale *graph.Node) *graph.Node { return graph.MulScalar(scale, lr) }

// SGD: velocity = momentum*velocity - lr*grad; w += velocity (Nesterov:
// w += momentum*velocity - lr*grad).
type SGD struct {
	LearningRate float64 `pipe:"learning_rate,min=0" doc:"step size"`
	Momentum     float64 `pipe:"momentum,min=0,max=1" doc:"momentum factor; 0 for plain SGD"`
	Nesterov     bool    `pipe:"nesterov" doc:"use Nesterov momentum"`
}

func (o *SGD) Update(v, grad *graph.Node, slot func(string) *model.Variable, _, scale *graph.Node) *graph.Node {
	step := graph.Neg(graph.Mul(grad, rate(o.LearningRate, scale)))
	if o.Momentum == 0 {
		return graph.Add(v, step)
	}
	velVar := slot("velocity")
	vel := graph.Add(graph.MulScalar(velVar.NodeValue(v.Graph()), o.Momentum), step)
	velVar.SetNodeValue(vel)
	if o.Nesterov {
		return graph.Add(v, graph.Add(graph.MulScalar(vel, o.Momentum), step))
	}
	return graph.Add(v, vel)
}

// Adam with bias correction folded into the step size, as tf.keras does.
type Adam struct {
	LearningRate float64 `pipe:"learning_rate,min=0" doc:"step size"`
	Beta1        float64 `pipe:"beta_1,min=0,max=1" doc:"decay of the first-moment estimate"`
	Beta2        float64 `pipe:"beta_2,min=0,max=1" doc:"decay of the second-moment estimate"`
	Epsilon      float64 `pipe:"epsilon,min=0" doc:"added to the denominator for stability"`
}

func (o *Adam) Update(v, grad *graph.Node, slot func(string) *model.Variable, step, scale *graph.Node) *graph.Node {
	g := v.Graph()
	mVar, vVar := slot("m"), slot("v")
	m := graph.Add(graph.MulScalar(mVar.NodeValue(g), o.Beta1), graph.MulScalar(grad, 1-o.Beta1))
	s := graph.Add(graph.MulScalar(vVar.NodeValue(g), o.Beta2), graph.MulScalar(graph.Square(grad), 1-o.Beta2))
	mVar.SetNodeValue(m)
	vVar.SetNodeValue(s)
	pow := func(beta float64) *graph.Node { return graph.Pow(graph.Scalar(g, step.DType(), beta), step) }
	lr := graph.Mul(graph.Div(graph.Sqrt(graph.OneMinus(pow(o.Beta2))), graph.OneMinus(pow(o.Beta1))), rate(o.LearningRate, scale))
	return graph.Sub(v, graph.Mul(lr, graph.Div(m, graph.AddScalar(graph.Sqrt(s), o.Epsilon))))
}

// RMSprop: a = rho*a + (1-rho)*grad²; w -= lr*grad/(sqrt(a)+eps).
type RMSprop struct {
	LearningRate float64 `pipe:"learning_rate,min=0" doc:"step size"`
	Rho          float64 `pipe:"rho,min=0,max=1" doc:"decay of the squared-gradient average"`
	Epsilon      float64 `pipe:"epsilon,min=0" doc:"added to the denominator for stability"`
}

func (o *RMSprop) Update(v, grad *graph.Node, slot func(string) *model.Variable, _, scale *graph.Node) *graph.Node {
	aVar := slot("rms")
	a := graph.Add(graph.MulScalar(aVar.NodeValue(v.Graph()), o.Rho), graph.MulScalar(graph.Square(grad), 1-o.Rho))
	aVar.SetNodeValue(a)
	return graph.Sub(v, graph.Mul(graph.Div(grad, graph.AddScalar(graph.Sqrt(a), o.Epsilon)), rate(o.LearningRate, scale)))
}

// Adadelta: a = rho*a + (1-rho)*grad²; d = sqrt(D+eps)/sqrt(a+eps)*grad;
// D = rho*D + (1-rho)*d²; w -= lr*d.
type Adadelta struct {
	LearningRate float64 `pipe:"learning_rate,min=0" doc:"step size; 1.0 is the paper's algorithm"`
	Rho          float64 `pipe:"rho,min=0,max=1" doc:"decay of the running averages"`
	Epsilon      float64 `pipe:"epsilon,min=0" doc:"added inside the square roots for stability"`
}

func (o *Adadelta) Update(v, grad *graph.Node, slot func(string) *model.Variable, _, scale *graph.Node) *graph.Node {
	g := v.Graph()
	aVar, dVar := slot("accum_grad"), slot("accum_delta")
	a := graph.Add(graph.MulScalar(aVar.NodeValue(g), o.Rho), graph.MulScalar(graph.Square(grad), 1-o.Rho))
	dOld := dVar.NodeValue(g)
	d := graph.Mul(graph.Div(graph.Sqrt(graph.AddScalar(dOld, o.Epsilon)), graph.Sqrt(graph.AddScalar(a, o.Epsilon))), grad)
	aVar.SetNodeValue(a)
	dVar.SetNodeValue(graph.Add(graph.MulScalar(dOld, o.Rho), graph.MulScalar(graph.Square(d), 1-o.Rho)))
	return graph.Sub(v, graph.Mul(d, rate(o.LearningRate, scale)))
}

// Slot returns the slot constructor for variable v: zero state variables
// under /optimizer/<v's path>, excluded from training.
func Slot(store *model.Store, v *model.Variable) func(string) *model.Variable {
	return func(name string) *model.Variable {
		s := store.Scope("/optimizer" + v.Scope())
		if existing := s.GetVariable(v.Name() + "_" + name); existing != nil {
			return existing
		}
		zero := tensors.FromShape(v.Shape())
		return s.VariableWithValue(v.Name()+"_"+name, zero).SetTrainable(false)
	}
}
