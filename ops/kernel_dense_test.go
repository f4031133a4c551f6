package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/spec"
)

// TestKernelDenseShapeAndParams: GLocal-K's ML-100K item autoencoder,
// 943 users -> 500 -> 500 -> 943, with 5-dimensional points: each layer
// has in*units + (in+units)*5 + units parameters.
func TestKernelDenseShapeAndParams(t *testing.T) {
	l := &KernelDense{Units: 500, Dim: 5, UseBias: true}
	if out, err := l.OutputShape([]int{943}); err != nil || !slices.Equal(out, []int{500}) {
		t.Fatalf("OutputShape = %v, %v; want [500]", out, err)
	}
	if out, err := l.OutputShape([]int{1682, 943}); err != nil || !slices.Equal(out, []int{1682, 500}) {
		t.Fatalf("OutputShape of a matrix = %v, %v; want [1682 500]", out, err)
	}
	for _, c := range []struct{ in, units, want int }{
		{943, 500, 943*500 + (943+500)*5 + 500}, // 479,215
		{500, 500, 500*500 + (500+500)*5 + 500}, // 255,500
		{500, 943, 500*943 + (500+943)*5 + 943}, // 479,658
	} {
		l := &KernelDense{Units: c.units, Dim: 5, UseBias: true}
		if n := l.Params([]int{1682, c.in}); n != c.want {
			t.Errorf("Params(%d -> %d) = %d, want %d", c.in, c.units, n, c.want)
		}
	}
	l.UseBias = false
	if n := l.Params([]int{943}); n != 943*500+(943+500)*5 {
		t.Errorf("Params without bias = %d", n)
	}
}

// kernelDenseRef is the layer in float64: activation sigmoid when sig.
func kernelDenseRef(x []float64, rows, in int, kernel, u, v, bias []float64, units, dim int, sig bool) []float64 {
	y := make([]float64, rows*units)
	for r := range rows {
		for j := range units {
			s := bias[j]
			for i := range in {
				d := 0.0
				for k := range dim {
					e := u[i*dim+k] - v[j*dim+k]
					d += e * e
				}
				s += x[r*in+i] * kernel[i*units+j] * math.Max(0, 1-d)
			}
			if sig {
				s = 1 / (1 + math.Exp(-s))
			}
			y[r*units+j] = s
		}
	}
	return y
}

// TestKernelDenseMatchesReference checks the output and the gradients
// with respect to the input, kernel, points and bias against central
// finite differences of a float64 reference, with points spread so that
// some pairs lie beyond the kernel's support (k = 0, no gradient).
func TestKernelDenseMatchesReference(t *testing.T) {
	const rows, in, units, dim = 3, 4, 5, 2
	r := rand.New(rand.NewPCG(7, 8))
	x := randomF32(r, rows*in, 1)
	rw := randomF32(r, rows*units, 1)
	l := &KernelDense{Units: units, Dim: dim, Activation: "sigmoid", UseBias: true,
		PointInitializer: mustComponent(t, "random_uniform", &RandomUniform{Minval: -0.6, Maxval: 0.6}),
		Weights:          Weights{BiasInitializer: mustComponent(t, "random_uniform", &RandomUniform{Minval: -0.5, Maxval: 0.5})}}
	vars := []string{"kernel", "u", "v", "bias"}
	out, store := layerGrads(t, l, "kd", 3, tensors.FromFlatDataAndDimensions(x, rows, in), tensors.FromFlatDataAndDimensions(rw, rows, units), true, vars...)
	w := map[string][]float64{}
	for _, name := range vars {
		w[name] = toF64(tensors.MustCopyFlatData[float32](store.RootScope().In("kd").GetVariable(name).MustValue()))
	}
	zero := 0
	for i := range in {
		for j := range units {
			d := 0.0
			for k := range dim {
				e := w["u"][i*dim+k] - w["v"][j*dim+k]
				d += e * e
			}
			if d >= 1 {
				zero++
			}
		}
	}
	if zero == 0 || zero == in*units {
		t.Fatalf("%d of %d kernel entries are 0: the test should see both sides of the support", zero, in*units)
	}
	xf := toF64(x)
	forward := func() []float64 {
		return kernelDenseRef(xf, rows, in, w["kernel"], w["u"], w["v"], w["bias"], units, dim, true)
	}
	if d, i := maxDiff(tensors.MustCopyFlatData[float32](out[0]), forward()); d > 1e-5 {
		t.Fatalf("output %d differs from the reference by %g", i, d)
	}
	loss := func() float64 {
		s := 0.0
		for i, y := range forward() {
			s += y * float64(rw[i])
		}
		return s
	}
	for k, p := range [][]float64{w["kernel"], w["u"], w["v"], w["bias"], xf} {
		name := append(vars, "x")[k]
		numeric := finiteDiff(p, loss)
		if d, i := maxDiff(tensors.MustCopyFlatData[float32](out[k+1]), numeric); d > 1e-4 {
			t.Errorf("d%s[%d] = %v, finite differences %v", name, i, tensors.MustCopyFlatData[float32](out[k+1])[i], numeric[i])
		}
	}
}

// TestKernelDensePenalties: l2 on the kernel and kernel_l2 on the local
// kernel add l2 * sum(kernel²) + kernel_l2 * sum(k²).
func TestKernelDensePenalties(t *testing.T) {
	l := &KernelDense{Units: 3, Dim: 2, UseBias: true, L2: 0.5, KernelL2: 0.25,
		PointInitializer: mustComponent(t, "random_uniform", &RandomUniform{Minval: -0.6, Maxval: 0.6})}
	got, vars := layerPenalty(t, l, tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4}, 2, 2))
	u, v := toF64(kdVar(t, l, "u")), toF64(kdVar(t, l, "v"))
	ks := 0.0
	for i := range 2 {
		for j := range 3 {
			d := 0.0
			for k := range 2 {
				e := u[i*2+k] - v[j*2+k]
				d += e * e
			}
			ks += math.Pow(math.Max(0, 1-d), 2)
		}
	}
	want := 0.5*sumSq(vars["kernel"]) + 0.25*ks
	if math.Abs(got-want) > 1e-5*want {
		t.Errorf("penalty %v, want %v", got, want)
	}
}

// kdVar draws l's variable name as layerPenalty's build does (seed 5,
// scope layer).
func kdVar(t *testing.T, l Layer, name string) []float32 {
	t.Helper()
	store := model.NewStore()
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, x *graph.Node) *graph.Node {
		s.SetTraining(x.Graph(), true)
		return l.Build(&Builder{Graph: x.Graph(), Scope: s.In("layer"), Training: true, Seed: 5}, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Exec(tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4}, 2, 2)); err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](store.RootScope().In("layer").GetVariable(name).MustValue())
}

func mustComponent(t *testing.T, kind string, cfg any) spec.Component {
	t.Helper()
	return spec.Component{Kind: kind, Config: cfg, Path: kind}
}
