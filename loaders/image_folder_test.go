package loaders

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

// mnistDigits are the first perClass training digits of each class of
// the real MNIST, read once: digits[c][i] is 28x28 grey levels.
var mnistDigits = struct {
	once   sync.Once
	digits [10][][]float32
	err    error
}{}

func firstDigits(t testing.TB, perClass int) [10][][]float32 {
	t.Helper()
	dataDir := testdata.Dir(t, "mnist")
	mnistDigits.once.Do(func() {
		ds, err := (&MNIST{}).Load(dataDir)
		if err != nil {
			mnistDigits.err = err
			return
		}
		for i, y := range ds.Train.Y.Int {
			if len(mnistDigits.digits[y]) < 100 {
				px := make([]float32, 784) // image_folder's pixels are float32
				for k, v := range ds.Train.X.Bytes[i*784 : (i+1)*784] {
					px[k] = float32(v)
				}
				mnistDigits.digits[y] = append(mnistDigits.digits[y], px)
			}
		}
	})
	if mnistDigits.err != nil {
		t.Fatal(mnistDigits.err)
	}
	var out [10][][]float32
	for c := range out {
		out[c] = mnistDigits.digits[c][:perClass]
	}
	return out
}

func grayPNG(t testing.TB, px []float32, w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range px {
		img.Pix[i] = uint8(v)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// digitFiles lays out MNIST digits as class folders: prefix<class>/<i>.png
// for the i-th digit of each class from..to.
func digitFiles(t testing.TB, digits [10][][]float32, prefix string, from, to int, files map[string][]byte) {
	for c := range digits {
		for i := from; i < to; i++ {
			files[fmt.Sprintf("%s%d/%d.png", prefix, c, i)] = grayPNG(t, digits[c][i], 28, 28)
		}
	}
}

// TestImageFolderMNIST writes 20 real MNIST digits per class as PNG
// files, 15 in train/ and 5 in test/, and reads them back pixel for
// pixel: as grey, as RGB, from a folder and from a .tar.gz.
func TestImageFolderMNIST(t *testing.T) {
	digits := firstDigits(t, 20)
	files := map[string][]byte{"digits/README.md": []byte("# digits"), "digits/train/3/.DS_Store": []byte("junk"), "digits/train/3/notes.txt": []byte("skipped")}
	digitFiles(t, digits, "digits/train/", 0, 15, files)
	digitFiles(t, digits, "digits/test/", 15, 20, files)
	dataDir := writeTree(t, t.TempDir(), files)
	os.WriteFile(filepath.Join(dataDir, "digits.tar.gz"), treeArchive(files), 0o644)

	for _, c := range []struct {
		path, root, mode string
	}{{"digits", "", "grayscale"}, {"digits", "", "rgb"}, {"digits.tar.gz", "digits", "grayscale"}} {
		t.Run(c.path+" "+c.mode, func(t *testing.T) {
			cfg := &ImageFolder{Path: c.path, Root: c.root, Height: 28, Width: 28, ColorMode: c.mode, Interpolation: "bilinear", FolderSplit: DefaultFolderSplit()}
			ds, err := cfg.Load(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; !slices.Equal(ds.Classes, want) {
				t.Errorf("classes %q, want %q", ds.Classes, want)
			}
			ch := imageChannels(c.mode)
			x, y := cfg.Schemas()
			for _, s := range []struct {
				name     string
				split    data.Split
				from, to int
			}{{"train", ds.Train, 0, 15}, {"test", ds.Test, 15, 20}} {
				if !slices.Equal(s.split.X.Shape, x.Shape) || !slices.Equal(x.Shape, []int{28, 28, ch}) || s.split.Y.DType != y.DType || s.split.Y.Classes != 10 {
					t.Fatalf("%s: %s -> %s (%d classes), declared %s -> %s", s.name, s.split.X.Schema, s.split.Y.Schema, s.split.Y.Classes, x, y)
				}
				if n := s.split.Len(); n != 10*(s.to-s.from) {
					t.Fatalf("%s: %d examples, want %d", s.name, n, 10*(s.to-s.from))
				}
				// Classes take turns, each in natural order (0.png, 1.png,
				// ..., 10.png): example k is digit from + k/10 of class k%10.
				for k := range s.split.Len() {
					class, i := k%10, s.from+k/10
					if s.split.Y.Int[k] != int32(class) {
						t.Fatalf("%s: example %d has label %d, want %d", s.name, k, s.split.Y.Int[k], class)
					}
					got := s.split.X.Float[k*784*ch : (k+1)*784*ch]
					for p, v := range digits[class][i] {
						for cc := range ch {
							if got[p*ch+cc] != v {
								t.Fatalf("%s: example %d (%d/%d.png) pixel %d channel %d is %v, the PNG holds %v", s.name, k, class, i, p, cc, got[p*ch+cc], v)
							}
						}
					}
				}
			}
		})
	}
}

// TestImageFolderResize checks tf.image.resize's half-pixel rules on real
// digits: halving is the mean of each 2x2 block (bilinear) or the block's
// bottom-right pixel (nearest); doubling with nearest repeats pixels, with
// bilinear weighs neighbours 3/4 and 1/4.
func TestImageFolderResize(t *testing.T) {
	digits := firstDigits(t, 3)
	files := map[string][]byte{}
	digitFiles(t, digits, "d/train/", 0, 2, files)
	digitFiles(t, digits, "d/test/", 2, 3, files)
	dataDir := writeTree(t, t.TempDir(), files)
	at := func(px []float32, x, y int) float64 {
		return float64(px[min(max(y, 0), 27)*28+min(max(x, 0), 27)])
	}
	// 1-D bilinear weights of doubling: output o of 56 sits at o/2 - 1/4.
	double := func(o int) (lo, hi int, wlo float64) {
		if o%2 == 0 {
			return o/2 - 1, o / 2, 0.25
		}
		return o / 2, o/2 + 1, 0.75
	}
	for _, c := range []struct {
		interp string
		size   int
		want   func(px []float32, x, y int) float64
	}{
		{"bilinear", 14, func(px []float32, x, y int) float64 {
			return (at(px, 2*x, 2*y) + at(px, 2*x+1, 2*y) + at(px, 2*x, 2*y+1) + at(px, 2*x+1, 2*y+1)) / 4
		}},
		{"nearest", 14, func(px []float32, x, y int) float64 { return at(px, 2*x+1, 2*y+1) }},
		{"nearest", 56, func(px []float32, x, y int) float64 { return at(px, x/2, y/2) }},
		{"bilinear", 56, func(px []float32, x, y int) float64 {
			x0, x1, wx := double(x)
			y0, y1, wy := double(y)
			return wy*(wx*at(px, x0, y0)+(1-wx)*at(px, x1, y0)) + (1-wy)*(wx*at(px, x0, y1)+(1-wx)*at(px, x1, y1))
		}},
	} {
		cfg := &ImageFolder{Path: "d", Height: c.size, Width: c.size, ColorMode: "grayscale", Interpolation: c.interp, FolderSplit: DefaultFolderSplit()}
		ds, err := cfg.Load(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ds.Train.X.Shape, []int{c.size, c.size, 1}) || ds.Train.Len() != 20 {
			t.Fatalf("%s to %d: %d examples of %v", c.interp, c.size, ds.Train.Len(), ds.Train.X.Shape)
		}
		worst := 0.0
		for k := range ds.Train.Len() {
			got, px := ds.Train.X.Float[k*c.size*c.size:(k+1)*c.size*c.size], digits[k%10][k/10]
			for y := range c.size {
				for x := range c.size {
					worst = max(worst, math.Abs(float64(got[y*c.size+x])-c.want(px, x, y)))
				}
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s to %dx%d: off by %v from the half-pixel rule", c.interp, c.size, c.size, worst)
		}
	}
}

// TestImageFolderTFValues: tf.image.resize([[0, 100], [200, 255]], [3, 3])
// (bilinear, TF2) is [[0, 50, 100], [100, 138.75, 177.5], [200, 227.5, 255]]:
// corners kept, edges midpoints, the centre the mean of four.
func TestImageFolderTFValues(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(img.Pix, []uint8{0, 100, 200, 255})
	got := resizeImage(pixelSource{img: img, channels: 1}, 3, 3, "bilinear")
	if want := []float32{0, 50, 100, 100, 138.75, 177.5, 200, 227.5, 255}; !slices.Equal(got, want) {
		t.Errorf("bilinear 2x2 -> 3x3 = %v, want %v", got, want)
	}
	// Nearest 2x2 -> 3x3: floor((o + 0.5) * 2/3) = 0, 1, 1.
	got = resizeImage(pixelSource{img: img, channels: 1}, 3, 3, "nearest")
	if want := []float32{0, 100, 100, 200, 255, 255, 200, 255, 255}; !slices.Equal(got, want) {
		t.Errorf("nearest 2x2 -> 3x3 = %v, want %v", got, want)
	}
	// A 1x3 strip to 1x2: bilinear at 0.25 and 1.75: 25 and 175 of 0, 100, 200.
	strip := image.NewGray(image.Rect(0, 0, 3, 1))
	copy(strip.Pix, []uint8{0, 100, 200})
	got = resizeImage(pixelSource{img: strip, channels: 1}, 1, 2, "bilinear")
	if want := []float32{25, 175}; !slices.Equal(got, want) {
		t.Errorf("bilinear 3 -> 2 = %v, want %v", got, want)
	}
}

// TestImageFolderColour: JPEG and PNG side by side in class folders;
// JPEG colours come back within a few levels, rgb keeps PNG colours of a
// half-transparent pixel unpremultiplied, rgba keeps alpha, grayscale is
// the 601 luma.
func TestImageFolderColour(t *testing.T) {
	red, blue := color.NRGBA{220, 30, 40, 255}, color.NRGBA{20, 60, 200, 128}
	solid := func(c color.NRGBA) *image.NRGBA {
		img := image.NewNRGBA(image.Rect(0, 0, 16, 8))
		for i := 0; i < len(img.Pix); i += 4 {
			copy(img.Pix[i:], []uint8{c.R, c.G, c.B, c.A})
		}
		return img
	}
	var jpg, pngBytes bytes.Buffer
	if err := jpeg.Encode(&jpg, solid(red), &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	png.Encode(&pngBytes, solid(blue))
	dataDir := writeTree(t, t.TempDir(), map[string][]byte{
		"c/train/red/a.JPG": jpg.Bytes(), "c/train/blue/a.png": pngBytes.Bytes(),
		"c/test/red/b.jpeg": jpg.Bytes(), "c/test/blue/b.png": pngBytes.Bytes(),
	})
	for _, c := range []struct {
		mode       string
		blue, red  []float32
		redSlack   float32
		wantLabels []int32
	}{
		{"rgb", []float32{20, 60, 200}, []float32{220, 30, 40}, 3, []int32{0, 1}},
		{"rgba", []float32{20, 60, 200, 128}, []float32{220, 30, 40, 255}, 3, []int32{0, 1}},
		// 601 luma: (19595 r + 38470 g + 7471 b) / 65536.
		{"grayscale", []float32{float32((19595*20*257 + 38470*60*257 + 7471*200*257 + 1<<15) >> 24)}, []float32{(0.299*220 + 0.587*30 + 0.114*40)}, 3, []int32{0, 1}},
	} {
		ds, err := (&ImageFolder{Path: "c", Height: 8, Width: 16, ColorMode: c.mode, Interpolation: "nearest", FolderSplit: DefaultFolderSplit()}).Load(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ds.Classes, []string{"blue", "red"}) || !slices.Equal(ds.Train.Y.Int, c.wantLabels) {
			t.Fatalf("%s: classes %q labels %v", c.mode, ds.Classes, ds.Train.Y.Int)
		}
		ch := len(c.blue)
		n := 8 * 16 * ch
		for p := 0; p < n; p += ch {
			for k := range ch {
				if b := ds.Train.X.Float[p+k]; b != c.blue[k] {
					t.Fatalf("%s: blue PNG pixel %d channel %d = %v, want %v", c.mode, p/ch, k, b, c.blue[k])
				}
				if r := ds.Test.X.Float[n+p+k]; float32(math.Abs(float64(r-c.red[k]))) > c.redSlack {
					t.Fatalf("%s: red JPEG pixel %d channel %d = %v, want %v within %v", c.mode, p/ch, k, r, c.red[k], c.redSlack)
				}
			}
		}
	}
}

func TestImageFolderErrors(t *testing.T) {
	digits := firstDigits(t, 2)
	good := map[string][]byte{}
	digitFiles(t, digits, "d/", 0, 2, good)
	png := good["d/0/0.png"]
	with := func(name string, body []byte) map[string][]byte {
		files := map[string][]byte{}
		for k, v := range good {
			files[k] = v
		}
		files[name] = body
		return files
	}
	for _, c := range []struct {
		name  string
		files map[string][]byte
		at    string
		want  string
	}{
		{"not an image", with("d/3/2.png", []byte("no image at all")), "d/3/2.png", "not a PNG or JPEG image"},
		{"gif", with("d/3/2.png", gifBytes()), "d/3/2.png", "a gif image; image_folder reads PNG and JPEG"},
		{"truncated", with("d/3/2.png", png[:len(png)/2]), "d/3/2.png", "not a PNG or JPEG image"},
		{"empty class", with("d/10/", nil), "d/10", "no PNG or JPEG images in this folder"},
		{"no classes", map[string][]byte{"d/0.png": png}, "d", "no class folders"},
		{"no folder", nil, "d", "not found"},
		{"huge", with("d/3/2.png", hugePNGHeader()), "d/3/2.png", "more than 32 megapixels"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dataDir := writeTree(t, t.TempDir(), c.files)
			_, err := (&ImageFolder{Path: "d", Height: 28, Width: 28, ColorMode: "grayscale", Interpolation: "bilinear", FolderSplit: FolderSplit{TestFraction: 0.5, Stratify: true}}).Load(dataDir)
			var de *data.DataError
			if want := filepath.Join(dataDir, filepath.FromSlash(c.at)); !errors.As(err, &de) || de.Path != want || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a DataError on %s saying %q", err, want, c.want)
			}
		})
	}
}

// gifBytes is a GIF image. Go decodes GIFs wherever a package imports
// image/gif (this test does, and so does the PDF library behind pipe's
// plots), but image_folder reads PNG and JPEG whatever the binary holds.
func gifBytes() []byte {
	var buf bytes.Buffer
	gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black, color.White}), nil)
	return buf.Bytes()
}

