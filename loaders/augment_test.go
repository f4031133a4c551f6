package loaders

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

// img3x4 is a 3x4 image of 2 channels whose values say where they are:
// 100*y + 10*x + c.
func img3x4() ([]float32, Image) {
	im := Image{H: 3, W: 4, C: 2}
	v := make([]float32, 0, 24)
	for y := range im.H {
		for x := range im.W {
			for c := range im.C {
				v = append(v, float32(100*y+10*x+c))
			}
		}
	}
	return v, im
}

// at reads pixel (y, x), channel c.
func at(v []float32, im Image, y, x, c int) float32 { return v[(y*im.W+x)*im.C+c] }

func TestFlip(t *testing.T) {
	v, im := img3x4()
	FlipHorizontal(v, im)
	for y := range im.H {
		for x := range im.W {
			for c := range im.C {
				if got, want := at(v, im, y, x, c), float32(100*y+10*(im.W-1-x)+c); got != want {
					t.Fatalf("horizontal flip: (%d,%d,%d) = %v, want %v", y, x, c, got, want)
				}
			}
		}
	}
	v, _ = img3x4()
	FlipVertical(v, im)
	for y := range im.H {
		for x := range im.W {
			if got, want := at(v, im, y, x, 1), float32(100*(im.H-1-y)+10*x+1); got != want {
				t.Fatalf("vertical flip: (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
	// random_flip horizontal never flips upside down, and flips about half.
	flip := &RandomFlip{Mode: "horizontal"}
	r := rand.New(rand.NewPCG(1, 2))
	orig, _ := img3x4()
	flipped := 0
	for range 200 {
		v, _ := img3x4()
		scratch := make([]float32, len(v))
		flip.Apply(v, scratch, im, r)
		if !slices.Equal(v, orig) {
			flipped++
			FlipHorizontal(v, im)
			if !slices.Equal(v, orig) {
				t.Fatal("random_flip horizontal did something else than a horizontal flip")
			}
		}
	}
	if flipped < 70 || flipped > 130 {
		t.Errorf("flipped %d of 200", flipped)
	}
}

func TestShiftFillModes(t *testing.T) {
	_, im := img3x4()
	// Moved right by 2 and up by 1: output(y, x) = input(y+1, x-2).
	for _, c := range []struct {
		mode string
		col  []int // the source column of output columns 0..3 (-1: fill)
		row  []int // the source row of output rows 0..2
	}{
		{"constant", []int{-1, -1, 0, 1}, []int{1, 2, -1}},
		{"nearest", []int{0, 0, 0, 1}, []int{1, 2, 2}},
		{"reflect", []int{1, 0, 0, 1}, []int{1, 2, 2}}, // (b a | a b c d | d c)
		{"wrap", []int{2, 3, 0, 1}, []int{1, 2, 0}},
	} {
		v, _ := img3x4()
		Shift(v, make([]float32, len(v)), im, -1, 2, c.mode, -7)
		for y := range im.H {
			for x := range im.W {
				want := float32(-7)
				if c.row[y] >= 0 && c.col[x] >= 0 {
					want = float32(100*c.row[y] + 10*c.col[x] + 1)
				}
				if got := at(v, im, y, x, 1); got != want {
					t.Errorf("%s: (%d,%d) = %v, want %v", c.mode, y, x, got, want)
				}
			}
		}
	}
}

func TestRandomCropIsAWholeShift(t *testing.T) {
	v, im := img3x4()
	orig := slices.Clone(v)
	crop := &RandomCrop{Padding: 1, FillMode: "constant"}
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[[2]int]bool{}
	for range 100 {
		copy(v, orig)
		crop.Apply(v, make([]float32, len(v)), im, r)
		// Find the shift: the value at an inside pixel says where it came from.
		found := false
		for dy := -1; dy <= 1 && !found; dy++ {
			for dx := -1; dx <= 1 && !found; dx++ {
				w := slices.Clone(orig)
				Shift(w, make([]float32, len(w)), im, dy, dx, "constant", 0)
				if slices.Equal(v, w) {
					found, seen[[2]int{dy, dx}] = true, true
				}
			}
		}
		if !found {
			t.Fatalf("random_crop gave %v, no shift by at most 1 pixel", v)
		}
	}
	if len(seen) != 9 {
		t.Errorf("random_crop with padding 1 drew %d of the 9 offsets in 100 tries", len(seen))
	}
}

func TestTranslate(t *testing.T) {
	v, im := img3x4()
	// A whole move is exact.
	w := slices.Clone(v)
	Translate(v, make([]float32, len(v)), im, 1, -1, "constant", 0, "bilinear")
	Shift(w, make([]float32, len(w)), im, 1, -1, "constant", 0)
	if !slices.Equal(v, w) {
		t.Errorf("whole translation %v, shift %v", v, w)
	}
	// Half a pixel right: the mean of a pixel and its left neighbour;
	// column 0 reads column -1, the fill (nearest: column 0 itself).
	for _, mode := range []string{"constant", "nearest"} {
		v, _ = img3x4()
		Translate(v, make([]float32, len(v)), im, 0, 0.5, mode, 0, "bilinear")
		for y := range im.H {
			left := float32(0)
			if mode == "nearest" {
				left = float32(100 * y)
			}
			if got, want := at(v, im, y, 0, 0), 0.5*left+0.5*float32(100*y); got != want {
				t.Errorf("%s: (%d,0) = %v, want %v", mode, y, got, want)
			}
			for x := 1; x < im.W; x++ {
				if got, want := at(v, im, y, x, 0), float32(100*y+10*x-5); got != want {
					t.Errorf("%s: (%d,%d) = %v, want %v", mode, y, x, got, want)
				}
			}
		}
	}
	// Nearest interpolation rounds the move: 0.6 down is 1 down.
	v, _ = img3x4()
	w = slices.Clone(v)
	Translate(v, make([]float32, len(v)), im, 0.6, 0, "reflect", 0, "nearest")
	Shift(w, make([]float32, len(w)), im, 1, 0, "reflect", 0)
	if !slices.Equal(v, w) {
		t.Errorf("nearest 0.6 down %v, shift by 1 %v", v, w)
	}
	// The drawn moves stay within the factors: a constant image stays
	// constant inside the frame with reflect.
	tr := &RandomTranslation{HeightFactor: 0.5, WidthFactor: 0.25, FillMode: "reflect", Interpolation: "bilinear"}
	if err := (&RandomTranslation{}).Validate(); err == nil {
		t.Error("a translation by 0 x 0 was accepted")
	}
	r := rand.New(rand.NewPCG(5, 6))
	flat := slices.Repeat([]float32{3}, 24)
	tr.Apply(flat, make([]float32, 24), im, r)
	for _, x := range flat {
		if math.Abs(float64(x-3)) > 1e-6 {
			t.Fatalf("a constant image translated with reflect gave %v", flat)
		}
	}
}

func TestStandardize(t *testing.T) {
	// Two examples of 1x2 pixels, 2 channels; the test split differs.
	ds := &data.Dataset{
		Train: data.Split{X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{1, 2, 2}}, Float: []float32{1, 10, 3, 10, 5, 30, 7, 30}}},
		Test:  data.Split{X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{1, 2, 2}}, Float: []float32{100, 100, 100, 100}}},
	}
	s := &Standardize{Per: "channel"}
	if _, err := s.Apply(ds.Test.X); err == nil {
		t.Error("an unfitted standardize applied")
	}
	if err := s.ApplyDataset(ds); err != nil {
		t.Fatal(err)
	}
	// Channel 0: 1 3 5 7, mean 4, std sqrt(5); channel 1: 10 10 30 30, mean 20, std 10.
	r5 := float32(math.Sqrt(5))
	want := []float32{-3 / r5, -1, -1 / r5, -1, 1 / r5, 1, 3 / r5, 1}
	if !slices.Equal(ds.Train.X.Float, want) {
		t.Errorf("train %v, want %v", ds.Train.X.Float, want)
	}
	if want := []float32{96 / r5, 8, 96 / r5, 8}; !slices.Equal(ds.Test.X.Float, want) {
		t.Errorf("test %v, want %v (the training statistics)", ds.Test.X.Float, want)
	}
	var st standardFit
	if err := json.Unmarshal(s.Fitted(), &st); err != nil || !slices.Equal(st.Mean, []float32{4, 20}) || !slices.Equal(st.Std, []float32{r5, 10}) {
		t.Errorf("fitted %s (%v)", s.Fitted(), err)
	}
	// Restored in another transform, the same numbers on a new input.
	s2 := &Standardize{Per: "channel"}
	if err := s2.Restore(s.Fitted()); err != nil {
		t.Fatal(err)
	}
	in := data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{1, 2, 2}}, Float: []float32{4, 20, 4, 0}}
	out, err := s2.Apply(in)
	if err != nil || !slices.Equal(out.Float, []float32{0, 0, 0, -2}) {
		t.Errorf("restored: %v (%v)", out.Float, err)
	}
	if err := (&Standardize{Per: "pixel"}).Restore(s.Fitted()); err == nil {
		t.Error("per-channel statistics restored into per: pixel")
	}
	// Per pixel: one mean per feature; a constant feature divides by 1.
	// Fitted a chunk at a time, as a batch transform is: one example, then
	// the other.
	ds.Train.X.Float = []float32{1, 10, 3, 10, 5, 30, 7, 30}
	p := &Standardize{Per: "pixel"}
	chunks := func(visit func(data.Array) error) error {
		for i := range 2 {
			if err := visit(ds.Train.X.Slice(i, i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := p.Fit(chunks); err != nil {
		t.Fatal(err)
	}
	if m, sd := p.Stats(); !slices.Equal(m, []float32{3, 20, 5, 20}) || !slices.Equal(sd, []float32{2, 10, 2, 10}) {
		t.Errorf("per pixel: mean %v std %v", m, sd)
	}
	if _, err := p.OutSchema(data.Schema{DType: data.Int32, Shape: []int{3}}); err == nil {
		t.Error("standardize took integer features")
	}
}
