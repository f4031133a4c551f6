package loaders

import (
	"fmt"
	"slices"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Transforms.Register("pad_sequences", "Pads or truncates ragged int32 sequences (such as imdb's) to maxlen, like keras.preprocessing.sequence.pad_sequences.",
		func() Transform { return &PadSequences{Padding: "pre", Truncating: "pre", On: "x"} })
}

// PadSequences is Keras' pad_sequences: a sequence longer than maxlen loses
// its first (truncating: pre) or last (post) elements; a shorter one gets
// value before (padding: pre) or after (post) its elements.
type PadSequences struct {
	MaxLen     int    `pipe:"maxlen,required,min=1" doc:"length of every sequence after padding or truncating"`
	Padding    string `pipe:"padding,oneof=pre|post" doc:"where short sequences are padded: pre (before, Keras' default) or post (after)"`
	Truncating string `pipe:"truncating,oneof=pre|post" doc:"where long sequences lose elements: pre (from the beginning, Keras' default) or post (from the end)"`
	Value      int    `pipe:"value,min=-2147483648,max=2147483647" doc:"the padding value"`
	On         string `pipe:"on,oneof=x|y" doc:"column to transform: x (features) or y (labels)"`
}

func (t *PadSequences) Column() string { return t.On }
func (t *PadSequences) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	return columnSchemas(t, x, y)
}
func (t *PadSequences) ApplyDataset(ds *data.Dataset) error { return applyColumn(t, ds) }

func (t *PadSequences) OutSchema(in data.Schema) (data.Schema, error) {
	if in.DType != data.Int32 || !slices.Equal(in.Shape, []int{-1}) {
		return in, fmt.Errorf("pad_sequences needs ragged int32 sequences (shape [-1]), such as imdb's x")
	}
	out := data.Schema{DType: data.Int32, Shape: []int{t.MaxLen}, Classes: in.Classes}
	if in.Classes > 0 && t.Value >= in.Classes { // Classes bounds the values
		out.Classes = t.Value + 1
	}
	return out, nil
}

func (t *PadSequences) Apply(a data.Array) (data.Array, error) {
	s, err := t.OutSchema(a.Schema)
	if err != nil {
		return a, err
	}
	n := a.Len()
	if !a.Ragged() {
		if len(a.Int) > 0 {
			return a, fmt.Errorf("column has shape [-1] but no offsets")
		}
		n = 0
	}
	out := data.Array{Schema: s, Int: make([]int32, n*t.MaxLen)}
	if t.Value != 0 {
		for i := range out.Int {
			out.Int[i] = int32(t.Value)
		}
	}
	for i := range n {
		seq, row := a.Int[a.Offsets[i]:a.Offsets[i+1]], out.Int[i*t.MaxLen:(i+1)*t.MaxLen]
		if len(seq) > t.MaxLen {
			if t.Truncating == "post" {
				seq = seq[:t.MaxLen]
			} else {
				seq = seq[len(seq)-t.MaxLen:]
			}
		}
		if t.Padding == "post" {
			copy(row, seq)
		} else {
			copy(row[t.MaxLen-len(seq):], seq)
		}
	}
	return out, nil
}