// hugePNGHeader is the start of a PNG that claims 100,000 x 100,000 pixels.
func hugePNGHeader() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// IHDR's width and height follow the 8-byte signature, the chunk
	// length and type; its CRC (of type and data) follows the 13 bytes.
	for _, off := range []int{16, 20} {
		b[off], b[off+1], b[off+2], b[off+3] = 0, 0x01, 0x86, 0xa0
	}
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestImageFolderValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  ImageFolder
		want string
	}{
		{ImageFolder{Path: "/abs/digits"}, "relative to the data directory"},
		{ImageFolder{Path: "d", Root: "/x"}, "relative to the data directory"},
		{ImageFolder{Path: "d", FolderSplit: FolderSplit{Classes: []string{"a", "a"}}}, `"a" is listed twice`},
		{ImageFolder{Path: "d", FolderSplit: FolderSplit{Classes: []string{"a/b"}}}, "not a folder name"},
		{ImageFolder{Path: "d", FolderSplit: FolderSplit{Classes: []string{"a", "b"}}}, ""},
	} {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg, err, c.want)
		}
	}
	x, y := (&ImageFolder{Height: 32, Width: 24, ColorMode: "rgb", FolderSplit: FolderSplit{Classes: []string{"cat", "dog"}}}).Schemas()
	if !slices.Equal(x.Shape, []int{32, 24, 3}) || x.DType != data.Float32 || y.Classes != 2 || y.DType != data.Int32 {
		t.Errorf("schemas %s, %s (%d classes)", x, y, y.Classes)
	}
}

