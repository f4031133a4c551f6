package loaders

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // image_folder reads JPEG
	_ "image/png"  // and PNG files
	"math"
)

// Decoding one image of an image folder as Keras' load_image does:
// tf.io.decode_image with the colour mode's channel count, then
// tf.image.resize to the declared size (TF2: half-pixel centres, no
// antialiasing), values float32 0..255 (bilinear gives fractions).
//
// Channels: rgb drops alpha without premultiplying (as libpng does when
// asked for 3 channels); grayscale is the ITU-R 601 luma of the 8-bit
// channels, Go's color.Gray model and pipe predict's (TF's PNG path uses
// libpng's weights, its JPEG path libjpeg's 601, so no one rule matches
// TF on both). JPEG is decoded by Go's image/jpeg, whose IDCT and chroma
// upsampling can differ from libjpeg's by a level or two.

// imageMaxPixels bounds a source image before it is decoded: 32
// megapixels, a large camera photo. Decoders allocate the whole image
// from its header before reading any pixel, so without a bound a small
// file claiming 100,000 x 100,000 pixels would exhaust memory; with it,
// the most a file can make the decoder allocate is 256 MiB (16-bit RGBA).
const imageMaxPixels = 1 << 25

// imageChannels is the channel count of a colour mode.
func imageChannels(mode string) int {
	switch mode {
	case "grayscale":
		return 1
	case "rgba":
		return 4
	}
	return 3
}

// decodeFolderImage decodes a PNG or JPEG and returns its pixels resized
// to h x w, channels per pixel, row by row (HWC).
func decodeFolderImage(body []byte, h, w int, mode, interpolation string) ([]float32, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not a PNG or JPEG image: %v", err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("a %s image; image_folder reads PNG and JPEG", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > imageMaxPixels/max(cfg.Height, 1) {
		return nil, fmt.Errorf("image of %dx%d pixels: empty, or more than %d megapixels", cfg.Width, cfg.Height, imageMaxPixels>>20)
	}
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not a PNG or JPEG image: %v", err)
	}
	return resizeImage(pixelSource{img: img, channels: imageChannels(mode)}, h, w, interpolation), nil
}

// pixelSource reads the pixels of an image in a colour mode.
type pixelSource struct {
	img      image.Image
	channels int
}

func (p pixelSource) size() (w, h int) {
	b := p.img.Bounds()
	return b.Dx(), b.Dy()
}

// at writes the channels of pixel (x, y), counted from the image's
// top-left corner, to dst.
func (p pixelSource) at(x, y int, dst []float32) {
	b := p.img.Bounds()
	x, y = x+b.Min.X, y+b.Min.Y
	if g, ok := p.img.(*image.Gray); ok { // PNG's grey images, such as MNIST digits
		v := float32(g.Pix[g.PixOffset(x, y)])
		for c := range dst {
			dst[c] = v
		}
		if p.channels == 4 {
			dst[3] = 255
		}
		return
	}
	var r, gr, bl, a uint32
	if n, ok := p.img.(*image.NRGBA); ok { // PNG's colour images
		px := n.Pix[n.PixOffset(x, y):]
		r, gr, bl, a = uint32(px[0])*0x101, uint32(px[1])*0x101, uint32(px[2])*0x101, uint32(px[3])*0x101
	} else {
		c := color.NRGBA64Model.Convert(p.img.At(x, y)).(color.NRGBA64)
		r, gr, bl, a = uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
	}
	switch p.channels {
	case 1:
		dst[0] = float32((19595*r + 38470*gr + 7471*bl + 1<<15) >> 24)
	default:
		dst[0], dst[1], dst[2] = float32(r>>8), float32(gr>>8), float32(bl>>8)
		if p.channels == 4 {
			dst[3] = float32(a >> 8)
		}
	}
}

// resizeImage samples src at h x w as tf.image.resize does with
// half-pixel centres: output pixel o looks at source coordinate
// (o + 0.5) * in/out - 0.5. interpolation is "bilinear" (the four
// neighbours, weighted) or "nearest" (floor((o + 0.5) * in/out)). At the
// source's own size both return its pixels exactly.
func resizeImage(src pixelSource, h, w int, interpolation string) []float32 {
	sw, sh := src.size()
	ch := src.channels
	out := make([]float32, h*w*ch)
	if interpolation == "nearest" {
		xs, ys := nearestIndices(w, sw), nearestIndices(h, sh)
		for oy, y := range ys {
			for ox, x := range xs {
				src.at(x, y, out[(oy*w+ox)*ch:][:ch])
			}
		}
		return out
	}
	xs, ys := bilinearWeights(w, sw), bilinearWeights(h, sh)
	var tl, tr, bl, br [4]float32
	for oy, y := range ys {
		for ox, x := range xs {
			src.at(x.lo, y.lo, tl[:ch])
			src.at(x.hi, y.lo, tr[:ch])
			src.at(x.lo, y.hi, bl[:ch])
			src.at(x.hi, y.hi, br[:ch])
			px := out[(oy*w+ox)*ch:][:ch]
			for c := range px {
				// TF's compute_lerp, in its order of float32 operations.
				top := tl[c] + (tr[c]-tl[c])*x.lerp
				bottom := bl[c] + (br[c]-bl[c])*x.lerp
				px[c] = top + (bottom-top)*y.lerp
			}
		}
	}
	return out
}

// nearestIndices maps each of out positions to a source position of in,
// as TF's resize_nearest_neighbor with half_pixel_centers.
func nearestIndices(out, in int) []int {
	scale := float32(in) / float32(out)
	idx := make([]int, out)
	for o := range idx {
		idx[o] = min(max(int(math.Floor(float64((float32(o)+0.5)*scale))), 0), in-1)
	}
	return idx
}

// lerpWeight is where an output position falls between two source ones.
type lerpWeight struct {
	lo, hi int
	lerp   float32
}

// bilinearWeights is TF's compute_interpolation_weights with the
// half-pixel scaler.
func bilinearWeights(out, in int) []lerpWeight {
	scale := float32(in) / float32(out)
	ws := make([]lerpWeight, out)
	for o := range ws {
		pos := (float32(o)+0.5)*scale - 0.5
		fl := float32(math.Floor(float64(pos)))
		ws[o] = lerpWeight{
			lo:   min(max(int(fl), 0), in-1),
			hi:   min(int(math.Ceil(float64(pos))), in-1),
			lerp: pos - fl,
		}
		ws[o].hi = max(ws[o].hi, 0)
	}
	return ws
}
