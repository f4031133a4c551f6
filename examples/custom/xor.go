package main

import (
	"math/rand/v2"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

func init() {
	loaders.Loaders.Register("xor", "Synthetic XOR: points uniform in [-1, 1]², class 1 where both coordinates have the same sign, with Gaussian noise on the coordinates; generated from seed, no files.",
		func() loaders.Loader { return &XOR{TrainSize: 2000, TestSize: 500, Noise: 0.05, Seed: 1} })
}

// XOR is a loader defined outside pipe. No linear model can separate its
// classes, so an accuracy well above 0.5 shows that the hidden layers
// (here, the swish layer) learned something.
type XOR struct {
	TrainSize int     `pipe:"train_size,min=1,max=10000000" doc:"training examples"`
	TestSize  int     `pipe:"test_size,min=1,max=10000000" doc:"test examples"`
	Noise     float64 `pipe:"noise,min=0,max=1" doc:"standard deviation of the Gaussian noise added to each coordinate after labelling"`
	Seed      int     `pipe:"seed" doc:"seed of the generator: the same seed, the same points"`
}

// Schemas describes one example without generating any: pipe checks the
// spec's transforms and layers against it before loading.
func (*XOR) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Float32, Shape: []int{2}}, data.Schema{DType: data.Int32, Shape: []int{}, Classes: 2}
}

// Load generates the dataset. It reads no files, so dataDir is unused, and
// since XOR does not implement loaders.Sourced pipe never caches it (it is
// cheaper to generate than to checksum).
func (l *XOR) Load(string) (*data.Dataset, error) {
	r := rand.New(rand.NewPCG(uint64(l.Seed), 0x786f72)) // "xor"
	ds := &data.Dataset{Classes: []string{"different signs", "same sign"}}
	ds.Train = l.split(r, l.TrainSize)
	ds.Test = l.split(r, l.TestSize)
	return ds, nil
}

// split draws n examples, stored as data.Array wants: example after example.
func (l *XOR) split(r *rand.Rand, n int) data.Split {
	x, y := l.Schemas()
	s := data.Split{
		X: data.Array{Schema: x, Float: make([]float32, 0, 2*n)},
		Y: data.Array{Schema: y, Int: make([]int32, 0, n)},
	}
	for range n {
		a, b := r.Float64()*2-1, r.Float64()*2-1
		label := int32(0)
		if a*b > 0 {
			label = 1
		}
		s.X.Float = append(s.X.Float, float32(a+l.Noise*r.NormFloat64()), float32(b+l.Noise*r.NormFloat64()))
		s.Y.Int = append(s.Y.Int, label)
	}
	return s
}
