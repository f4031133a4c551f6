package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// Initializers is the initializer registry: how a weight's first values
// are drawn, Keras' names, params and defaults. A layer's
// kernel_initializer, bias_initializer (see Weights) and the like choose
// one; Builder.Weight draws it.
var Initializers = spec.NewRegistry[Initializer]("initializer")

// Initializer draws the initial values of one weight.
type Initializer interface {
	// Values returns the values of a weight of shape dims, row-major,
	// drawn from r (the weight's own generator); fans are the weight's
	// fan-in and fan-out, which the variance-scaling rules divide by. An
	// error says why the rule does not fit the shape (identity on a conv
	// kernel).
	Values(r *rand.Rand, fans Fans, dims []int) ([]float32, error)
}

// Fans are a weight's fan-in and fan-out.
type Fans struct{ In, Out int }

// FansOf is Keras' compute_fans for a weight of shape dims in Keras'
// layouts: (in, out) for a dense kernel; for a convolution kernel (kh, kw,
// cin, cout) the receptive field times the channels, kh*kw*cin and
// kh*kw*cout; a vector of n (a bias) has n and n; a scalar 1 and 1.
func FansOf(dims []int) Fans {
	switch len(dims) {
	case 0:
		return Fans{1, 1}
	case 1:
		return Fans{dims[0], dims[0]}
	}
	receptive := data.Elements(dims[:len(dims)-2])
	return Fans{dims[len(dims)-2] * receptive, dims[len(dims)-1] * receptive}
}

func init() {
	scaling := func(name, doc string, scale float64, mode, dist string) {
		Initializers.Register(name, doc, func() Initializer {
			return &fixedScaling{VarianceScaling{Scale: scale, Mode: mode, Distribution: dist}}
		})
	}
	scaling("glorot_uniform", "Glorot (Xavier) uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); Keras' default kernel initializer.", 1, "fan_avg", "uniform")
	scaling("glorot_normal", "Glorot (Xavier) normal: a normal truncated at 2 stddev, stddev = sqrt(2 / (fan_in + fan_out)) / 0.8796 (the truncation's correction, as Keras).", 1, "fan_avg", "truncated_normal")
	scaling("he_uniform", "He uniform: U(-l, l) with l = sqrt(6 / fan_in).", 2, "fan_in", "uniform")
	scaling("he_normal", "He normal: a normal truncated at 2 stddev, stddev = sqrt(2 / fan_in) / 0.8796.", 2, "fan_in", "truncated_normal")
	scaling("lecun_uniform", "LeCun uniform: U(-l, l) with l = sqrt(3 / fan_in).", 1, "fan_in", "uniform")
	scaling("lecun_normal", "LeCun normal: a normal truncated at 2 stddev, stddev = sqrt(1 / fan_in) / 0.8796; for selu networks.", 1, "fan_in", "truncated_normal")
	Initializers.Register("variance_scaling", "Keras' VarianceScaling, of which the glorot, he and lecun rules are cases: with n the fan that mode picks, U(-l, l) with l = sqrt(3 scale / n), or a normal of stddev sqrt(scale / n) (truncated at 2 stddev and divided by 0.8796 for truncated_normal).",
		func() Initializer {
			return &VarianceScaling{Scale: 1, Mode: "fan_in", Distribution: "truncated_normal"}
		})
	Initializers.Register("orthogonal", "Orthogonal: orthonormal rows or columns (whichever are fewer) times gain, from the QR decomposition of a standard normal matrix; a kernel of more than two axes is taken as (product of all but the last, last). Keras' default recurrent initializer.",
		func() Initializer { return &Orthogonal{Gain: 1} })
	Initializers.Register("identity", "Identity matrix times gain (ones on the diagonal of a rectangular one); two-axis weights only, such as square recurrent kernels.",
		func() Initializer { return &Identity{Gain: 1} })
	Initializers.Register("zeros", "All zeros; Keras' default bias initializer.", func() Initializer { return &Constant{} })
	Initializers.Register("ones", "All ones.", func() Initializer { return &Constant{Value: 1} })
	Initializers.Register("constant", "Every value set to value.", func() Initializer { return &Constant{} })
	Initializers.Register("random_normal", "Normal distribution N(mean, stddev²).",
		func() Initializer { return &RandomNormal{Stddev: 0.05} })
	Initializers.Register("random_uniform", "Uniform distribution U(minval, maxval).",
		func() Initializer { return &RandomUniform{Minval: -0.05, Maxval: 0.05} })
	Initializers.Register("truncated_normal", "Normal distribution N(mean, stddev²) with values beyond 2 stddev of the mean drawn again.",
		func() Initializer { return &TruncatedNormal{Stddev: 0.05} })
}