// TestImageFolderDecodeInput: an image given to pipe predict becomes the
// example the folder would have made of it.
func TestImageFolderDecodeInput(t *testing.T) {
	digits := firstDigits(t, 2)
	files := map[string][]byte{}
	digitFiles(t, digits, "d/train/", 0, 1, files)
	digitFiles(t, digits, "d/test/", 1, 2, files)
	dataDir := writeTree(t, t.TempDir(), files)
	cfg := &ImageFolder{Path: "d", Height: 20, Width: 20, ColorMode: "rgb", Interpolation: "bilinear", FolderSplit: DefaultFolderSplit()}
	ds, err := cfg.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dataDir, "d", "test", "7", "1.png")
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.DecodeInput(dataDir, src, body)
	if err != nil {
		t.Fatal(err)
	}
	n := 20 * 20 * 3
	if want := ds.Test.X.Float[7*n : 8*n]; !slices.Equal(got.Float, want) || !slices.Equal(got.Shape, []int{20, 20, 3}) {
		t.Errorf("predict input differs from the dataset's example 7")
	}
	bad := filepath.Join(dataDir, "bad.png")
	os.WriteFile(bad, []byte("no image"), 0o644)
	var de *data.DataError
	if _, err := cfg.DecodeInput(dataDir, bad, []byte("no image")); !errors.As(err, &de) || de.Path != bad {
		t.Errorf("got %v, want a DataError naming %s", err, bad)
	}
}
