package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/spec"
)

// augmentSpec is the course CNN on CIFAR-10 (dropout twice, shards: 2,
// shuffled batches) with per-channel standardisation and the CIFAR
// augmentation recipe; augment replaces the train.augment list.
func augmentSpec(augment string) string {
	return `name: cifar10_augment
seed: 7
data:
  loader: cifar10
  train_limit: 256
  test_limit: 64
  transforms:
    - scale: {divide: 255}
    - standardize: {per: channel}
    - one_hot: {classes: 10}
model:
  input: {shape: [32, 32, 3]}
  layers:
    - conv2d: {filters: 3, kernel: 5, activation: relu}
    - conv2d: {filters: 3, kernel: 5, activation: relu}
    - max_pool2d: {pool: 2}
    - dropout: {rate: 0.25}
    - flatten
    - dense: {units: 32, activation: relu}
    - dropout: {rate: 0.5}
    - dense: {units: 10, activation: softmax}
train:
  loss: categorical_crossentropy
  optimizer: {name: adam}
  batch_size: 64
  shards: 2
  epochs: 3
  augment: ` + augment + `
evaluate: [loss, accuracy]
`
}

const cifarAugment = `[{random_flip: {mode: horizontal}}, {random_crop: {padding: 4}}, {random_translation: {height_factor: 0.1, width_factor: 0.1, fill_mode: nearest}}]`

// augmentPlan loads augmentSpec(augment) from a file (loadSpec), so that
// errors and run directories have a spec file.
func augmentPlan(t *testing.T, augment string, sets ...string) *Plan {
	t.Helper()
	return loadSpec(t, "cifar10_augment.yaml", augmentSpec(augment), sets...)
}

