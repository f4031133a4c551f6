package ops

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/spec"
)

// TestMaskPropagation checks the rule of MaskedLayer on ids [[0 0 3 4],
// [5 0 6 0]] embedded with mask_zero: which layers pass the mask on, drop
// it, combine it (merges) or make one (masking).
func TestMaskPropagation(t *testing.T) {
	ids := []int32{0, 0, 3, 4, 5, 0, 6, 0}
	embedded := []float32{0, 0, 1, 1, 1, 0, 1, 0} // the steps that hold data
	seq := func(l Layer) Stage { return Stage{Kind: "x", Layer: l} }
	units := func(n int) spec.Component {
		return spec.Component{Kind: "dense", Config: &Dense{Units: n, UseBias: true}}
	}
	for _, c := range []struct {
		name string
		// build returns the mask to check (nil: none) from the embedding's
		// output e [2, 4, 3] and its mask m.
		build func(b *Builder, e, m *graph.Node) *graph.Node
		want  []float32 // nil: no mask
	}{
		{"embedding", func(b *Builder, e, m *graph.Node) *graph.Node { return m }, embedded},
		{"dropout", pass(seq(&Dropout{Rate: 0.5})), embedded},
		{"spatial_dropout1d", pass(seq(&SpatialDropout1D{Rate: 0.5})), embedded},
		{"gaussian_noise", pass(seq(&GaussianNoise{Stddev: 1})), embedded},
		{"activation", pass(seq(&Activation{Fn: "relu"})), embedded},
		{"dense on steps", pass(seq(&Dense{Units: 2, UseBias: true})), embedded},
		{"layer_normalization", pass(seq(&LayerNorm{Axis: -1, Epsilon: 1e-3, Center: true, Scale: true})), embedded},
		{"time_distributed", pass(seq(&TimeDistributed{Layer: units(2)})), embedded},
		{"position_embedding", pass(seq(&PositionEmbedding{})), embedded},
		{"lstm sequences", pass(seq(&LSTM{Units: 2, ReturnSequences: true})), embedded},
		{"gru backwards sequences", pass(seq(&GRU{Units: 2, ReturnSequences: true, GoBackwards: true})), []float32{1, 1, 0, 0, 0, 1, 0, 1}},
		{"bidirectional sequences", pass(seq(&Bidirectional{Layer: spec.Component{Kind: "lstm", Config: &LSTM{Units: 2, ReturnSequences: true}}})), embedded},
		{"multi_head_attention", pass(seq(&MultiHeadAttention{NumHeads: 1, KeyDim: 2, UseBias: true})), embedded},
		{"lstm last step", pass(seq(&LSTM{Units: 2})), nil},
		{"flatten", pass(seq(&Flatten{})), nil},
		{"conv1d", pass(seq(&Conv1D{Filters: 2, Kernel: 1, Strides: 1, DilationRate: 1, Padding: "same"})), nil},
		{"global_average_pool1d", pass(seq(&GlobalAveragePool1D{})), nil},
		{"add with an unmasked input", func(b *Builder, e, m *graph.Node) *graph.Node {
			_, mask := Stage{Layer: &Elementwise{kind: "add", fn: graph.Add}}.BuildMasked(b, []*graph.Node{e, e}, []*graph.Node{m, nil})
			return mask
		}, embedded},
		{"multiply ANDs", func(b *Builder, e, m *graph.Node) *graph.Node {
			other := graph.Const(b.Graph, [][]bool{{true, true, true, false}, {true, true, true, true}})
			_, mask := Stage{Layer: &Elementwise{kind: "multiply", fn: graph.Mul}}.BuildMasked(b, []*graph.Node{e, e}, []*graph.Node{m, other})
			return mask
		}, []float32{0, 0, 1, 0, 1, 0, 1, 0}},
		{"concatenate features", func(b *Builder, e, m *graph.Node) *graph.Node {
			_, mask := Stage{Layer: &Concatenate{Axis: -1}}.BuildMasked(b, []*graph.Node{e, e}, []*graph.Node{m, nil})
			return mask
		}, embedded},
		{"concatenate steps", func(b *Builder, e, m *graph.Node) *graph.Node {
			_, mask := Stage{Layer: &Concatenate{Axis: 1}}.BuildMasked(b, []*graph.Node{e, e}, []*graph.Node{nil, m})
			return mask
		}, []float32{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0}},
		{"dot", func(b *Builder, e, m *graph.Node) *graph.Node {
			_, mask := Stage{Layer: &Dot{Axes: []int{2}}}.BuildMasked(b, []*graph.Node{e, e}, []*graph.Node{m, m})
			return mask
		}, nil},
		{"masking", func(b *Builder, e, m *graph.Node) *graph.Node {
			// Steps whose features are all 0: the embedding's masked ones.
			x := graph.Mul(graph.AddScalar(graph.Abs(e), 1), graph.InsertAxes(maskAs(m, e.DType()), -1))
			_, mask := Stage{Layer: &Masking{}}.BuildMasked(b, []*graph.Node{x}, []*graph.Node{nil})
			return mask
		}, embedded},
	} {
		t.Run(c.name, func(t *testing.T) {
			var none bool
			exec, err := model.NewExec(backend(t), model.NewStore(), func(s *model.Scope, x *graph.Node) *graph.Node {
				g := x.Graph()
				s.SetTraining(g, true)
				b := &Builder{Graph: g, Scope: s.In("layer"), Training: true, Seed: 1}
				e, m := Stage{Layer: &Embedding{InputDim: 10, OutputDim: 3, MaskZero: true}}.BuildMasked(b, []*graph.Node{x}, []*graph.Node{nil})
				b.Scope = s.In("next")
				mask := c.build(b, e, m)
				if mask == nil {
					none = true
					return graph.Const(g, float32(0))
				}
				return graph.ConvertDType(mask, e.DType())
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(tensors.FromFlatDataAndDimensions(ids, 2, 4))
			if err != nil {
				t.Fatal(err)
			}
			switch got := tensors.MustCopyFlatData[float32](out[0]); {
			case c.want == nil && !none:
				t.Errorf("mask %v, want none", got)
			case c.want != nil && none:
				t.Errorf("no mask, want %v", c.want)
			case c.want != nil && !slices.Equal(got, c.want):
				t.Errorf("mask %v, want %v", got, c.want)
			}
		})
	}
	// Without mask_zero the embedding makes no mask.
	if m := (&Embedding{InputDim: 10, OutputDim: 3}).mask(nil); m != nil {
		t.Error("embedding without mask_zero made a mask")
	}
}

// pass builds stage st on e with mask m and returns its output's mask.
func pass(st Stage) func(b *Builder, e, m *graph.Node) *graph.Node {
	return func(b *Builder, e, m *graph.Node) *graph.Node {
		_, mask := st.BuildMasked(b, []*graph.Node{e}, []*graph.Node{m})
		return mask
	}
}
