package onnx

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/pipeline"
)

// The graph's input and output names.
const (
	inputName  = "x"
	outputName = "y"
	batchDim   = "N" // the dynamic batch axis
)

// tensor is a value of the graph as the next layer sees it.
type tensor struct {
	name  string
	shape []int // one example's shape, in pipe's channels-last order
	dtype data.DType
	// channelsFirst: the value is stored [N, C, spatial...] for a pipe
	// shape (spatial..., C), ONNX's layout for Conv and MaxPool. It is
	// kept across layers that do not care (activations, pooling), so that
	// a stack of convolutions transposes once at each end.
	channelsFirst bool
}

// mapping adds the ONNX nodes of one stage to the graph and returns its output.
type mapping func(b *stackBuilder, st ops.Stage, x tensor) (tensor, error)

// mergeMapping is the mapping of a layer that reads several values.
type mergeMapping func(b *stackBuilder, st ops.Stage, xs []tensor) (tensor, error)

// mappings and merges are the layers pipe can export, by registered name;
// each mapping file adds its own in init(). notExportable are the layers
// that cannot be, with the reason an export error gives. A test fails for
// a registered layer in none, and for a mapping without a runtime test.
var (
	mappings      = map[string]mapping{}
	merges        = map[string]mergeMapping{}
	notExportable = map[string]string{}
)

// stackBuilder builds the graph of a layer stack with its trained weights.
type stackBuilder struct {
	*graphBuilder
	plan    *pipeline.Plan
	weights *model.Store
}

