package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

func TestFansOf(t *testing.T) {
	for _, c := range []struct {
		dims []int
		want Fans
	}{
		{[]int{784, 128}, Fans{784, 128}},                          // dense (in, out)
		{[]int{5, 5, 3, 8}, Fans{75, 200}},                         // conv2d (kh, kw, cin, cout)
		{[]int{3, 16, 32}, Fans{48, 96}},                           // conv1d (k, cin, cout)
		{[]int{10}, Fans{10, 10}},                                  // bias
		{[]int{32, 400}, Fans{32, 400}},                            // lstm kernel (features, 4 units)
		{nil, Fans{1, 1}},                                          // scalar
		{[]int{2, 3, 4, 5, 6}, Fans{2 * 3 * 4 * 5, 2 * 3 * 4 * 6}}, // conv3d
	} {
		if got := FansOf(c.dims); got != c.want {
			t.Errorf("FansOf(%v) = %v, want %v", c.dims, got, c.want)
		}
	}
}

// TestDefaultDrawsUnchanged: a layer that names no initializer draws
// exactly what pipe drew before initializers could be chosen (the
// formulas below are the old Builder code), so golden files stay put.
func TestDefaultDrawsUnchanged(t *testing.T) {
	b := &Builder{Seed: 1337, Index: 4}
	for _, f := range []Fans{{784, 128}, {75, 200}, {1, 1}, {3, 7}, {32, 400}} {
		dims := []int{f.In, f.Out}
		r := b.rng("kernel")
		limit := math.Sqrt(6 / float64(f.In+f.Out))
		want := make([]float32, f.In*f.Out)
		for i := range want {
			want[i] = float32((r.Float64()*2 - 1) * limit)
		}
		if got := b.initialValues("kernel", spec.Component{}, glorotUniform, f, dims); !slices.Equal(got, want) {
			t.Errorf("glorot_uniform %v differs from the old draw", f)
		}
		g, _ := Initializers.New("glorot_uniform")
		if got, _ := g.Values(b.rng("kernel"), f, dims); !slices.Equal(got, want) {
			t.Errorf("glorot_uniform by name %v differs from the old draw", f)
		}
	}
	// Embeddings: U(-0.05, 0.05) as Builder.Uniform drew it.
	r := b.rng("embeddings")
	want := make([]float32, 50*8)
	for i := range want {
		want[i] = float32((r.Float64()*2 - 1) * 0.05)
	}
	u, _ := Initializers.New("random_uniform")
	if got, _ := u.Values(b.rng("embeddings"), Fans{50, 8}, []int{50, 8}); !slices.Equal(got, want) {
		t.Error("random_uniform(-0.05, 0.05) differs from the old embedding draw")
	}
	o, _ := Initializers.New("orthogonal")
	if got, _ := o.Values(b.rng("recurrent_kernel"), Fans{}, []int{16, 64}); !slices.Equal(got, orthogonal(b.rng("recurrent_kernel"), 16, 64)) {
		t.Error("orthogonal(gain 1) differs from Builder.Orthogonal")
	}
}

