package bench

import (
	"fmt"
	"math"
	"strconv"
)

// Axis is what a cost curve varies.
type Axis int

const (
	// AxisBatch: training samples/s and peak RSS against the batch size.
	AxisBatch Axis = iota
	// AxisLength: time per training step and peak RSS against the
	// sequence length.
	AxisLength
	// AxisRatings: fit time and peak RSS against the number of ratings
	// (synthetic, MovieLens-shaped).
	AxisRatings
)

// String names the axis in tables and charts.
func (a Axis) String() string {
	return [...]string{"batch size", "sequence length", "ratings"}[a]
}

// Curve is one cost curve: a spec measured at several sizes along one
// axis, each point in a process of its own so that its peak RSS is its own.
type Curve struct {
	Name  string // the files' stem: mnist_cnn_batch
	Spec  string
	Axis  Axis
	X     []int
	Batch int // AxisLength: the batch size of every point (0: the spec's)
	// Epochs is the field that sets the fit's epochs (model.epochs of a
	// rating model, train.epochs of a layer stack), "" for a model that
	// has none (user_knn).
	Epochs string
	// Sets are a point's --set overrides beyond the axis' own (AutoRec's
	// input width is the number of users).
	Sets func(x int, shape Shape) []string
}

// CurveOptions say which default curves to measure and at what sizes.
type CurveOptions struct {
	Batches, Lengths, Ratings []int
	LengthBatch               int // batch of the sequence-length curves (0: the spec's)
	FitEpochs                 int // epochs of the fits over ratings (0: the specs')
}

// DefaultCurves are issue 15's curves: the course CNNs over batch sizes,
// the LSTM and GRU over sequence lengths, and four rating models over the
// number of ratings.
func DefaultCurves(o CurveOptions) []Curve {
	var cs []Curve
	for _, m := range []string{"mnist_cnn", "cifar10_cnn"} {
		cs = append(cs, Curve{Name: m + "_batch", Spec: "specs/" + m + ".yaml", Axis: AxisBatch, X: o.Batches})
	}
	for _, m := range []string{"imdb_lstm", "imdb_gru"} {
		cs = append(cs, Curve{Name: m + "_length", Spec: "specs/" + m + ".yaml", Axis: AxisLength, X: o.Lengths, Batch: o.LengthBatch})
	}
	for _, c := range []struct{ name, spec, epochs string }{
		{"user_knn", "specs/cf/movielense_knn.yaml", ""},
		{"matrix_factorization", "specs/cf/movielense_mf.yaml", "model.epochs"},
		{"rbm_cf", "specs/cf/movielense_rbm_item.yaml", "model.epochs"},
		{"i_autorec", "specs/cf/movielense_i_autorec.yaml", "train.epochs"},
	} {
		cv := Curve{Name: c.name + "_ratings", Spec: c.spec, Axis: AxisRatings, X: o.Ratings, Epochs: c.epochs}
		if c.name == "i_autorec" {
			// One example per item, over the users: the input and the
			// reconstruction are as wide as the users are many.
			cv.Sets = func(_ int, s Shape) []string {
				return []string{fmt.Sprintf("model.input.shape=[%d]", s.Users), fmt.Sprintf("model.layers[1].dense.units=%d", s.Users)}
			}
		}
		cs = append(cs, cv)
	}
	if o.FitEpochs > 0 {
		for i := range cs {
			if cs[i].Epochs != "" {
				sets := cs[i].Sets
				field := cs[i].Epochs
				cs[i].Sets = func(x int, s Shape) []string {
					var out []string
					if sets != nil {
						out = sets(x, s)
					}
					return append(out, field+"="+strconv.Itoa(o.FitEpochs))
				}
			}
		}
	}
	return cs
}

// pointSets are the --set overrides of the curve's point x.
func (c Curve) pointSets(x int) []string {
	var sets []string
	var shape Shape
	switch c.Axis {
	case AxisLength:
		sets = []string{fmt.Sprintf("model.input.shape=[%d]", x), fmt.Sprintf("data.transforms[0].pad_sequences.maxlen=%d", x)}
	case AxisRatings:
		shape = MovieLensShape(x)
		sets = []string{"data.loader=synthetic_ratings", "data.ratings=" + strconv.Itoa(x),
			"data.users=" + strconv.Itoa(shape.Users), "data.items=" + strconv.Itoa(shape.Items)}
	}
	if c.Sets != nil {
		sets = append(sets, c.Sets(x, shape)...)
	}
	return sets
}

// Shape is the users and items of a rating dataset.
type Shape struct{ Users, Items int }

// movieLens are the GroupLens releases' sizes: ratings, users, items.
var movieLens = [][3]float64{
	{100_000, 943, 1682},
	{1_000_209, 6040, 3706},
	{10_000_054, 69_878, 10_677},
	{20_000_263, 138_493, 26_744},
}

// MovieLensShape is the users and items of a MovieLens release with n
// ratings: interpolated on log-log axes between the releases, extrapolated
// along the nearest pair of them, and never fewer than n ratings can fill
// (each user rates at most half the items: the synthetic loader's rule).
func MovieLensShape(n int) Shape {
	k := 0
	for k < len(movieLens)-2 && float64(n) > movieLens[k+1][0] {
		k++
	}
	a, b := movieLens[k], movieLens[k+1]
	t := math.Log(float64(n)/a[0]) / math.Log(b[0]/a[0])
	at := func(i int) int {
		return max(1, int(math.Round(math.Exp(math.Log(a[i])+t*(math.Log(b[i])-math.Log(a[i]))))))
	}
	s := Shape{Users: at(1), Items: max(2, at(2))}
	for int64(s.Users)*int64(s.Items/2) < int64(n) {
		s.Users++
	}
	return s
}
