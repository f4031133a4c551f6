package ops

import (
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

func init() {
	Layers.Register("upsampling2d", "Enlarges (height, width, channels) examples by whole factors, Keras' UpSampling2D: nearest repeats each row and column; bilinear interpolates as tf.image.resize (half-pixel centres, edges clamped).",
		func() Layer { return &UpSampling2D{Size: Size2{2, 2}, Interpolation: "nearest"} })
	Layers.Register("upsampling1d", "Repeats each step of (timesteps, channels) examples size times, Keras' UpSampling1D.",
		func() Layer { return &UpSampling1D{Size: 2} })
}

// UpSampling2D is Keras' UpSampling2D with channels last.
type UpSampling2D struct {
	Size          Size2  `pipe:"size" doc:"factor of the height and the width: 2 or [2, 3]"`
	Interpolation string `pipe:"interpolation,oneof=nearest|bilinear" doc:"nearest (repeat) or bilinear"`
}

func (l *UpSampling2D) OutputShape(in []int) ([]int, error) {
	if err := image(in); err != nil {
		return nil, err
	}
	return []int{in[0] * l.Size[0], in[1] * l.Size[1], in[2]}, nil
}

func (*UpSampling2D) Params([]int) int { return 0 }

func (l *UpSampling2D) Build(_ *Builder, x *graph.Node) *graph.Node {
	if l.Interpolation == "bilinear" {
		return upsampleLinear(upsampleLinear(x, 1, l.Size[0]), 2, l.Size[1])
	}
	d := x.Shape().Dimensions
	x = graph.Reshape(x, d[0], d[1], 1, d[2], 1, d[3])
	x = graph.BroadcastToDims(x, d[0], d[1], l.Size[0], d[2], l.Size[1], d[3])
	return graph.Reshape(x, d[0], d[1]*l.Size[0], d[2]*l.Size[1], d[3])
}

// UpSampling1D is Keras' UpSampling1D.
type UpSampling1D struct {
	Size int `pipe:"size,min=1,max=1000000" doc:"times each step is repeated"`
}

func (l *UpSampling1D) OutputShape(in []int) ([]int, error) {
	if err := sequence(in); err != nil {
		return nil, err
	}
	return []int{in[0] * l.Size, in[1]}, nil
}

func (*UpSampling1D) Params([]int) int { return 0 }

func (l *UpSampling1D) Build(_ *Builder, x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	x = graph.BroadcastToDims(graph.Reshape(x, d[0], d[1], 1, d[2]), d[0], d[1], l.Size, d[2])
	return graph.Reshape(x, d[0], d[1]*l.Size, d[2])
}

// upsampleLinear enlarges axis of x by the whole factor s with linear
// interpolation at half-pixel centres (tf.image.resize's bilinear, and
// PyTorch's interpolate with align_corners=False): output o reads the
// input at (o + 0.5) / s - 0.5, clamped to the first and last positions.
// The output at i*s + k, phase k, is the same blend of inputs i+d and
// i+d+1 for every i, so each phase is two shifted slices of the input with
// its edges repeated, and the phases interleave by a stack and a reshape:
// two reads per output, where a dense interpolation matrix would read the
// whole axis, and gradients that are slices and pads.
func upsampleLinear(x *graph.Node, axis, s int) *graph.Node {
	if s == 1 {
		return x
	}
	n := x.Shape().Dimensions[axis]
	first, last := graph.SliceAxis(x, axis, graph.AxisElem(0)), graph.SliceAxis(x, axis, graph.AxisElem(n-1))
	edged := graph.Concatenate([]*graph.Node{first, x, last}, axis) // edged[j] = x[clamp(j-1)]
	phases := make([]*graph.Node, s)
	for k := range phases {
		src := (float64(k)+0.5)/float64(s) - 0.5 // in [-0.5, 0.5)
		d := int(math.Floor(src))                // -1 or 0
		f := src - float64(d)
		lo := graph.SliceAxis(edged, axis, graph.AxisRange(d+1, d+1+n))
		if f == 0 {
			phases[k] = lo
			continue
		}
		hi := graph.SliceAxis(edged, axis, graph.AxisRange(d+2, d+2+n))
		phases[k] = graph.Add(graph.MulScalar(lo, 1-f), graph.MulScalar(hi, f))
	}
	y := graph.Stack(phases, axis+1)
	dims := x.Shape().Clone().Dimensions
	dims[axis] *= s
	return graph.Reshape(y, dims...)
}