// truncatedStddev is the stddev of a standard normal truncated at ±2,
// by which Keras divides the stddev of its variance-scaling normals so
// that the truncated draw has the intended variance.
const truncatedStddev = 0.87962566103423978

// VarianceScaling is Keras' VarianceScaling.
type VarianceScaling struct {
	Scale        float64 `pipe:"scale,min=0" doc:"the variance's numerator"`
	Mode         string  `pipe:"mode,oneof=fan_in|fan_out|fan_avg" doc:"the fan the variance is divided by (fan_avg: their mean)"`
	Distribution string  `pipe:"distribution,oneof=truncated_normal|untruncated_normal|uniform" doc:"the distribution drawn from"`
}

func (v *VarianceScaling) Validate() error {
	if v.Scale <= 0 {
		return fmt.Errorf("scale must be positive, got %v", v.Scale)
	}
	return nil
}

func (v *VarianceScaling) Values(r *rand.Rand, fans Fans, dims []int) ([]float32, error) {
	fan := float64(fans.In)
	switch v.Mode {
	case "fan_out":
		fan = float64(fans.Out)
	case "fan_avg":
		// (in+out)/2 is exact, so 3/fan is 6/(in+out) to the last bit:
		// glorot_uniform draws what Builder.GlorotUniform draws.
		fan = float64(fans.In+fans.Out) / 2
	}
	fan = max(fan, 1)
	n := data.Elements(dims)
	switch v.Distribution {
	case "uniform":
		return uniform(r, n, math.Sqrt(3*v.Scale/fan)), nil
	case "untruncated_normal":
		return normal(r, n, 0, math.Sqrt(v.Scale/fan)), nil
	}
	return truncatedNormal(r, n, 0, math.Sqrt(v.Scale/fan)/truncatedStddev), nil
}

// fixedScaling is a named case of VarianceScaling (glorot_uniform,
// he_normal, ...), which takes no params.
type fixedScaling struct{ rule VarianceScaling }

func (f *fixedScaling) Values(r *rand.Rand, fans Fans, dims []int) ([]float32, error) {
	return f.rule.Values(r, fans, dims)
}

// Orthogonal is Keras' Orthogonal.
type Orthogonal struct {
	Gain float64 `pipe:"gain" doc:"factor applied to the orthogonal matrix"`
}

func (o *Orthogonal) Values(r *rand.Rand, _ Fans, dims []int) ([]float32, error) {
	if len(dims) < 2 {
		return nil, fmt.Errorf("orthogonal needs a weight of at least two axes, got shape %v", dims)
	}
	v := orthogonal(r, data.Elements(dims[:len(dims)-1]), dims[len(dims)-1])
	if o.Gain != 1 {
		for i := range v {
			v[i] *= float32(o.Gain)
		}
	}
	return v, nil
}

// Identity is Keras' Identity.
type Identity struct {
	Gain float64 `pipe:"gain" doc:"value on the diagonal"`
}

func (id *Identity) Values(_ *rand.Rand, _ Fans, dims []int) ([]float32, error) {
	if len(dims) != 2 {
		return nil, fmt.Errorf("identity needs a weight of two axes, got shape %v", dims)
	}
	v := make([]float32, dims[0]*dims[1])
	for i := 0; i < min(dims[0], dims[1]); i++ {
		v[i*dims[1]+i] = float32(id.Gain)
	}
	return v, nil
}

// Constant is Keras' Constant, and zeros and ones.
type Constant struct {
	Value float64 `pipe:"value" doc:"the value of every element"`
}

