package loaders

import (
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// padTestRagged builds a ragged int32 column from sequences.
func padTestRagged(seqs ...[]int32) data.Array {
	a := data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}}, Offsets: []int{0}}
	for _, s := range seqs {
		a.Int = append(a.Int, s...)
		a.Offsets = append(a.Offsets, len(a.Int))
	}
	return a
}

func TestPadSequences(t *testing.T) {
	in := padTestRagged([]int32{1, 2, 3}, []int32{4, 5}, []int32{}, []int32{6, 7, 8, 9, 10})
	for _, c := range []struct {
		name                string
		maxlen              int
		padding, truncating string
		value               int
		want                [][]int32
	}{
		// Keras' defaults: pad in front, and cut from the front, keeping the
		// last maxlen elements.
		{"pre/pre", 3, "pre", "pre", 0, [][]int32{{1, 2, 3}, {0, 4, 5}, {0, 0, 0}, {8, 9, 10}}},
		{"post padding", 3, "post", "pre", 0, [][]int32{{1, 2, 3}, {4, 5, 0}, {0, 0, 0}, {8, 9, 10}}},
		{"post truncating", 3, "pre", "post", 0, [][]int32{{1, 2, 3}, {0, 4, 5}, {0, 0, 0}, {6, 7, 8}}},
		{"post/post, value -1", 3, "post", "post", -1, [][]int32{{1, 2, 3}, {4, 5, -1}, {-1, -1, -1}, {6, 7, 8}}},
		{"maxlen 1", 1, "pre", "pre", 0, [][]int32{{3}, {5}, {0}, {10}}},
		{"maxlen 1, post truncating", 1, "pre", "post", 0, [][]int32{{1}, {4}, {0}, {6}}},
		{"longer than all, value 9", 6, "pre", "pre", 9, [][]int32{{9, 9, 9, 1, 2, 3}, {9, 9, 9, 9, 4, 5}, {9, 9, 9, 9, 9, 9}, {9, 6, 7, 8, 9, 10}}},
		{"longer than all, post", 6, "post", "pre", 0, [][]int32{{1, 2, 3, 0, 0, 0}, {4, 5, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, {6, 7, 8, 9, 10, 0}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &PadSequences{MaxLen: c.maxlen, Padding: c.padding, Truncating: c.truncating, Value: c.value, On: "x"}
			out, err := p.Apply(in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.Shape, []int{c.maxlen}) || out.DType != data.Int32 || out.Ragged() {
				t.Fatalf("schema %s (ragged %v), want int32[%d]", out.Schema, out.Ragged(), c.maxlen)
			}
			if out.Len() != len(c.want) {
				t.Fatalf("%d examples, want %d", out.Len(), len(c.want))
			}
			if want := slices.Concat(c.want...); !slices.Equal(out.Int, want) {
				t.Errorf("got %v, want %v", out.Int, want)
			}
		})
	}
	// A slice of a ragged column (offsets not starting at 0 in the storage).
	out, err := (&PadSequences{MaxLen: 2, Padding: "pre", Truncating: "pre", On: "x"}).Apply(in.Slice(1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{4, 5, 0, 0, 9, 10}; !slices.Equal(out.Int, want) {
		t.Errorf("on a slice: got %v, want %v", out.Int, want)
	}
	// No examples at all.
	if out, _ := (&PadSequences{MaxLen: 2, Padding: "pre", Truncating: "pre", On: "x"}).Apply(in.Slice(0, 0)); out.Len() != 0 || len(out.Int) != 0 {
		t.Errorf("empty column padded to %d examples", out.Len())
	}
}

func TestPadSequencesDefaults(t *testing.T) {
	e, ok := Transforms.Lookup("pad_sequences")
	if !ok {
		t.Fatal("pad_sequences is not registered")
	}
	p := e.New().(*PadSequences)
	if p.Padding != "pre" || p.Truncating != "pre" || p.Value != 0 || p.On != "x" {
		t.Errorf("defaults %+v, want Keras' padding pre, truncating pre, value 0, on x", p)
	}
}

func TestPadSequencesSchema(t *testing.T) {
	p := &PadSequences{MaxLen: 500, Padding: "pre", Truncating: "pre", On: "x"}
	out, err := p.OutSchema(data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: 5000})
	if err != nil || out.DType != data.Int32 || !slices.Equal(out.Shape, []int{500}) || out.Classes != 5000 {
		t.Errorf("got %+v, %v; want int32[500] with Classes 5000", out, err)
	}
	p.Value = 5000 // a padding value outside the vocabulary widens it
	if out, _ := p.OutSchema(data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: 5000}); out.Classes != 5001 {
		t.Errorf("value 5000 on 5000 classes: Classes %d, want 5001", out.Classes)
	}
	for _, in := range []data.Schema{
		{DType: data.Float32, Shape: []int{-1}},
		{DType: data.Int32, Shape: []int{500}},
		{DType: data.Int32, Shape: []int{}},
		{DType: data.Float32, Shape: []int{28, 28}},
	} {
		if _, err := p.OutSchema(in); err == nil || !strings.Contains(err.Error(), "ragged int32") {
			t.Errorf("on %s: got %v, want an error asking for ragged int32 sequences", in, err)
		}
	}

	// Through the data section, as validation sees it.
	steps, errs := BuildSteps([]spec.Component{{Kind: "pad_sequences", Config: &PadSequences{MaxLen: 500, Padding: "pre", Truncating: "pre", On: "x"}, Path: "data.transforms[0]"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ix, iy := (&IMDB{NumWords: 5000, WordIndex: "train", StripBR: true}).Schemas()
	x, y, errs := Schemas(ix, iy, steps)
	if len(errs) > 0 || x.String() != "int32[500]" || x.Classes != 5000 || y.String() != "int32[]" || y.Classes != 2 {
		t.Errorf("imdb + pad_sequences: %s (classes %d) -> %s (classes %d), errors %v", x, x.Classes, y, y.Classes, errs)
	}
	mx, my := (&MNIST{}).Schemas()
	if _, _, errs := Schemas(mx, my, steps); len(errs) != 1 || !strings.Contains(errs[0].Error(), "pad_sequences on x uint8[28 28]") {
		t.Errorf("mnist + pad_sequences: errors %v, want one naming the transform and the column", errs)
	}
}
