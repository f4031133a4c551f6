package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// refAttention is a float64 reference of Keras' MultiHeadAttention on one
// example: q [Tq, Dq], v [Tv, Dv], k [Tv, Dk]; w holds the kernels and
// biases in Keras' layouts; allow(i, j) says whether query step i may
// attend to key step j (nil: always).
func refAttention(q, v, k [][]float64, w map[string][]float64, heads, kd, vd, out int, allow func(i, j int) bool) [][]float64 {
	proj := func(x [][]float64, name string, dim int) [][][]float64 { // [T][H][D]
		kernel, bias := w[name+"/kernel"], w[name+"/bias"]
		f := len(x[0])
		res := make([][][]float64, len(x))
		for t := range x {
			res[t] = make([][]float64, heads)
			for h := range heads {
				res[t][h] = make([]float64, dim)
				for d := range dim {
					s := bias[h*dim+d]
					for i := range f {
						s += x[t][i] * kernel[(i*heads+h)*dim+d]
					}
					res[t][h][d] = s
				}
			}
		}
		return res
	}
	pq, pk, pv := proj(q, "query", kd), proj(k, "key", kd), proj(v, "value", vd)
	y := make([][]float64, len(q))
	for i := range q {
		y[i] = slices.Clone(w["attention_output/bias"])
		for h := range heads {
			scores := make([]float64, len(k))
			top := math.Inf(-1)
			for j := range k {
				for d := range kd {
					scores[j] += pq[i][h][d] * pk[j][h][d] / math.Sqrt(float64(kd))
				}
				if allow != nil && !allow(i, j) {
					scores[j] = -1e9 // in float32, score - 1e9 rounds to -1e9
				}
				top = math.Max(top, scores[j])
			}
			sum := 0.0
			for j := range scores {
				scores[j] = math.Exp(scores[j] - top)
				sum += scores[j]
			}
			for d := range vd {
				c := 0.0
				for j := range scores {
					c += scores[j] / sum * pv[j][h][d]
				}
				for o := range out {
					y[i][o] += c * w["attention_output/kernel"][(h*vd+d)*out+o]
				}
			}
		}
	}
	return y
}

func randomMatrix(r *rand.Rand, rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
		for j := range m[i] {
			m[i][j] = float64(float32(r.Float64()*2 - 1))
		}
	}
	return m
}

func flat32(ms ...[][]float64) []float32 {
	var out []float32
	for _, m := range ms {
		for _, row := range m {
			for _, v := range row {
				out = append(out, float32(v))
			}
		}
	}
	return out
}

