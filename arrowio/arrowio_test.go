package arrowio

import (
	"github.com/pipe-ml/pipe/internal/testdata"

	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pipe-ml/pipe/data"
)

// equateSplits treats nil and empty slices alike: a scalar shape is nil in
// memory and [] in the file.
var equateSplits = cmpopts.EquateEmpty()

// fixedSplit: float32 examples of shape [2,3], int32 labels of 4 classes.
func fixedSplit() data.Split {
	const n = 5
	x := make([]float32, n*6)
	for i := range x {
		x[i] = float32(i)*0.5 - 3
	}
	x[7] = float32(math.Inf(-1))
	x[8] = float32(math.NaN())
	return data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{2, 3}}, Float: x},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Classes: 4}, Int: []int32{0, 3, 1, 2, 3}},
	}
}

// raggedSplit: int32 token sequences of varying length (one empty), with
// float32 0/1 labels.
func raggedSplit() data.Split {
	return data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}},
			Int:     []int32{1, 14, 22, 16, 43, 530, 973, 4999},
			Offsets: []int{0, 3, 3, 7, 8}},
		Y: data.Array{Schema: data.Schema{DType: data.Float32}, Float: []float32{1, 0, 0, 1}},
	}
}

// byteSplit: uint8 images of shape [2,2,3] (pixels as loaders keep them),
// int32 labels of 10 classes.
func byteSplit() data.Split {
	const n = 3
	x := make([]uint8, n*12)
	for i := range x {
		x[i] = uint8(i * 23) // wraps: every byte value class, 0 and 255 among them
	}
	x[5] = 255
	return data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Uint8, Shape: []int{2, 2, 3}}, Bytes: x},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Classes: 10}, Int: []int32{6, 9, 0}},
	}
}

// raggedBytes: byte sequences of varying length, 1-byte values whose
// offsets the writer and reader must not scale by 4.
func raggedBytes() data.Split {
	return data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Uint8, Shape: []int{-1}}, Bytes: []uint8{1, 2, 3, 250, 5}, Offsets: []int{0, 1, 4, 4, 5}},
		Y: data.Array{Schema: data.Schema{DType: data.Float32}, Float: []float32{1, 0, 0, 1}},
	}
}

func writeTemp(t testing.TB, s *data.Split) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "split.arrow")
	if err := WriteSplit(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

func readBack(t *testing.T, path string) data.Split {
	t.Helper()
	got, closer, err := ReadSplit(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := closer.Close(); err != nil {
			t.Error(err)
		}
	})
	return got
}

func TestArrowSplitRoundTrip(t *testing.T) {
	// A ragged column whose offsets do not start at 0, as a view into a
	// larger slice would have: the file holds just the examples' values.
	offset := raggedSplit()
	offset.X.Int = append([]int32{-7, -8}, offset.X.Int...)
	for i := range offset.X.Offsets {
		offset.X.Offsets[i] += 2
	}
	for name, c := range map[string]struct{ in, want data.Split }{
		"fixed float32 [2,3], int32 labels with classes": {fixedSplit(), fixedSplit()},
		"ragged int32 sequences":                         {raggedSplit(), raggedSplit()},
		"ragged with leading values":                     {offset, raggedSplit()},
		"uint8 images":                                   {byteSplit(), byteSplit()},
		"ragged uint8":                                   {raggedBytes(), raggedBytes()},
		"ragged uint8 with leading values": {
			func() data.Split { s := raggedBytes(); s.X = s.X.Slice(1, 4); s.Y = s.Y.Slice(1, 4); return s }(),
			data.Split{X: data.Array{Schema: data.Schema{DType: data.Uint8, Shape: []int{-1}}, Bytes: []uint8{2, 3, 250, 5}, Offsets: []int{0, 3, 3, 4}},
				Y: data.Array{Schema: data.Schema{DType: data.Float32}, Float: []float32{0, 0, 1}}},
		},
		"empty": {
			data.Split{X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{3}}},
				Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}}, Offsets: []int{0}}},
			data.Split{X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{3}}},
				Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}}, Offsets: []int{0}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := readBack(t, writeTemp(t, &c.in))
			// NaN != NaN: compare bit patterns.
			if d := cmp.Diff(c.want, got, equateSplits, cmp.Comparer(func(a, b float32) bool {
				return math.Float32bits(a) == math.Float32bits(b)
			})); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
			if got.Len() != c.want.Len() || got.Y.Len() != c.want.Y.Len() {
				t.Errorf("Len %d/%d, want %d", got.Len(), got.Y.Len(), c.want.Len())
			}
		})
	}
}