func TestAugmentCompileErrors(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
	}{
		{"not images", `name: x
data:
  loader: mnist
  transforms: [{scale: {divide: 255}}]
model:
  input: {shape: [28, 28]}
  layers: [flatten, {dense: {units: 10, activation: softmax}}]
train:
  loss: sparse_categorical_crossentropy
  optimizer: {name: sgd}
  augment:
    - random_flip: {}
`, "x.yaml:12:7: train.augment[0]: random_flip: augmentation needs images, float32 examples of shape (height, width, channels), got float32[28 28]"},
		{"unknown", strings.Replace(augmentSpec("[{random_rotation: {}}]"), "name: cifar10_augment", "name: x", 1), `train.augment[0]`},
		{"no move", strings.Replace(augmentSpec("[{random_translation: {fill_mode: wrap}}]"), "name: cifar10_augment", "name: x", 1), "train.augment[0]: random_translation: height_factor and width_factor are both 0"},
	} {
		s, err := spec.Parse("x.yaml", []byte(c.src))
		if err == nil {
			_, err = Compile(s)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestAugmentedBatch checks that a step's augmentation is a function of
// the seed, the epoch and the step, runs after the batch transforms (on
// the floats the model takes) and leaves the split, its bytes as stored,
// as it was.
func TestAugmentedBatch(t *testing.T) {
	p := augmentPlan(t, cifarAugment)
	const n, size = 6, 32 * 32 * 3
	split := data.Split{
		X: data.Array{Schema: p.StoredX, Bytes: make([]uint8, n*size)},
		Y: data.Array{Schema: p.StoredY, Int: []int32{0, 1, 2, 3, 4, 5}},
	}
	if split.X.DType != data.Uint8 || split.Y.DType != data.Int32 {
		t.Fatalf("stored examples %s -> %s; want the loader's bytes and labels", p.StoredX, p.StoredY)
	}
	for i := range split.X.Bytes {
		split.X.Bytes[i] = uint8(i % 251)
	}
	if err := p.fitBatchSteps(&split); err != nil { // standardize
		t.Fatal(err)
	}
	before := slices.Clone(split.X.Bytes)
	idx := []int{4, 1, 5}
	batch := func(epoch, step int) data.Array {
		x, y, err := p.augmentedBatch(&split, idx, p.augmentRand(epoch, step))
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() != 3 || !slices.Equal(x.Shape, []int{32, 32, 3}) || x.DType != data.Float32 || y.Len() != 3 || y.DType != data.Float32 {
			t.Fatalf("batch of %d %s -> %d %s", x.Len(), x.Schema, y.Len(), y.Schema)
		}
		for k, i := range idx {
			want := make([]float32, 10)
			want[i] = 1 // example i is of class i
			if got := y.Float[k*10 : (k+1)*10]; !slices.Equal(got, want) {
				t.Errorf("label %d of the batch is %v, not example %d's class one-hot", k, got, i)
			}
		}
		return x
	}
	a, again := batch(2, 3), batch(2, 3)
	if !slices.Equal(a.Float, again.Float) {
		t.Error("the same seed, epoch and step gave two batches")
	}
	for _, other := range []data.Array{batch(3, 3), batch(2, 4)} {
		if slices.Equal(a.Float, other.Float) {
			t.Error("another epoch or step gave the same batch")
		}
	}
	if !slices.Equal(split.X.Bytes, before) {
		t.Error("augmentation changed the split")
	}
	plain, _, err := p.batch(&split, idx)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range idx {
		if slices.Equal(a.Float[k*size:(k+1)*size], plain.Float[k*size:(k+1)*size]) {
			t.Errorf("image %d of the batch is example %d unchanged", k, i)
		}
	}
}

// TestAugmentResume interrupts a run with augmentation in epoch 2,
// resumes it, and checks that every epoch's metrics equal those of the
// uninterrupted run bit for bit; and that augmentation changes training
// but not evaluation.
func TestAugmentResume(t *testing.T) {
	dataDir := testdata.Dir(t, "cifar10")
	p := augmentPlan(t, cifarAugment)
	plain := augmentPlan(t, "[]")
	backend, ds := goBackendData(t, p, dataDir)
	// The data is stored as bytes; plain's standardize, a batch step,
	// takes the statistics p fitted on it.
	if err := plain.setFitted(plain.Steps, p.fittedState(p.Steps)); err != nil {
		t.Fatal(err)
	}
	const epochs = 3

	// Untrained, the two models measure the same on the test split.
	m, _ := NewModel(p, backend)
	m0, _ := NewModel(plain, backend)
	e1, err1 := m.Evaluate(&ds.Test)
	e0, err0 := m0.Evaluate(&ds.Test)
	if err := errors.Join(err1, err0); err != nil || !reflect.DeepEqual(e1, e0) {
		t.Fatalf("evaluation with augmentation %v, without %v (%v)", e1, e0, err)
	}
	want, err := m.Fit(&ds.Train, &ds.Test, epochs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := m0.Fit(&ds.Train, &ds.Test, epochs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(want.Series("loss"), without.Series("loss")) {
		t.Error("augmentation did not change the training loss")
	}

	checkResume(t, p, backend, ds, want, 2, 1, nil)
}

// TestAugmentRun runs a spec with augmentation, dropout, shuffling and
// standardize through Run, and checks the run directory: augment.png,
// fitted.json holding the training split's per-channel statistics, and
// predict on a training image giving the model's output for it.
func TestAugmentRun(t *testing.T) {
	dataDir := testdata.Dir(t, "cifar10")
	p := augmentPlan(t, cifarAugment, "train.epochs=1")
	opt := Options{DataDir: dataDir, RunsDir: t.TempDir()}
	res, err := Run(p, opt)
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(filepath.Join(res.Dir, rundir.AugmentPlot))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// rundir's image grid: 10-pixel margins, a title line and a line of
	// column titles (16 pixels each), images 4 times their size 6 pixels
	// apart: two columns ("original", "augmented") of 128 pixels, eight
	// rows of 128.
	const margin, top, side, gap = 10, 10 + 2*16 + 6, 4 * 32, 6
	if b := img.Bounds(); b.Dx() != 2*margin+2*side+gap || b.Dy() != 2*margin+2*16+8*(side+gap) {
		t.Fatalf("augment.png is %dx%d", b.Dx(), b.Dy())
	}
	// Each row: the original on the left, its augmented copy on the
	// right, not blank, and (the recipe moves every image) not the same.
	for r := range 8 {
		y0 := top + r*(side+gap)
		same, flat := true, true
		for y := y0; y < y0+side; y++ {
			for x := margin; x < margin+side; x++ {
				o, a := img.At(x, y), img.At(x+side+gap, y)
				same = same && o == a
				flat = flat && o == img.At(margin, y0)
			}
		}
		if same || flat {
			t.Errorf("augment.png row %d: augmented the same as the original %v, original of one colour %v", r, same, flat)
		}
	}

	// The statistics: those of the whole training split (50,000 images,
	// before train_limit), not of the test split.
	raw, err := (&loaders.CIFAR10{}).Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq [3]float64
	for i, v := range raw.Train.X.Bytes {
		sum[i%3] += float64(float32(v) / 255)
	}
	count := float64(raw.Train.X.Len() * 32 * 32)
	for i, v := range raw.Train.X.Bytes {
		d := float64(float32(v)/255) - sum[i%3]/count
		sq[i%3] += d * d
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, rundir.FittedFile))
	if err != nil {
		t.Fatal(err)
	}
	var fitted map[string]struct{ Mean, Std []float32 }
	if err := json.Unmarshal(b, &fitted); err != nil {
		t.Fatal(err)
	}
	st := fitted["data.transforms[1]"]
	if len(st.Mean) != 3 || len(st.Std) != 3 {
		t.Fatalf("fitted.json: %s", b)
	}
	for c := range 3 {
		mean, std := sum[c]/count, math.Sqrt(sq[c]/count)
		if math.Abs(float64(st.Mean[c])-mean) > 1e-6 || math.Abs(float64(st.Std[c])-std) > 1e-6 {
			t.Errorf("channel %d: fitted mean %v std %v, the training split's %v %v", c, st.Mean[c], st.Std[c], mean, std)
		}
	}

	// Predict on training image 0, as a PNG, against the model's output
	// for the example as training preprocessed it.
	rgba := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			px := raw.Train.X.Bytes[(y*32+x)*3:]
			rgba.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, rgba)
	input := filepath.Join(t.TempDir(), "train0.png")
	os.WriteFile(input, buf.Bytes(), 0o644)
	_, preds, err := PredictRun(res.Dir, []string{input}, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	run, q, err := OpenRun(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := q.loadModel(run, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.backend.Finalize()
	ds, closer, err := q.Data(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	one := ds.Train.Slice(0, 1)
	want, err := m.Outputs(&one)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(preds[0].Outputs, want) {
		t.Errorf("predict on training image 0: %v, the model's output %v", preds[0].Outputs, want)
	}
}

// TestFittedCache checks that a cache entry keeps the statistics of the
// transforms fitted on the training split before the batch steps (here
// standardize, which the plan runs on batches, stands in for one), and
// hands them to a plan that reads the entry instead of fitting.
func TestFittedCache(t *testing.T) {
	p, q := augmentPlan(t, "[]"), augmentPlan(t, "[]")
	x := data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{1, 1, 3}}, Float: []float32{0, 1, 2, 2, 3, 6}}
	ds := &data.Dataset{Train: data.Split{X: x, Y: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{}}, Float: []float32{0, 1}}}}
	ds.Test = ds.Train
	if err := loaders.Apply(p.Steps[1:2], ds); err != nil { // standardize
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "entry")
	key := cacheKey{Format: cacheFormat, Loader: "test"}
	if err := writeCache(dir, key, ds, p.fittedState(p.Steps[1:2])); err != nil {
		t.Fatal(err)
	}
	_, closer, err := readCache(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
	if err := q.setFitted(q.Steps[1:2], cacheFitted(dir)); err != nil {
		t.Fatal(err)
	}
	pm, ps := p.Steps[1].Transform.(*loaders.Standardize).Stats()
	qm, qs := q.Steps[1].Transform.(*loaders.Standardize).Stats()
	if !slices.Equal(pm, []float32{1, 2, 4}) || !slices.Equal(pm, qm) || !slices.Equal(ps, qs) {
		t.Errorf("fitted mean %v std %v; from the cache %v %v", pm, ps, qm, qs)
	}
	if err := q.setFitted(q.Steps[1:2], nil); err == nil {
		t.Error("an entry without fitted statistics was taken")
	}
}
