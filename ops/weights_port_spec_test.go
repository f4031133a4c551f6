package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	_ "github.com/pipe-ml/pipe/loaders" // the loader registry, which spec decoding needs
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/spec"
)

// layerSpec is a spec of one layer on an input of shape %s.
const layerSpec = `
name: port
data: {loader: mnist}
model:
  input: {shape: %s}
  layers:
    - %s
`

// specLayer decodes the layer given in YAML's flow style through a spec,
// compiles it on input shape in (which runs its Validate) and returns it.
func specLayer(t *testing.T, in []int, layer string) ops.Layer {
	t.Helper()
	s, err := spec.Parse("port.yaml", []byte(fmt.Sprintf(layerSpec, strings.ReplaceAll(fmt.Sprint(in), " ", ", "), layer)))
	if err != nil {
		t.Fatalf("%s: %v", layer, err)
	}
	stages, errs := ops.Graph(s.Model.Input.Shape, s.Model.Layers)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", layer, errs)
	}
	return stages[0].Layer
}

// input is a batch of 2 random examples of shape in.
func input(in []int) *tensors.Tensor {
	r := rand.New(rand.NewPCG(1, 2))
	dims := append([]int{2}, in...)
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

func sum(v []float32, f func(float64) float64) (s float64) {
	for _, x := range v {
		s += f(float64(x))
	}
	return s
}

func sq(x float64) float64 { return x * x }

func all(v []float32, want float32) bool {
	return len(v) > 0 && !slices.ContainsFunc(v, func(x float32) bool { return x != want })
}

// TestMNISTIRNNSpec: the simple_rnn of Keras' mnist_irnn example, an
// identity recurrent kernel and a N(0, 0.001²) kernel.
func TestMNISTIRNNSpec(t *testing.T) {
	in := []int{28, 28}
	l := specLayer(t, in, "simple_rnn: {units: 100, activation: relu, kernel_initializer: {random_normal: {stddev: 0.001}}, recurrent_initializer: {identity: {gain: 1.0}}}")
	p, vars := ops.LayerPenalty(t, l, input(in))
	rec := vars["recurrent_kernel"]
	if len(rec) != 100*100 {
		t.Fatalf("recurrent kernel of %d values", len(rec))
	}
	for i, x := range rec {
		if want := float32(0); i/100 == i%100 && x != 1 || i/100 != i%100 && x != want {
			t.Fatalf("recurrent kernel [%d, %d] = %v: not the identity", i/100, i%100, x)
		}
	}
	k := vars["kernel"]
	if sd := math.Sqrt(sum(k, sq) / float64(len(k))); len(k) != 28*100 || math.Abs(sd-0.001) > 0.0001 {
		t.Errorf("kernel of %d values, stddev %v; want 2800, 0.001", len(k), sd)
	}
	if !all(vars["bias"], 0) || p != 0 {
		t.Errorf("bias %v, penalty %v: want zeros, none", vars["bias"], p)
	}
}

// TestPortedLayersSpec: each ported layer takes its initializer and
// regularizer params, with Keras' names, from a spec, and adds the
// penalties.
func TestPortedLayersSpec(t *testing.T) {
	abs := math.Abs
	for _, c := range []struct {
		in    []int
		layer string
		check func(vars map[string][]float32) (penalty float64, ok bool)
	}{
		{[]int{4, 3}, "gru: {units: 3, kernel_initializer: he_uniform, recurrent_initializer: {orthogonal: {gain: 2}}, bias_initializer: ones, " +
			"kernel_regularizer: {l2: 0.01}, recurrent_regularizer: {l1: 0.001}, bias_regularizer: {l1_l2: {l1: 0.1, l2: 0.2}}}",
			func(v map[string][]float32) (float64, bool) {
				// he_uniform: |k| <= sqrt(6 / 3); orthogonal gain 2: rows of norm 2.
				ok := len(v["bias"]) == 18 && all(v["bias"], 1) && !slices.ContainsFunc(v["kernel"], func(x float32) bool { return abs(float64(x)) > math.Sqrt(2) })
				if n := sum(v["recurrent_kernel"][:9], sq); abs(n-4) > 1e-4 {
					ok = false
				}
				return 0.01*sum(v["kernel"], sq) + 0.001*sum(v["recurrent_kernel"], abs) + 0.1*18 + 0.2*18, ok
			}},
		{[]int{4, 3}, "simple_rnn: {units: 2, recurrent_initializer: {identity: {gain: 0.5}}, recurrent_regularizer: {l2: 1}, bias_initializer: {constant: 0.1}}",
			func(v map[string][]float32) (float64, bool) {
				return 0.5, slices.Equal(v["recurrent_kernel"], []float32{0.5, 0, 0, 0.5}) && all(v["bias"], 0.1)
			}},
		{[]int{4, 3}, "bidirectional: {layer: {gru: {units: 2, reset_after: false, recurrent_initializer: zeros, recurrent_regularizer: {l1: 1}}}}",
			func(v map[string][]float32) (float64, bool) { return 0, true }},
		{[]int{5, 5, 2}, "conv2d_transpose: {filters: 3, kernel: 2, strides: 2, activation: elu, kernel_initializer: {constant: 0.5}, kernel_regularizer: {l2: 1}, " +
			"bias_initializer: {constant: -1}, bias_regularizer: {l1: 2}}",
			func(v map[string][]float32) (float64, bool) {
				return 0.25*2*2*3*2 + 2*3, all(v["kernel"], 0.5) && len(v["kernel"]) == 24 && all(v["bias"], -1)
			}},
		{[]int{5, 5, 2}, "depthwise_conv2d: {kernel: 3, depth_multiplier: 2, activation: gelu, depthwise_initializer: he_normal, depthwise_regularizer: {l2: 0.5}, " +
			"bias_initializer: ones, bias_regularizer: {l1: 1}}",
			func(v map[string][]float32) (float64, bool) {
				return 0.5*sum(v["kernel"], sq) + 4, len(v["kernel"]) == 36 && !all(v["kernel"], 0) && all(v["bias"], 1)
			}},
		{[]int{5, 5, 2}, "separable_conv2d: {filters: 4, kernel: 3, activation: swish, depthwise_initializer: {constant: 0.5}, depthwise_regularizer: {l1: 1}, " +
			"pointwise_initializer: {constant: 2}, pointwise_regularizer: {l2: 0.1}, bias_initializer: {constant: 0.25}, bias_regularizer: {l2: 1}}",
			func(v map[string][]float32) (float64, bool) {
				return 0.5*18 + 0.1*4*8 + 0.0625*4, all(v["depthwise_kernel"], 0.5) && all(v["pointwise_kernel"], 2) && len(v["pointwise_kernel"]) == 8 && all(v["bias"], 0.25)
			}},
		{[]int{5, 5, 2}, "batch_normalization: {gamma_initializer: {constant: 2}, beta_initializer: ones, gamma_regularizer: {l2: 1}, beta_regularizer: {l1: 1}, " +
			"moving_mean_initializer: {constant: 0.5}, moving_variance_initializer: {constant: 3}}",
			func(v map[string][]float32) (float64, bool) {
				// Trained one step: moving = initial*0.99 + batch*0.01.
				mm, mv := v[ops.StatePrefix+"moving_mean"], v[ops.StatePrefix+"moving_variance"]
				ok := len(mm) == 2 && len(mv) == 2 && abs(float64(mm[0])-0.5*0.99) < 0.01 && abs(float64(mv[0])-3*0.99) < 0.01
				return 4*2 + 2, ok && all(v["gamma"], 2) && all(v["beta"], 1)
			}},
		{[]int{5, 5, 2}, "layer_normalization: {gamma_initializer: zeros, beta_initializer: {constant: -2}, gamma_regularizer: {l1: 1}, beta_regularizer: {l2: 1}}",
			func(v map[string][]float32) (float64, bool) { return 4 * 2, all(v["gamma"], 0) && all(v["beta"], -2) }},
	} {
		l := specLayer(t, c.in, c.layer)
		p, vars := ops.LayerPenalty(t, l, input(c.in))
		want, ok := c.check(vars)
		if !ok {
			t.Errorf("%s: weights not drawn as chosen: %v", c.layer, vars)
		}
		if abs(p-want) > 1e-5*max(1, abs(want)) {
			t.Errorf("%s: penalty %v, want %v", c.layer, p, want)
		}
	}
}

// TestPortedLayersSpecErrors: Keras' names only (depthwise_conv2d has no
// kernel_initializer), recurrent activations keep their short list, and a
// bad initializer param is positioned at the layer.
func TestPortedLayersSpecErrors(t *testing.T) {
	for _, c := range []struct{ layer, want string }{
		{"depthwise_conv2d: {kernel: 3, kernel_initializer: ones}", `unknown field "kernel_initializer"`},
		{"separable_conv2d: {filters: 2, kernel: 3, kernel_regularizer: {l2: 1}}", `unknown field "kernel_regularizer"`},
		{"simple_rnn: {units: 2, activation: gelu}", "activation"},
		{"gru: {units: 2, recurrent_initializer: {random_uniform: {minval: 1, maxval: 0}}}", "recurrent_initializer: random_uniform: minval 1 is above maxval 0"},
		{"batch_normalization: {gamma_regularizer: {l2: -1}}", "gamma_regularizer"},
	} {
		src := fmt.Sprintf(layerSpec, "[5, 5, 2]", c.layer)
		s, err := spec.Parse("port.yaml", []byte(src))
		if err == nil {
			var errs spec.ErrorList
			_, errs = ops.Graph(s.Model.Input.Shape, s.Model.Layers)
			if len(errs) > 0 {
				err = errs
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.layer, err, c.want)
		}
	}
}