// within reports whether the data of s lies inside mem.
func within[T any](s []T, mem []byte) bool {
	if len(s) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	end := p + uintptr(len(s))*unsafe.Sizeof(s[0])
	return p >= lo && end <= lo+uintptr(len(mem))
}

func TestArrowSplitZeroCopy(t *testing.T) {
	for name, s := range map[string]data.Split{"fixed": fixedSplit(), "ragged": raggedSplit()} {
		t.Run(name, func(t *testing.T) {
			path := writeTemp(t, &s)
			got, closer, err := ReadSplit(path)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := closer.(*arrowMapping)
			if !ok {
				t.Fatalf("closer %T; want the mapping of a zero-copy read", closer)
			}
			for col, a := range map[string]data.Array{"x": got.X, "y": got.Y} {
				if !within(a.Float, m.data) && !within(a.Int, m.data) {
					t.Errorf("column %s was copied out of the mapping", col)
				}
				if cap(a.Float) != len(a.Float) || cap(a.Int) != len(a.Int) {
					t.Errorf("column %s: capacity runs past the column, so append would write into the mapping", col)
				}
			}
			// The mapping is copy-on-write: writing the slices leaves the file alone.
			before, _ := os.ReadFile(path)
			if got.X.Float != nil {
				got.X.Float[0] = 12345
			} else {
				got.X.Int[0] = 12345
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("writing into the split changed the file")
			}
			if err := closer.Close(); err != nil {
				t.Fatal(err)
			}
			if err := closer.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// rewriteBatches rewrites the split file at path with its rows cut into
// record batches at cuts, as another Arrow writer might.
func rewriteBatches(t *testing.T, path string, cuts ...int64) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.RecordBatch(0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "batches.arrow")
	g, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	w, err := ipc.NewFileWriter(g, ipc.WithSchema(r.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	from := int64(0)
	for _, to := range append(cuts, rec.NumRows()) {
		part := rec.NewSlice(from, to)
		if err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		part.Release()
		from = to
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestArrowSplitMultipleBatches(t *testing.T) {
	for name, s := range map[string]data.Split{"fixed": fixedSplit(), "ragged": raggedSplit(), "uint8": byteSplit(), "ragged uint8": raggedBytes()} {
		t.Run(name, func(t *testing.T) {
			path := rewriteBatches(t, writeTemp(t, &s), 1, 3)
			got, closer, err := ReadSplit(path)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			if _, ok := closer.(*arrowMapping); ok {
				t.Error("a multi-batch file should be copied and unmapped at once")
			}
			if d := cmp.Diff(s, got, equateSplits, cmpopts.EquateNaNs()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestArrowSplitWriteRefusesMalformed(t *testing.T) {
	for name, mutate := range map[string]func(*data.Split){
		"length mismatch":          func(s *data.Split) { s.Y.Int = s.Y.Int[:4] },
		"partial example":          func(s *data.Split) { s.X.Float = s.X.Float[:29] },
		"both dtypes":              func(s *data.Split) { s.X.Int = []int32{1} },
		"bytes beside floats":      func(s *data.Split) { s.X.Bytes = []uint8{1} },
		"uint8 dtype, floats held": func(s *data.Split) { s.X.DType = data.Uint8 },
		"unknown dtype":            func(s *data.Split) { s.X.DType = "float64" },
		"zero dimension":           func(s *data.Split) { s.X.Shape = []int{0, 3} },
		"ragged with a shape":      func(s *data.Split) { s.Y.Offsets = []int{0, 1, 2, 3, 4, 5} },
		"decreasing offsets":       func(s *data.Split) { *s = raggedSplit(); s.X.Offsets[2] = 1 },
		"offsets past the values":  func(s *data.Split) { *s = raggedSplit(); s.X.Offsets[4] = 9 },
		"no offsets ragged shape":  func(s *data.Split) { s.X.Shape = []int{-1} },
		"negative number of class": func(s *data.Split) { s.Y.Classes = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			s := fixedSplit()
			mutate(&s)
			path := filepath.Join(t.TempDir(), "bad.arrow")
			if err := WriteSplit(path, &s); err == nil {
				t.Error("no error")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused split left a file behind: %v", err)
			}
		})
	}
}

// readMustFail reads data as a split file and wants an error, not a panic.
func readMustFail(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, closer, err := ReadSplit(path)
	if err == nil {
		closer.Close()
		t.Errorf("%s: read %d examples without an error", name, s.Len())
	}
}

func TestArrowSplitTruncated(t *testing.T) {
	for name, s := range map[string]data.Split{"fixed": fixedSplit(), "ragged": raggedSplit()} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(writeTemp(t, &s))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, n := range []int{0, 10, len(data) / 2, len(data) - 1} {
				readMustFail(t, dir, "cut", data[:n])
			}
			// Every other length too: the file is small.
			for n := range len(data) {
				readMustFail(t, dir, "cut", data[:n])
			}
		})
	}
}

func TestArrowSplitCorrupt(t *testing.T) {
	s := fixedSplit()
	data, err := os.ReadFile(writeTemp(t, &s))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	flip := func(i int) []byte {
		c := bytes.Clone(data)
		c[i] ^= 0xFF
		return c
	}
	// Bytes that must not go unnoticed: the footer's magic and length,
	// a column name, pipe metadata values in the footer's schema.
	footerLen := int(uint32(data[len(data)-10]) | uint32(data[len(data)-9])<<8)
	footer := len(data) - 10 - footerLen
	tail := data[footer:]
	for name, i := range map[string]int{
		"closing magic":  len(data) - 1,
		"opening magic":  0,
		"footer length":  len(data) - 10,
		"shape metadata": footer + bytes.LastIndex(tail, []byte("[2,3]")) + 1,
		"dtype metadata": footer + bytes.LastIndex(tail, []byte("float32")),
		"classes value":  footer + bytes.LastIndex(tail, []byte("pipe.classes")) - 4,
		"rows metadata":  footer + bytes.LastIndex(tail, []byte("pipe.rows")) + len("pipe.rows") + 4,
	} {
		t.Run(name, func(t *testing.T) { readMustFail(t, dir, "flip", flip(i)) })
	}

	// Any single flipped byte of the footer (flatbuffer offsets, vtables,
	// lengths, types, metadata) must give an error or the same split:
	// never a panic, never different data.
	for i := footer; i < len(data); i++ {
		for _, mask := range []byte{0x01, 0x80, 0xFF} {
			c := bytes.Clone(data)
			c[i] ^= mask
			path := filepath.Join(dir, "flip")
			if err := os.WriteFile(path, c, 0o644); err != nil {
				t.Fatal(err)
			}
			got, closer, err := ReadSplit(path)
			if err != nil {
				continue
			}
			if d := cmp.Diff(s, got, equateSplits, cmpopts.EquateNaNs()); d != "" {
				t.Errorf("byte %d ^ %#x: read different data without an error:\n%s", i, mask, d)
			}
			closer.Close()
		}
	}
}

func TestArrowSplitRejectsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	// An Arrow file that is not a split: the history file.
	h := &data.History{}
	h.Add("loss", 1)
	path := filepath.Join(dir, "history.arrow")
	if err := WriteHistory(path, h); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadSplit(path); err == nil || !strings.Contains(err.Error(), "not a pipe split") {
		t.Errorf("history file read as a split: %v", err)
	}
	readMustFail(t, dir, "text", []byte("ARROW1\x00\x00 this is not an arrow file ARROW1"))
	if _, _, err := ReadSplit(filepath.Join(dir, "missing.arrow")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzReadSplitArrow: whatever the bytes, ReadSplit returns an error
// or a well-formed split; it never panics or crashes.
// Run with: go test ./pipeline/ -run '^$' -fuzz FuzzReadSplitArrow
func FuzzReadSplitArrow(f *testing.F) {
	for _, s := range []data.Split{fixedSplit(), raggedSplit()} {
		data, err := os.ReadFile(writeTemp(f, &s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.arrow")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, closer, err := ReadSplit(path)
		if err != nil {
			return
		}
		defer closer.Close()
		if _, err := checkSplit(&s); err != nil {
			t.Errorf("read a malformed split without an error: %v", err)
		}
	})
}

// readArrowFile reads every record of an Arrow IPC file with arrow-go's
// ordinary (copying) reader.
func readArrowFile(t *testing.T, path string) (*arrow.Schema, arrow.RecordBatch) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRecords() != 1 {
		t.Fatalf("%d record batches; want 1", r.NumRecords())
	}
	rec, err := r.RecordBatchAt(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Release)
	return r.Schema(), rec
}

func fieldNames(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		out = append(out, f.Name+":"+f.Type.String())
	}
	return out
}

func TestArrowPredictions(t *testing.T) {
	dir := t.TempDir()
	t.Run("classifier", func(t *testing.T) {
		rows := PredictionRows{
			Index:         []int64{0, 1, 2},
			Label:         []float32{2, 0, 1},
			Prediction:    []float32{2, 1, 1},
			Probabilities: [][]float32{{0.1, 0.2, 0.7}, {0.3, 0.6, 0.1}, {0, 1, 0}},
			ClassNames:    []string{"cat", "dog", "bird"},
		}
		path := filepath.Join(dir, "predictions.arrow")
		if err := WritePredictions(path, rows); err != nil {
			t.Fatal(err)
		}
		schema, rec := readArrowFile(t, path)
		want := []string{"index:int64", "label:float32", "prediction:float32", "probabilities:fixed_size_list<item: float32>[3]"}
		if d := cmp.Diff(want, fieldNames(schema)); d != "" {
			t.Fatalf("schema (-want +got):\n%s", d)
		}
		names, _ := schema.Field(3).Metadata.GetValue(arrowKeyClassNames)
		if names != `["cat","dog","bird"]` {
			t.Errorf("class names metadata %q", names)
		}
		if got := rec.Column(0).(*array.Int64).Int64Values(); !cmp.Equal(got, rows.Index) {
			t.Errorf("index %v", got)
		}
		if got := rec.Column(1).(*array.Float32).Float32Values(); !cmp.Equal(got, rows.Label) {
			t.Errorf("label %v", got)
		}
		if got := rec.Column(2).(*array.Float32).Float32Values(); !cmp.Equal(got, rows.Prediction) {
			t.Errorf("prediction %v", got)
		}
		probs := rec.Column(3).(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
		if want := []float32{0.1, 0.2, 0.7, 0.3, 0.6, 0.1, 0, 1, 0}; !cmp.Equal(probs, want) {
			t.Errorf("probabilities %v", probs)
		}
	})
	t.Run("regression", func(t *testing.T) {
		rows := PredictionRows{Index: []int64{0, 1}, Label: []float32{3.5, 4}, Prediction: []float32{3.25, 4.5}}
		path := filepath.Join(dir, "regression.arrow")
		if err := WritePredictions(path, rows); err != nil {
			t.Fatal(err)
		}
		schema, rec := readArrowFile(t, path)
		if d := cmp.Diff([]string{"index:int64", "label:float32", "prediction:float32"}, fieldNames(schema)); d != "" {
			t.Fatalf("schema (-want +got):\n%s", d)
		}
		if rec.NumRows() != 2 || rec.Column(2).(*array.Float32).Value(0) != 3.25 {
			t.Errorf("rows %v", rec)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for name, rows := range map[string]PredictionRows{
			"short labels":   {Index: []int64{0, 1}, Label: []float32{1}, Prediction: []float32{1, 2}},
			"ragged probs":   {Index: []int64{0, 1}, Label: []float32{1, 0}, Prediction: []float32{1, 0}, Probabilities: [][]float32{{0.5, 0.5}, {1}}},
			"names vs probs": {Index: []int64{0}, Label: []float32{1}, Prediction: []float32{1}, Probabilities: [][]float32{{0.5, 0.5}}, ClassNames: []string{"a", "b", "c"}},
		} {
			if err := WritePredictions(filepath.Join(dir, "bad.arrow"), rows); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
	})
}

func TestArrowHistory(t *testing.T) {
	h := &data.History{}
	for e := range 3 {
		h.Add("loss", 1/float64(e+3))
		h.Add("accuracy", 0.1*float64(e)+1e-17)
		h.Add("val_loss", math.Pi*float64(e))
		h.Add("val_accuracy", math.Nextafter(0.5, 1))
	}
	path := filepath.Join(t.TempDir(), "history.arrow")
	if err := WriteHistory(path, h); err != nil {
		t.Fatal(err)
	}
	schema, rec := readArrowFile(t, path)
	want := []string{"epoch:int32", "loss:float64", "accuracy:float64", "val_loss:float64", "val_accuracy:float64"}
	if d := cmp.Diff(want, fieldNames(schema)); d != "" {
		t.Fatalf("schema (-want +got):\n%s", d)
	}
	if got := rec.Column(0).(*array.Int32).Int32Values(); !cmp.Equal(got, []int32{1, 2, 3}) {
		t.Errorf("epochs %v", got)
	}
	for i := range h.Names {
		if got := rec.Column(i + 1).(*array.Float64).Float64Values(); !cmp.Equal(got, h.Values[i]) {
			t.Errorf("%s: %v, want %v", h.Names[i], got, h.Values[i])
		}
	}

	uneven := &data.History{Names: []string{"loss", "val_loss"}, Values: [][]float64{{1, 2}, {1}}}
	if err := WriteHistory(filepath.Join(t.TempDir(), "h.arrow"), uneven); err == nil {
		t.Error("series of different lengths: no error")
	}
	empty := filepath.Join(t.TempDir(), "empty.arrow")
	if err := WriteHistory(empty, &data.History{}); err != nil {
		t.Fatal(err)
	}
	if schema, rec := readArrowFile(t, empty); schema.NumFields() != 1 || rec.NumRows() != 0 {
		t.Errorf("empty history: %v, %d rows", fieldNames(schema), rec.NumRows())
	}
}

// mnistSizedSplit is a synthetic split the size of MNIST's training set
// after scaling: 60,000 x 784 float32 with int32 labels.
func mnistSizedSplit() data.Split {
	const n, size = 60000, 784
	x := make([]float32, n*size)
	for i := range x {
		x[i] = float32(i%251) / 255
	}
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(i % 10)
	}
	return data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{28, 28, 1}}, Float: x},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Classes: 10}, Int: y},
	}
}

func BenchmarkWriteSplitArrow(b *testing.B) {
	s := mnistSizedSplit()
	path := filepath.Join(b.TempDir(), "split.arrow")
	b.SetBytes(int64(4 * (len(s.X.Float) + len(s.Y.Int))))
	for b.Loop() {
		if err := WriteSplit(path, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSplitArrow(b *testing.B) {
	s := mnistSizedSplit()
	path := writeTemp(b, &s)
	bytes := int64(4 * (len(s.X.Float) + len(s.Y.Int)))
	b.Run("open", func(b *testing.B) { // zero-copy: map and validate
		b.SetBytes(bytes)
		for b.Loop() {
			got, closer, err := ReadSplit(path)
			if err != nil || got.Len() != 60000 {
				b.Fatal(err, got.Len())
			}
			closer.Close()
		}
	})
	b.Run("open+touch", func(b *testing.B) { // and read every value once
		b.SetBytes(bytes)
		for b.Loop() {
			got, closer, err := ReadSplit(path)
			if err != nil {
				b.Fatal(err)
			}
			var sum float32
			for _, v := range got.X.Float {
				sum += v
			}
			if sum == 0 {
				b.Fatal("no data")
			}
			closer.Close()
		}
	})
	b.Run("baseline: touch a Go slice", func(b *testing.B) { // the same sum, no file
		b.SetBytes(bytes)
		for b.Loop() {
			var sum float32
			for _, v := range s.X.Float {
				sum += v
			}
			if sum == 0 {
				b.Fatal("no data")
			}
		}
	})
}

var _ io.Closer = (*arrowMapping)(nil)

// fakeRunDir writes a run directory's history and prediction files as
// writeRun would, for the JavaScript check.
func fakeRunDir(t *testing.T, h *data.History, rows PredictionRows, testExamples int) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteHistory(filepath.Join(dir, "history.arrow"), h); err != nil {
		t.Fatal(err)
	}
	if err := WritePredictions(filepath.Join(dir, "predictions.arrow"), rows); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"history.json": h, "metrics.json": map[string]any{"test_examples": testExamples}} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestArrowCheckJS reads the Arrow files with Apache Arrow's JavaScript
// implementation (.ci/arrow-check), when node and its packages are there:
// cd .ci/arrow-check && npm ci. In CI (CI set), where .ci/run installs
// them, their absence is a failure, not a skip.
func TestArrowCheckJS(t *testing.T) {
	node, script := testdata.NodeScript(t, "../.ci/arrow-check", "check.mjs", "apache-arrow", "cd .ci/arrow-check && npm ci")
	check := func(dir string) (string, error) {
		out, err := exec.Command(node, script, dir).CombinedOutput()
		return string(out), err
	}

	h := &data.History{}
	for e := range 3 {
		h.Add("loss", 2.302585092994046/float64(e+1))
		h.Add("accuracy", 0.1+0.3*float64(e)+1e-16)
		h.Add("val_loss", math.Nextafter(1/3.0, 1)*float64(e+1))
		h.Add("val_accuracy", 0.123456789012345678)
	}
	const n, k = 1000, 10
	classifier := PredictionRows{ClassNames: make([]string, k)}
	for i := range n {
		p := make([]float32, k)
		var sum float32
		for c := range p {
			p[c] = float32((i*7+c*13)%17) + 0.5
			sum += p[c]
		}
		best := 0
		for c := range p {
			p[c] /= sum
			if p[c] > p[best] {
				best = c
			}
		}
		classifier.Index = append(classifier.Index, int64(i))
		classifier.Label = append(classifier.Label, float32(i%k))
		classifier.Prediction = append(classifier.Prediction, float32(best))
		classifier.Probabilities = append(classifier.Probabilities, p)
	}
	for c := range k {
		classifier.ClassNames[c] = strconv.Itoa(c)
	}
	regression := PredictionRows{Index: []int64{0, 1, 2}, Label: []float32{1, 5, 3}, Prediction: []float32{1.5, 4.25, 3}}

	for name, dir := range map[string]string{
		"classifier": fakeRunDir(t, h, classifier, n),
		"regression": fakeRunDir(t, h, regression, 3),
	} {
		out, err := check(dir)
		if err != nil || !strings.HasPrefix(out, "arrow-check OK") {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
		t.Logf("%s: %s", name, out)
	}

	wrongArgmax := classifier
	wrongArgmax.Prediction = slices.Clone(classifier.Prediction)
	wrongArgmax.Prediction[n-1] = float32((int(classifier.Prediction[n-1]) + 1) % k)
	badSum := classifier
	badSum.Probabilities = slices.Clone(classifier.Probabilities)
	badSum.Probabilities[5] = make([]float32, k)
	badSum.Probabilities[5][int(classifier.Prediction[5])] = 0.9
	badHistory := fakeRunDir(t, h, regression, 3)
	b, _ := os.ReadFile(filepath.Join(badHistory, "history.json"))
	b = bytes.Replace(b, []byte("0.12345678901234568"), []byte("0.1234567890123457"), 1)
	if err := os.WriteFile(filepath.Join(badHistory, "history.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		dir, want string
	}{
		"row count":     {fakeRunDir(t, h, regression, 4), "3 rows; metrics.json has test_examples 4"},
		"argmax":        {fakeRunDir(t, h, wrongArgmax, n), "row 999 predicts"},
		"sum":           {fakeRunDir(t, h, badSum, n), "row 5's probabilities sum to 0.8999"},
		"history value": {badHistory, "val_accuracy at epoch 1"},
		"no test count": {fakeRunDir(t, h, regression, -1), "test_examples is -1"},
	} {
		out, err := check(c.dir)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("%s: want a failure mentioning %q; got %v\n%s", name, c.want, err, out)
		}
	}
}
