package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
)

// ReconstructionsArrow is the Arrow file of the reconstructions that
// WriteReconstructions writes beside their PNG files.
const ReconstructionsArrow = "reconstructions.arrow"

// gridRows is how many test examples reconstructions.png shows.
const gridRows = 8

// reconstructs reports whether the main output is compared with the
// input (an autoencoder): its outputs are no per-example class or value.
func (p *Plan) reconstructs() bool {
	return len(p.Heads) > 0 && p.Heads[0].Target == "input"
}

// ReconstructsImages reports whether the model reconstructs images: its
// main output is compared with the input, the loader's inputs are images
// (byte or float pixels of shape [height, width] or [height, width, 1 or
// 3]) and
// the output holds as many values as one image. It returns the image's
// height, width and channels.
func (p *Plan) ReconstructsImages() (h, w, c int, ok bool) {
	if !p.reconstructs() {
		return 0, 0, 0, false
	}
	dec, isDec := p.Loader.(loaders.InputDecoder)
	if !isDec || dec.InputKind().Text || dec.InputKind().File {
		return 0, 0, 0, false
	}
	raw, _ := p.Loader.Schemas()
	switch s := raw.Shape; {
	case raw.DType != data.Uint8 && raw.DType != data.Float32:
		return 0, 0, 0, false
	case len(s) == 2:
		h, w, c = s[0], s[1], 1
	case len(s) == 3 && (s[2] == 1 || s[2] == 3):
		h, w, c = s[0], s[1], s[2]
	default:
		return 0, 0, 0, false
	}
	if h < 1 || w < 1 || shapeSize(p.Output()) != h*w*c {
		return 0, 0, 0, false
	}
	return h, w, c, true
}

// pixelScale maps a value of the model's input space back to the loader's
// pixel: pixel = v*mul + add, undoing the spec's scale steps on x (the
// other transforms that reach images, reshape and noise, keep the scale).
func (p *Plan) pixelScale() (mul, add float32) {
	mul = 1
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if s, ok := p.Steps[i].Transform.(*loaders.Scale); ok && s.On == "x" {
			mul, add = mul*float32(s.Divide), add*float32(s.Divide)+float32(s.Subtract)
		}
	}
	return mul, add
}

// image is one example's values (the model's input space) as an image of
// pixels, for a plan that ReconstructsImages.
func (p *Plan) image(v []float32) rundir.Image {
	h, w, c, _ := p.ReconstructsImages()
	mul, add := p.pixelScale()
	px := make([]float32, len(v))
	for i, x := range v {
		px[i] = x*mul + add
	}
	return rundir.Image{Height: h, Width: w, Channels: c, Pix: px}
}

// reconstructionGrid is reconstructions.png's first test examples: the
// model's input (noisy, under a noise transform), its reconstruction and,
// under noise, the clean target. nil when the model does not reconstruct
// images.
func (p *Plan) reconstructionGrid(test *data.Split, outputs []float32) *rundir.ImageGrid {
	h, w, c, ok := p.ReconstructsImages()
	size := h * w * c
	n := min(gridRows, test.Len())
	if !ok || n == 0 || len(outputs) < n*size {
		return nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x, y, err := p.batch(test, idx) // as the model saw them
	if err != nil || len(x.Float) < n*size {
		return nil
	}
	g := &rundir.ImageGrid{Columns: []string{"input", "reconstruction"}}
	clean := p.InputInY && len(y.Float) >= n*size
	if clean {
		g.Columns = []string{"noisy input", "reconstruction", "clean target"}
	}
	for i := range n {
		at := func(v []float32) []float32 { return v[i*size : (i+1)*size] }
		row := []rundir.Image{p.image(at(x.Float)), p.image(at(outputs))}
		if clean {
			row = append(row, p.image(at(y.Float)))
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

// WriteReconstructions writes predictions of a run that ReconstructsImages
// (PredictRun's) into the folder dir, made when missing: one PNG per
// input, named for it (digit.png for digit.png or digit.jpg, stdin.png
// for stdin), and ReconstructionsArrow with the values the model gave
// (its input's space, e.g. 0..1). It never replaces a file: when one of
// the names exists, nothing is written. It returns the paths written.
func (p *Plan) WriteReconstructions(dir string, preds []Prediction) ([]string, error) {
	h, w, c, ok := p.ReconstructsImages()
	if !ok {
		return nil, &PredictError{fmt.Errorf("the model of %s does not reconstruct images (train.target: input on image data): -o has nothing to write", p.Name)}
	}
	names := make([]string, len(preds))
	files := make([]string, len(preds))
	used := map[string]bool{ReconstructionsArrow: true}
	out := data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{h, w, c}}}
	for i, pr := range preds {
		if len(pr.Outputs) != h*w*c {
			return nil, fmt.Errorf("%s: the model gave %d values for a %dx%dx%d image", pr.Input, len(pr.Outputs), h, w, c)
		}
		names[i] = pr.Input
		stem := strings.TrimSuffix(filepath.Base(pr.Input), filepath.Ext(pr.Input))
		file := stem + ".png"
		for k := 2; used[file]; k++ {
			file = fmt.Sprintf("%s-%d.png", stem, k)
		}
		used[file] = true
		files[i] = filepath.Join(dir, file)
		out.Float = append(out.Float, pr.Outputs...)
	}
	arrowPath := filepath.Join(dir, ReconstructionsArrow)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, &PredictError{fmt.Errorf("-o %s: %w", dir, err)}
	}
	for _, f := range append([]string{arrowPath}, files...) {
		if _, err := os.Lstat(f); err == nil {
			return nil, &PredictError{fmt.Errorf("%s exists: pipe predict does not overwrite files; give -o a new or empty folder", f)}
		}
	}
	// The Arrow file is written beside its name and linked into place, so
	// that a file made there meanwhile is not replaced either.
	tmp, err := os.CreateTemp(dir, ".reconstructions-*.arrow")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := arrowio.WriteOutputs(tmp.Name(), names, "reconstruction", &out); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), arrowPath); err != nil {
		return nil, overwriteError(err)
	}
	written := []string{arrowPath}
	for i, pr := range preds {
		b, err := rundir.EncodePNG(p.image(pr.Outputs))
		if err == nil {
			err = rundir.WriteNew(files[i], b)
		}
		if err != nil {
			return written, overwriteError(err)
		}
		written = append(written, files[i])
	}
	return written, nil
}

// overwriteError is err, a PredictError when a file was in the way.
func overwriteError(err error) error {
	if errors.Is(err, os.ErrExist) {
		return &PredictError{err}
	}
	return err
}
