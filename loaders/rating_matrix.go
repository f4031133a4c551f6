package loaders

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Transforms.Register("rating_matrix", "Turns rating triples into rating vectors, one example per item (by: item, I-AutoRec) or per user (by: user, U-AutoRec). x is the vector of training ratings with 0 where missing; y is the same vector in the training split and the held-out ratings in the test split, with NaN where missing, for masked losses and metrics. whole: true makes the whole matrix one example (rows, cols), for models that look across rows (GLocal-K's global kernel): a training step is then one full-batch step.",
		func() Transform { return &RatingMatrix{By: "item"} })
}

// RatingMatrix is the by-item or by-user view of a rating dataset.
type RatingMatrix struct {
	By    string `pipe:"by,oneof=item|user" doc:"item: one example per item, over users; user: one example per user, over items"`
	Whole bool   `pipe:"whole" doc:"one example, the whole matrix (items, users) for by: item, instead of one example per row"`
}

func (t *RatingMatrix) OutSchemas(x, y data.Schema) (data.Schema, data.Schema, error) {
	want, _ := data.RatingSchemas()
	if x.DType != data.Int32 || len(x.Shape) != 1 || x.Shape[0] != want.Shape[0] {
		return x, y, fmt.Errorf("needs rating data, (user, item) pairs")
	}
	// The vector length is the number of users or items, known once the
	// data is read; the model's declared input is checked against it then.
	row := data.Schema{DType: data.Float32, Shape: []int{-1}}
	if t.Whole {
		row.Shape = []int{-1, -1}
	}
	return row, row, nil
}

func (t *RatingMatrix) ApplyDataset(ds *data.Dataset) error {
	if ds.Ratings == nil {
		return fmt.Errorf("the loader gives no rating data")
	}
	rows, cols := len(ds.Ratings.Items), len(ds.Ratings.Users)
	row, col := 1, 0 // index within the (user, item) pair
	if t.By == "user" {
		rows, cols, row, col = cols, rows, 0, 1
	}
	fill := func(split *data.Split, value float32) []float32 {
		m := make([]float32, rows*cols)
		for i := range m {
			m[i] = value
		}
		for k, r := range split.Y.Float {
			m[int(split.X.Int[2*k+row])*cols+int(split.X.Int[2*k+col])] = r
		}
		return m
	}
	nan := float32(math.NaN())
	trainIn, trainTarget, testTarget := fill(&ds.Train, 0), fill(&ds.Train, nan), fill(&ds.Test, nan)
	vec := data.Schema{DType: data.Float32, Shape: []int{cols}}
	if t.Whole {
		vec.Shape = []int{rows, cols}
	}
	ds.Train = data.Split{X: data.Array{Schema: vec, Float: trainIn}, Y: data.Array{Schema: vec, Float: trainTarget}}
	ds.Test = data.Split{X: data.Array{Schema: vec, Float: trainIn}, Y: data.Array{Schema: vec, Float: testTarget}}
	return nil
}

// HoldOut holds out a seeded sample of the training ratings, the cells
// observed in train's targets, fraction of them rounded down, as the
// AutoRec paper carves its validation ratings from the training ratings.
// In rest a held-out rating is missing from the inputs (0) and the
// targets (NaN); val has rest's inputs and only the held-out ratings as
// targets, so its masked metrics score the model's predictions of exactly
// them, from the same inputs it trained on, as the test split scores the
// test ratings.
func (t *RatingMatrix) HoldOut(train data.Split, fraction float64, seed uint64) (rest, val data.Split) {
	var observed []int
	for i, v := range train.Y.Float {
		if !math.IsNaN(float64(v)) {
			observed = append(observed, i)
		}
	}
	nan := float32(math.NaN())
	in, target, held := slices.Clone(train.X.Float), slices.Clone(train.Y.Float), make([]float32, len(train.Y.Float))
	for i := range held {
		held[i] = nan
	}
	n := int(float64(len(observed)) * fraction)
	for _, k := range rand.New(rand.NewPCG(seed, 0x7a1)).Perm(len(observed))[:n] {
		i := observed[k]
		held[i], in[i], target[i] = target[i], 0, nan
	}
	rest = data.Split{X: data.Array{Schema: train.X.Schema, Float: in}, Y: data.Array{Schema: train.Y.Schema, Float: target}}
	val = data.Split{X: rest.X, Y: data.Array{Schema: train.Y.Schema, Float: held}}
	return rest, val
}