// moments returns the mean, the variance and the largest |v - center|.
func sampleMoments(v []float32, center float64) (mean, variance, far float64) {
	for _, x := range v {
		mean += float64(x)
		far = max(far, math.Abs(float64(x)-center))
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, variance / float64(len(v)), far
}

// TestInitializerStatistics draws 240,000 values of a (400, 600) weight
// from each initializer and checks the mean, the variance (within 3%:
// the sampling error is about 0.3%) and the bounds that Keras' rules set.
func TestInitializerStatistics(t *testing.T) {
	const in, out = 400, 600
	dims := []int{in, out}
	cases := []struct {
		name       string
		params     Initializer // nil: the registered defaults
		mean, vari float64
		bound      float64 // largest |v - mean| allowed
	}{
		// uniform U(-l, l): variance l²/3.
		{"glorot_uniform", nil, 0, 2.0 / (in + out), math.Sqrt(6.0 / (in + out))},
		{"he_uniform", nil, 0, 2.0 / in, math.Sqrt(6.0 / in)},
		{"lecun_uniform", nil, 0, 1.0 / in, math.Sqrt(3.0 / in)},
		// truncated normals: the variance scale/fan, cut at 2 raw stddev.
		{"glorot_normal", nil, 0, 2.0 / (in + out), 2 * math.Sqrt(2.0/(in+out)) / truncatedStddev},
		{"he_normal", nil, 0, 2.0 / in, 2 * math.Sqrt(2.0/in) / truncatedStddev},
		{"lecun_normal", nil, 0, 1.0 / in, 2 * math.Sqrt(1.0/in) / truncatedStddev},
		{"variance_scaling", &VarianceScaling{Scale: 3, Mode: "fan_out", Distribution: "uniform"}, 0, 3.0 / out, math.Sqrt(9.0 / out)},
		{"variance_scaling", &VarianceScaling{Scale: 2, Mode: "fan_avg", Distribution: "untruncated_normal"}, 0, 4.0 / (in + out), math.Inf(1)},
		{"random_normal", nil, 0, 0.05 * 0.05, math.Inf(1)},
		{"random_normal", &RandomNormal{Mean: 1, Stddev: 2}, 1, 4, math.Inf(1)},
		{"random_uniform", nil, 0, 0.1 * 0.1 / 12, 0.05},
		{"random_uniform", &RandomUniform{Minval: 0, Maxval: 1}, 0.5, 1.0 / 12, 0.5},
		// A standard normal truncated at ±2 has stddev 0.8796.
		{"truncated_normal", nil, 0, math.Pow(0.05*truncatedStddev, 2), 0.1},
		{"truncated_normal", &TruncatedNormal{Mean: -1, Stddev: 0.5}, -1, math.Pow(0.5*truncatedStddev, 2), 1},
	}
	for i, c := range cases {
		init := c.params
		if init == nil {
			init, _ = Initializers.New(c.name)
		}
		v, err := init.Values(rand.New(rand.NewPCG(uint64(i), 9)), FansOf(dims), dims)
		if err != nil || len(v) != in*out {
			t.Fatalf("%s: %d values, %v", c.name, len(v), err)
		}
		mean, vari, far := sampleMoments(v, c.mean)
		sd := math.Sqrt(c.vari)
		if math.Abs(mean-c.mean) > 0.01*sd+1e-12 {
			t.Errorf("%s %+v: mean %v, want %v", c.name, c.params, mean, c.mean)
		}
		if math.Abs(vari/c.vari-1) > 0.03 {
			t.Errorf("%s %+v: variance %v, want %v", c.name, c.params, vari, c.vari)
		}
		if far > c.bound*(1+1e-6) {
			t.Errorf("%s %+v: a value %v from the mean, beyond %v", c.name, c.params, far, c.bound)
		}
		if c.bound < math.Inf(1) && far < 0.98*c.bound {
			t.Errorf("%s %+v: values reach only %v of %v", c.name, c.params, far, c.bound)
		}
	}
}

func TestConstantInitializers(t *testing.T) {
	for name, want := range map[string]float32{"zeros": 0, "ones": 1, "constant": 0} {
		init, _ := Initializers.New(name)
		v, _ := init.Values(nil, Fans{}, []int{2, 3})
		if len(v) != 6 || slices.ContainsFunc(v, func(x float32) bool { return x != want }) {
			t.Errorf("%s gave %v", name, v)
		}
	}
	v, _ := (&Constant{Value: 0.25}).Values(nil, Fans{}, []int{4})
	if !slices.Equal(v, []float32{0.25, 0.25, 0.25, 0.25}) {
		t.Errorf("constant 0.25 gave %v", v)
	}
}

// TestOrthogonalAndIdentity: Q Qᵀ (rows fewer) or Qᵀ Q (columns fewer)
// is gain² times the identity; a conv kernel is taken as (kh*kw*cin, cout).
func TestOrthogonalAndIdentity(t *testing.T) {
	for _, c := range []struct {
		dims []int
		gain float64
	}{{[]int{30, 50}, 1}, {[]int{50, 30}, 2}, {[]int{3, 3, 4, 8}, 1}, {[]int{8, 8}, 0.5}} {
		v, err := (&Orthogonal{Gain: c.gain}).Values(rand.New(rand.NewPCG(1, 2)), FansOf(c.dims), c.dims)
		if err != nil {
			t.Fatal(err)
		}
		cols := c.dims[len(c.dims)-1]
		rows := len(v) / cols
		// Gram matrix of the fewer vectors.
		n, m := rows, cols // vectors are rows when rows are fewer
		at := func(i, k int) float64 { return float64(v[i*cols+k]) }
		if rows > cols {
			n, m = cols, rows
			at = func(i, k int) float64 { return float64(v[k*cols+i]) }
		}
		for i := range n {
			for j := range n {
				dot := 0.0
				for k := range m {
					dot += at(i, k) * at(j, k)
				}
				want := 0.0
				if i == j {
					want = c.gain * c.gain
				}
				if math.Abs(dot-want) > 1e-5 {
					t.Fatalf("orthogonal %v gain %v: vectors %d, %d have dot %v, want %v", c.dims, c.gain, i, j, dot, want)
				}
			}
		}
	}
	if _, err := (&Orthogonal{Gain: 1}).Values(rand.New(rand.NewPCG(1, 2)), Fans{4, 4}, []int{4}); err == nil {
		t.Error("orthogonal accepted a vector")
	}

	v, err := (&Identity{Gain: 2}).Values(nil, Fans{}, []int{3, 4})
	if err != nil || !slices.Equal(v, []float32{2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0}) {
		t.Errorf("identity (3, 4) gain 2: %v, %v", v, err)
	}
	if _, err := (&Identity{Gain: 1}).Values(nil, Fans{}, []int{3, 3, 2, 2}); err == nil || !strings.Contains(err.Error(), "two axes") {
		t.Errorf("identity on a conv kernel: %v", err)
	}
}

// TestInitializerValidate: Validate of the params, run when a layer stack
// is compiled.
func TestInitializerValidate(t *testing.T) {
	bad := spec.Component{Kind: "random_uniform", Config: &RandomUniform{Minval: 1, Maxval: 0}}
	l := &Dense{Units: 2, Activation: "linear", Weights: Weights{KernelInitializer: bad}}
	_, errs := Graph([]int{3}, []spec.ModelLayer{{Component: spec.Component{Kind: "dense", Config: l, Path: "model.layers[0]"}, Name: "dense", Inputs: []string{spec.InputName}}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "kernel_initializer: random_uniform: minval 1 is above maxval 0") || errs[0].Path != "model.layers[0]" {
		t.Errorf("errors %v", errs)
	}
	both := &Dense{Units: 2, L2: 0.1, Weights: Weights{KernelRegularizer: spec.Component{Kind: "l2", Config: &L2{L2: 0.1}}}}
	if _, errs := Graph([]int{3}, []spec.ModelLayer{{Component: spec.Component{Kind: "dense", Config: both}, Name: "dense", Inputs: []string{spec.InputName}}}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "give one of them") {
		t.Errorf("l2 with kernel_regularizer: %v", errs)
	}
}
