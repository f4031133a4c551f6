package loaders

import (
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("image_folder", "Images in class folders (Keras' image_dataset_from_directory layout): DATA/<path>/<class>/*.png|jpg, or <path>/train/<class>/ and <path>/test/<class>/; path may be a .tar.gz of such a folder. Each image is resized to height x width in the colour mode; pixels are float32 0..255 ([height, width, channels]), labels int32 in the order of classes (sorted folder names by default).",
		func() Loader {
			return &ImageFolder{Height: 256, Width: 256, ColorMode: "rgb", Interpolation: "bilinear", FolderSplit: DefaultFolderSplit()}
		})
}

// ImageFolder reads PNG and JPEG images from class folders (see
// class_folders.go for the layout, splits and example order). Its
// defaults are Keras': 256 x 256, rgb, bilinear.
//
// The number of classes is what `classes:` lists. Schemas cannot read
// the folder (it has no data directory, and validation reads no data),
// so without the list the label schema has Classes 0: the spec's
// one_hot or its last layer states the count, and one_hot fails at load
// time, naming the example, when the folder holds more classes than that.
type ImageFolder struct {
	Path          string `pipe:"path,required" doc:"folder of class folders, relative to the data directory, or a .tar.gz (.tgz, .tar) archive of one"`
	Root          string `pipe:"root" doc:"folder inside path that holds the class folders (or train/ and test/); empty for path itself"`
	Height        int    `pipe:"height,min=1,max=8192" doc:"height images are resized to"`
	Width         int    `pipe:"width,min=1,max=8192" doc:"width images are resized to"`
	ColorMode     string `pipe:"color_mode,oneof=grayscale|rgb|rgba" doc:"channels per pixel: grayscale (1, ITU-R 601 luma), rgb (3) or rgba (4)"`
	Interpolation string `pipe:"interpolation,oneof=bilinear|nearest" doc:"how images are resized, as tf.image.resize (half-pixel centres): bilinear (Keras' default) or nearest; an image already of the size is kept exactly"`
	FolderSplit
}

// imageMaxFileBytes bounds one image file.
const imageMaxFileBytes = 256 << 20

// Validate checks what tags cannot: the paths stay below the data
// directory's reach and class names are folder names.
func (t *ImageFolder) Validate() error {
	if err := validateRelPath("path", t.Path, true); err != nil {
		return err
	}
	if err := validateRelPath("root", t.Root, false); err != nil {
		return err
	}
	return t.FolderSplit.validate()
}

// Folder is where its files sit under the data directory: the cache key
// holds their checksums.
func (t *ImageFolder) Folder() string { return filepath.FromSlash(t.Path) }

func (t *ImageFolder) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Float32, Shape: []int{t.Height, t.Width, imageChannels(t.ColorMode)}},
		data.Schema{DType: data.Int32, Shape: []int{}, Classes: len(t.Classes)}
}

func (t *ImageFolder) Load(dataDir string) (*data.Dataset, error) {
	src, err := newTreeSource(filepath.Join(dataDir, filepath.FromSlash(t.Path)), t.Root)
	if err != nil {
		return nil, err
	}
	tree := newClassTree[[]float32](src, t.FolderSplit, "PNG or JPEG images")
	err = src.walk(imageMaxFileBytes, treeVisitor{
		dir:  tree.addDir,
		want: func(rel []string) bool { return isImageFile(rel[len(rel)-1]) && tree.wanted(rel) },
		file: func(rel []string, body []byte) error {
			px, err := decodeFolderImage(body, t.Height, t.Width, t.ColorMode, t.Interpolation)
			if err != nil {
				return err
			}
			tree.add(rel, px)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	train, test, classes, err := tree.splits()
	if err != nil {
		return nil, err
	}
	x, y := t.Schemas()
	y.Classes = len(classes)
	split := func(examples []folderExample[[]float32]) data.Split {
		s := data.Split{X: data.Array{Schema: x, Float: make([]float32, 0, len(examples)*data.Elements(x.Shape))}, Y: data.Array{Schema: y, Int: make([]int32, len(examples))}}
		for i, e := range examples {
			s.X.Float = append(s.X.Float, e.value...)
			s.Y.Int[i] = e.label
		}
		return s
	}
	return &data.Dataset{Train: split(train), Test: split(test), Classes: classes}, nil
}

// isImageFile says whether a file name has an extension image_folder
// reads; files of other types in class folders are skipped, as Keras
// skips files outside its list of image formats.
func isImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// InputKind: a PNG or JPEG image of any size; it is resized as the
// folder's images are.
func (t *ImageFolder) InputKind() InputKind {
	return InputKind{What: "a PNG or JPEG image (resized to the model's size)"}
}

// DecodeInput reads an image given to pipe predict as one example: the
// same decoding, resizing and colour mode as the folder's images.
func (t *ImageFolder) DecodeInput(_, name string, body []byte) (data.Array, error) {
	px, err := decodeFolderImage(body, t.Height, t.Width, t.ColorMode, t.Interpolation)
	if err != nil {
		return data.Array{}, dataErr(name, "%v", err)
	}
	x, _ := t.Schemas()
	return data.Array{Schema: x, Float: px}, nil
}