// attentionCase runs l on batch 1 with the given inputs (and masks, a
// Bool per step, nil for none) on preset weights and returns the output.
func runAttention(t *testing.T, l *MultiHeadAttention, training bool, w map[string][]float64, dims map[string][]int, ins [][][]float64, masks [][]bool) [][]float64 {
	t.Helper()
	store := model.NewStore()
	for name, v := range w {
		data := make([]float32, len(v))
		for i := range v {
			data[i] = float32(v[i])
		}
		if _, err := store.CreateVariable("/layer/"+name, tensors.FromFlatDataAndDimensions(data, dims[name]...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetRNGStateFromSeed(1); err != nil {
		t.Fatal(err)
	}
	var args []any
	for _, in := range ins {
		args = append(args, tensors.FromFlatDataAndDimensions(flat32(in), 1, len(in), len(in[0])))
	}
	for _, m := range masks {
		if m != nil {
			args = append(args, tensors.FromFlatDataAndDimensions(m, 1, len(m)))
		}
	}
	exec, err := model.NewExec(backend(t), store, func(s *model.Scope, nodes []*graph.Node) *graph.Node {
		g := nodes[0].Graph()
		s.SetTraining(g, true)
		xs := nodes[:len(ins)]
		ms := make([]*graph.Node, len(ins))
		next := len(ins)
		for i, m := range masks {
			if m != nil {
				ms[i] = nodes[next]
				next++
			}
		}
		b := &Builder{Graph: g, Scope: s.In("layer"), Training: training, Seed: 1}
		y, _ := l.BuildMasked(b, xs, ms)
		return y
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	d := out[0].Shape().Dimensions
	y := make([][]float64, d[1])
	for i := range y {
		y[i] = make([]float64, d[2])
		for j := range y[i] {
			y[i][j] = float64(flat[i*d[2]+j])
		}
	}
	return y
}

// attentionWeights draws weights for l on inputs of features dq, dv, dk.
func attentionWeights(r *rand.Rand, l *MultiHeadAttention, dq, dv, dk int) (map[string][]float64, map[string][]int) {
	h, kd, vd, o := l.NumHeads, l.KeyDim, l.valueDim(), l.outputDim([]int{0, dq})
	dims := map[string][]int{
		"query/kernel": {dq, h, kd}, "query/bias": {h, kd},
		"key/kernel": {dk, h, kd}, "key/bias": {h, kd},
		"value/kernel": {dv, h, vd}, "value/bias": {h, vd},
		"attention_output/kernel": {h, vd, o}, "attention_output/bias": {o},
	}
	w := map[string][]float64{}
	for name, d := range dims {
		n := 1
		for _, v := range d {
			n *= v
		}
		w[name] = flat64(randomMatrix(r, 1, n)[0])
	}
	return w, dims
}

func flat64(v []float64) []float64 { return v }

func maxDiff2(a, b [][]float64) float64 {
	d := 0.0
	for i := range a {
		for j := range a[i] {
			d = math.Max(d, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return d
}

// TestMultiHeadAttentionValues compares the layer with a float64
// reference of Keras' computation: self-attention, cross-attention with a
// separate key and other sizes, masks on the query and the value, the
// causal mask, and the parameter count of Keras' layer formulas.
func TestMultiHeadAttentionValues(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vd, out := 3, 5
	for _, c := range []struct {
		name       string
		l          *MultiHeadAttention
		tq, tv     int
		dq, dv, dk int
		inputs     int
		qMask      []bool
		vMask      []bool
		wantParams int
	}{
		{name: "self", l: &MultiHeadAttention{NumHeads: 2, KeyDim: 4, UseBias: true}, tq: 5, tv: 5, dq: 6, dv: 6, dk: 6, inputs: 1,
			wantParams: 3*(6*2*4+2*4) + 2*4*6 + 6},
		{name: "self masked", l: &MultiHeadAttention{NumHeads: 2, KeyDim: 4, UseBias: true}, tq: 5, tv: 5, dq: 6, dv: 6, dk: 6, inputs: 1,
			qMask: []bool{false, false, true, true, true}, wantParams: 3*(6*2*4+2*4) + 2*4*6 + 6},
		{name: "causal", l: &MultiHeadAttention{NumHeads: 3, KeyDim: 2, UseBias: true, UseCausalMask: true}, tq: 6, tv: 6, dq: 4, dv: 4, dk: 4, inputs: 1,
			wantParams: 3*(4*3*2+3*2) + 3*2*4 + 4},
		{name: "cross with key", l: &MultiHeadAttention{NumHeads: 2, KeyDim: 4, ValueDim: &vd, Output: &out, UseBias: true}, tq: 3, tv: 7, dq: 6, dv: 5, dk: 2, inputs: 3,
			vMask:      []bool{true, true, false, true, true, false, false},
			wantParams: 6*2*4 + 2*4 + 2*2*4 + 2*4 + 5*2*3 + 2*3 + 2*3*5 + 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, dims := attentionWeights(r, c.l, c.dq, c.dv, c.dk)
			q := randomMatrix(r, c.tq, c.dq)
			ins, shapes := [][][]float64{q}, [][]int{{c.tq, c.dq}}
			v, k := q, q
			masks := [][]bool{c.qMask}
			if c.inputs > 1 {
				v, k = randomMatrix(r, c.tv, c.dv), randomMatrix(r, c.tv, c.dk)
				ins, shapes = append(ins, v, k), append(shapes, []int{c.tv, c.dv}, []int{c.tv, c.dk})
				masks = append(masks, c.vMask, nil)
			}
			if c.inputs == 1 {
				masks[0] = c.qMask
			}
			var params int
			if c.inputs == 1 {
				params = c.l.Params(shapes[0])
			} else {
				params = c.l.MergeParams(shapes)
			}
			if params != c.wantParams {
				t.Errorf("params %d, want %d", params, c.wantParams)
			}
			if got, err := c.l.MergeShape(shapes); err != nil || !slices.Equal(got, []int{c.tq, c.l.outputDim(shapes[0])}) {
				t.Errorf("shape %v, %v", got, err)
			}
			allow := func(i, j int) bool {
				ok := true
				if c.inputs == 1 && c.qMask != nil {
					ok = c.qMask[i] && c.qMask[j] // self-attention: the query's mask is the value's too
				}
				if c.vMask != nil {
					ok = ok && c.vMask[j]
				}
				if c.l.UseCausalMask {
					ok = ok && j <= i
				}
				return ok
			}
			want := refAttention(q, v, k, w, c.l.NumHeads, c.l.KeyDim, c.l.valueDim(), c.l.outputDim(shapes[0]), allow)
			got := runAttention(t, c.l, false, w, dims, ins, masks)
			if d := maxDiff2(got, want); d > 1e-5 {
				t.Errorf("differs from the reference by %g:\n got %v\nwant %v", d, got, want)
			}
			if c.l.UseCausalMask {
				// Changing the input after step 2 leaves steps 0..2 alone.
				q2 := make([][]float64, len(q))
				for i := range q {
					q2[i] = slices.Clone(q[i])
					if i > 2 {
						for j := range q2[i] {
							q2[i][j] += 0.5
						}
					}
				}
				got2 := runAttention(t, c.l, false, w, dims, [][][]float64{q2}, masks)
				if d := maxDiff2(got2[:3], got[:3]); d > 1e-6 {
					t.Errorf("causal: steps 0..2 moved by %g when later steps changed", d)
				}
				if d := maxDiff2(got2[3:], got[3:]); d < 1e-3 {
					t.Errorf("causal: later steps did not move (%g)", d)
				}
			}
		})
	}
}

// TestMultiHeadAttentionDropout: the attention weights are dropped only in
// training.
func TestMultiHeadAttentionDropout(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	l := &MultiHeadAttention{NumHeads: 2, KeyDim: 4, UseBias: true, Dropout: 0.5}
	w, dims := attentionWeights(r, l, 6, 6, 6)
	q := randomMatrix(r, 8, 6)
	want := refAttention(q, q, q, w, 2, 4, 4, 6, nil)
	if d := maxDiff2(runAttention(t, l, false, w, dims, [][][]float64{q}, [][]bool{nil}), want); d > 1e-5 {
		t.Errorf("evaluation differs from the reference without dropout by %g", d)
	}
	if d := maxDiff2(runAttention(t, l, true, w, dims, [][][]float64{q}, [][]bool{nil}), want); d < 1e-3 {
		t.Errorf("training equals the reference without dropout (%g): nothing was dropped", d)
	}
}