// weight returns the values and shape of the variable name of stage st,
// which must have the shape want that the layer's config and input give:
// a checkpoint that does not fit its spec is an error, not a graph that
// reads past its weights.
func (b *stackBuilder) weight(st ops.Stage, name string, want ...int) ([]float32, []int, error) {
	owner := st.Name
	if st.Shares != "" { // a shared layer's weights live under the layer it shares
		owner = st.Shares
	}
	path := "/" + owner + "/" + name
	v := b.weights.GetVariable(path)
	if v == nil {
		return nil, nil, fmt.Errorf("the checkpoint has no variable %s", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if got := t.Shape().Dimensions; !slices.Equal(got, want) {
		return nil, nil, fmt.Errorf("the checkpoint's %s has shape %v, the spec gives %v", path, got, want)
	}
	vals, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return vals, t.Shape().Dimensions, nil
}

// modelInputs are the model's inputs on the preprocessed examples x: x
// itself, or for each of model.inputs its columns of x's last axis, as
// pipe slices them.
func (b *stackBuilder) modelInputs(x tensor) []tensor {
	var out []tensor
	for _, in := range b.plan.Inputs {
		if in.To == 0 {
			out = append(out, x)
			continue
		}
		v := x
		v.name = b.op("Slice", in.Name, []string{x.name, b.axes(in.Name+"/starts", in.From), b.axes(in.Name+"/ends", in.To), b.axes(in.Name+"/axes", -1)})
		v.shape = in.Shape
		out = append(out, v)
	}
	return out
}

// channelsFirst moves the channels of an image or sequence to axis 1.
func (b *stackBuilder) channelsFirst(x tensor, name string) tensor {
	if x.channelsFirst || len(x.shape) < 2 {
		return x
	}
	r := len(x.shape)
	perm := []int{0, r} // [N, spatial..., C] -> [N, C, spatial...]
	for i := 1; i < r; i++ {
		perm = append(perm, i)
	}
	x.name = b.op("Transpose", name, []string{x.name}, ints("perm", perm...))
	x.channelsFirst = true
	return x
}

// channelsLast undoes channelsFirst: pipe's (and Keras') order, which
// flatten and dense must see.
func (b *stackBuilder) channelsLast(x tensor, name string) tensor {
	if !x.channelsFirst {
		return x
	}
	r := len(x.shape)
	perm := []int{0} // [N, C, spatial...] -> [N, spatial..., C]
	for i := 2; i <= r; i++ {
		perm = append(perm, i)
	}
	perm = append(perm, 1)
	x.name = b.op("Transpose", name, []string{x.name}, ints("perm", perm...))
	x.channelsFirst = false
	return x
}

// activation applies a named activation as pipe's ops do (ops'
// activations); softmax is over the channels, the last axis in pipe's
// order.
func (b *stackBuilder) activation(x tensor, name, fn string) (tensor, error) {
	one := func(op string, attrs ...attr) string { return b.op(op, name, []string{x.name}, attrs...) }
	switch fn {
	case "", "linear":
	case "relu", "sigmoid", "tanh", "softplus", "softsign":
		x.name = one(map[string]string{"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "softsign": "Softsign"}[fn])
	case "exponential":
		x.name = one("Exp")
	case "softmax":
		axis := -1
		if x.channelsFirst {
			axis = 1
		}
		x.name = one("Softmax", int1("axis", axis))
	case "leaky_relu":
		x.name = one("LeakyRelu", float1("alpha", 0.2))
	case "elu":
		x.name = one("Elu", float1("alpha", 1))
	case "selu": // ONNX's default alpha and gamma are Keras' constants
		x.name = one("Selu")
	case "gelu": // the exact form: x * (1 + erf(x / sqrt 2)) / 2
		erf := b.op("Erf", name, []string{b.op("Mul", name, []string{x.name, b.scalar(name+"/rsqrt2", float32(1/math.Sqrt2))})})
		half := b.op("Mul", name, []string{b.op("Add", name, []string{erf, b.scalar(name+"/one", 1)}), b.scalar(name+"/half", 0.5)})
		x.name = b.op("Mul", name, []string{x.name, half})
	case "swish", "silu":
		x.name = b.op("Mul", name, []string{x.name, one("Sigmoid")})
	case "hard_sigmoid": // Keras 3's: relu6(x + 3) / 6
		x.name = one("HardSigmoid", float1("alpha", 1.0/6), float1("beta", 0.5))
	case "relu6":
		x.name = b.op("Clip", name, []string{x.name, b.scalar(name+"/min", 0), b.scalar(name+"/max", 6)})
	default:
		return x, fmt.Errorf("activation %q has no ONNX mapping", fn)
	}
	return x, nil
}

// outputNames are the graph's output names, one per model output: y, or
// y_<layer> for each of several.
func outputNames(plan *pipeline.Plan) []string {
	if len(plan.Heads) == 1 {
		return []string{outputName}
	}
	var out []string
	for _, h := range plan.Heads {
		out = append(out, outputName+"_"+plan.Stages[h.Stage].Name)
	}
	return out
}

// exportable says whether stage st can be exported: an error at the
// layer's spec position when it cannot.
func exportable(plan *pipeline.Plan, st ops.Stage) error {
	if reason, ok := notExportable[st.Kind]; ok {
		return plan.Errorf(st.SpecPath, "layer %s (%s) cannot be exported to ONNX: %s", st.Name, st.Kind, reason)
	}
	maskZero := false
	switch l := st.Layer.(type) {
	case *ops.Embedding:
		maskZero = l.MaskZero
	case *ops.TokenAndPositionEmbedding:
		maskZero = l.MaskZero
	}
	if maskZero {
		// The layers after it would read every step: the graph would
		// give other outputs than the model's.
		return plan.Errorf(st.SpecPath, "layer %s (%s) cannot be exported to ONNX: mask_zero's mask is not carried into the graph", st.Name, st.Kind)
	}
	if _, ok := mappings[st.Kind]; !ok && merges[st.Kind] == nil {
		return plan.Errorf(st.SpecPath, "layer %s (%s) has no ONNX mapping; pipe export maps %s", st.Name, st.Kind, strings.Join(Mapped(), ", "))
	}
	return nil
}

// Mapped lists the layers that have an ONNX mapping.
func Mapped() []string {
	var out []string
	for k := range mappings {
		out = append(out, k)
	}
	for k := range merges {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Stack returns the ONNX model of plan's layers with the variables of
// weights (a run's checkpoint, or a Model's store): a stack, or a graph
// (residual connections, merges, shared layers, several inputs or
// outputs). The graph takes the loader's raw examples, "x" [N, ...], and
// applies the spec's input transforms itself; its output "y" [N, ...] is
// what pipe's Outputs gives, or with several outputs "y_<layer>" each.
func Stack(plan *pipeline.Plan, weights *model.Store, meta Meta) (*onnxpb.ModelProto, error) {
	if plan.Recommender != nil {
		return nil, fmt.Errorf("%s is a rating model (%s), not a layer stack", plan.Name, plan.ModelName)
	}
	for _, st := range plan.Stages {
		if err := exportable(plan, st); err != nil {
			return nil, &UnsupportedError{err}
		}
	}
	b := &stackBuilder{graphBuilder: newGraphBuilder(plan.Name), plan: plan, weights: weights}
	outNames := outputNames(plan)
	b.names[inputName] = 1
	for _, name := range outNames {
		b.names[name] = 1
	}
	in, x, pre, err := b.input()
	if err != nil {
		return nil, err
	}
	if !slices.Equal(x.shape, plan.Input) {
		return nil, fmt.Errorf("the preprocessed input has shape %v, the model's input is %v", x.shape, plan.Input)
	}
	// values are what stages read by Stage.From: the model's inputs, then
	// each stage's output, in the plan's order (each stage after its inputs).
	values := b.modelInputs(x)
	for _, st := range plan.Stages {
		xs := make([]tensor, len(st.From))
		for i, f := range st.From {
			xs[i] = values[f]
		}
		if merge := merges[st.Kind]; merge != nil {
			x, err = merge(b, st, xs)
		} else {
			x, err = mappings[st.Kind](b, st, xs[0])
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s (%s): %w", st.Name, st.Kind, err)
		}
		values = append(values, x)
	}
	b.g.Input = []*onnxpb.ValueInfoProto{in}
	var docs []string
	for i, h := range plan.Heads {
		head := plan.Stages[h.Stage]
		x = b.channelsLast(values[len(plan.Inputs)+h.Stage], "output")
		b.identity(x.name, outNames[i])
		dims := []any{batchDim}
		for _, d := range head.Out {
			dims = append(dims, d)
		}
		doc := fmt.Sprintf("the output of layer %s (%s), one row per example", head.Name, head.Kind)
		b.g.Output = append(b.g.Output, valueInfo(outNames[i], doc, onnxpb.TensorProto_FLOAT, dims...))
		if len(plan.Heads) > 1 {
			doc = outNames[i] + ": " + doc
		}
		docs = append(docs, doc)
	}
	outDoc := strings.Join(docs, "; ")

	props := [][2]string{
		{"pipe.spec", plan.Name},
		{"pipe.loader", plan.LoaderName},
		{"pipe.input", in.GetDocString()},
		{"pipe.preprocessing", pre},
		{"pipe.output", outDoc},
	}
	if meta.ClassNames != nil {
		props = append(props, [2]string{"pipe.class_names", jsonList(meta.ClassNames)})
	}
	if meta.VectorIDs != nil {
		props = append(props, [2]string{"pipe." + meta.VectorOf + "_ids", jsonList(meta.VectorIDs)})
	}
	if meta.UserIDs != nil {
		props = append(props, [2]string{"pipe.user_ids", jsonList(meta.UserIDs)}, [2]string{"pipe.item_ids", jsonList(meta.ItemIDs)})
	}
	var layers []string
	for _, st := range plan.Stages {
		layers = append(layers, st.Name)
	}
	doc := fmt.Sprintf("pipe model %s: %s on %s examples; layers %s.", plan.Name, pre, plan.LoaderName, strings.Join(layers, ", "))
	return newModel(b.g, doc, props), nil
}