func (c *Constant) Values(_ *rand.Rand, _ Fans, dims []int) ([]float32, error) {
	v := make([]float32, data.Elements(dims))
	if c.Value != 0 {
		for i := range v {
			v[i] = float32(c.Value)
		}
	}
	return v, nil
}

// RandomNormal is Keras' RandomNormal.
type RandomNormal struct {
	Mean   float64 `pipe:"mean" doc:"mean of the distribution"`
	Stddev float64 `pipe:"stddev,min=0" doc:"standard deviation"`
}

func (n *RandomNormal) Values(r *rand.Rand, _ Fans, dims []int) ([]float32, error) {
	return normal(r, data.Elements(dims), n.Mean, n.Stddev), nil
}

// TruncatedNormal is Keras' TruncatedNormal.
type TruncatedNormal struct {
	Mean   float64 `pipe:"mean" doc:"mean of the distribution"`
	Stddev float64 `pipe:"stddev,min=0" doc:"standard deviation before truncation"`
}

func (n *TruncatedNormal) Values(r *rand.Rand, _ Fans, dims []int) ([]float32, error) {
	return truncatedNormal(r, data.Elements(dims), n.Mean, n.Stddev), nil
}

// RandomUniform is Keras' RandomUniform.
type RandomUniform struct {
	Minval float64 `pipe:"minval" doc:"lower bound"`
	Maxval float64 `pipe:"maxval" doc:"upper bound"`
}

func (u *RandomUniform) Validate() error {
	if u.Maxval < u.Minval {
		return fmt.Errorf("minval %v is above maxval %v", u.Minval, u.Maxval)
	}
	return nil
}

func (u *RandomUniform) Values(r *rand.Rand, _ Fans, dims []int) ([]float32, error) {
	n := data.Elements(dims)
	if u.Minval == -u.Maxval {
		// The rounding of Builder.Uniform, so that the default draws of
		// embeddings, U(-0.05, 0.05), stay what they were.
		return uniform(r, n, u.Maxval), nil
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(u.Minval + r.Float64()*(u.Maxval-u.Minval))
	}
	return v, nil
}

// uniform draws n values from U(-limit, limit).
func uniform(r *rand.Rand, n int, limit float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((r.Float64()*2 - 1) * limit)
	}
	return v
}

func normal(r *rand.Rand, n int, mean, stddev float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(mean + stddev*r.NormFloat64())
	}
	return v
}

// truncatedNormal draws n values from N(mean, stddev²), drawing again any
// beyond 2 stddev, as Keras' (TensorFlow's, JAX's) truncated normal.
func truncatedNormal(r *rand.Rand, n int, mean, stddev float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		z := r.NormFloat64()
		for math.Abs(z) > 2 {
			z = r.NormFloat64()
		}
		v[i] = float32(mean + stddev*z)
	}
	return v
}

// orthogonal returns a rows x cols matrix with orthonormal rows or columns
// (whichever are fewer): the Q factor of the QR decomposition of a standard
// normal matrix, with the signs of R's diagonal folded in (Gram-Schmidt
// gives that Q directly), as Keras' Orthogonal.
func orthogonal(r *rand.Rand, rows, cols int) []float32 {
	// Orthonormalise the columns of an n x m matrix, n >= m.
	n, m := max(rows, cols), min(rows, cols)
	a := make([]float64, n*m) // column-major: column j is a[j*n:(j+1)*n]
	for i := range a {
		a[i] = r.NormFloat64()
	}
	for j := 0; j < m; j++ {
		cj := a[j*n : (j+1)*n]
		for k := 0; k < j; k++ { // modified Gram-Schmidt
			ck := a[k*n : (k+1)*n]
			dot := 0.0
			for i := range cj {
				dot += cj[i] * ck[i]
			}
			for i := range cj {
				cj[i] -= dot * ck[i]
			}
		}
		norm := 0.0
		for _, v := range cj {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for i := range cj {
			cj[i] /= norm
		}
	}
	out := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if rows >= cols {
				out[i*cols+j] = float32(a[j*n+i]) // Q is rows x cols
			} else {
				out[i*cols+j] = float32(a[i*n+j]) // Q^T: Q is cols x rows
			}
		}
	}
	return out
}
