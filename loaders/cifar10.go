package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("cifar10", "CIFAR-10 tiny images from the official binary batches in DATA/cifar10/cifar-10-batches-bin (data_batch_1..5.bin, test_batch.bin, batches.meta.txt): 50,000 train and 10,000 test RGB images of 32x32 pixels (0..255) in HWC order, labels 0..9.",
		func() Loader { return &CIFAR10{} })
}

// CIFAR10 has no params: subsets are chosen with data.train_limit and data.test_limit.
type CIFAR10 struct{}

const (
	cifarSide       = 32
	cifarPixels     = cifarSide * cifarSide // one colour plane
	cifarImage      = 3 * cifarPixels       // 3072 bytes: R plane, G plane, B plane
	cifarRecord     = 1 + cifarImage        // label byte + image
	cifarPerFile    = 10000
	cifarClasses    = 10
	cifarSubdir     = "cifar-10-batches-bin"
	cifarMetaFile   = "batches.meta.txt"
	cifarTrainFiles = 5
)

// Folder is where its files sit under the data directory.
func (*CIFAR10) Folder() string { return "cifar10" }

func (*CIFAR10) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Uint8, Shape: []int{cifarSide, cifarSide, 3}}, data.Schema{DType: data.Int32, Shape: []int{}, Classes: cifarClasses}
}

func (*CIFAR10) Load(dataDir string) (*data.Dataset, error) {
	top, err := datasetDir(dataDir, "cifar10")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(top, cifarSubdir)
	classes, err := readCIFARMeta(filepath.Join(dir, cifarMetaFile))
	if err != nil {
		return nil, err
	}
	ds := &data.Dataset{Classes: classes}
	var trainFiles []string
	for i := 1; i <= cifarTrainFiles; i++ {
		trainFiles = append(trainFiles, filepath.Join(dir, "data_batch_"+strconv.Itoa(i)+".bin"))
	}
	testFile := filepath.Join(dir, "test_batch.bin")
	// Check every size before reading anything: a wrong file fails fast,
	// before 184 MB of pixels are allocated.
	for _, path := range append(trainFiles, testFile) {
		if err := checkCIFARSize(path); err != nil {
			return nil, err
		}
	}
	if ds.Train, err = readCIFARSplit(trainFiles); err != nil {
		return nil, err
	}
	if ds.Test, err = readCIFARSplit([]string{testFile}); err != nil {
		return nil, err
	}
	return ds, nil
}

// readCIFARMeta reads the class names, one per line; blank lines (the
// official file ends with one) are ignored.
func readCIFARMeta(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, dataErr(path, "file not found (the class names, one per line)")
	} else if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	var names []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != cifarClasses {
		return nil, dataErr(path, "has %d class names, want %d", len(names), cifarClasses)
	}
	return names, nil
}

// readCIFARSplit reads the given batch files, in order, into one split.
// Files are decoded concurrently, each into its own part of the arrays.
func readCIFARSplit(paths []string) (data.Split, error) {
	n := len(paths) * cifarPerFile
	s := data.Split{
		// Bytes, as the files hold them: 150 MB for the training images,
		// where float32 would take 600 MB.
		X: data.Array{Schema: data.Schema{DType: data.Uint8, Shape: []int{cifarSide, cifarSide, 3}}, Bytes: make([]uint8, n*cifarImage)},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}, Classes: cifarClasses}, Int: make([]int32, n)},
	}
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	for i, path := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := i*cifarPerFile, (i+1)*cifarPerFile
			errs[i] = readCIFARBatch(path, s.X.Bytes[lo*cifarImage:hi*cifarImage], s.Y.Int[lo:hi])
		}()
	}
	wg.Wait()
	for _, err := range errs { // the first bad file, in file order
		if err != nil {
			return data.Split{}, err
		}
	}
	return s, nil
}

// checkCIFARSize checks that path holds exactly cifarPerFile records.
func checkCIFARSize(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return dataErr(path, "file not found")
	} else if err != nil {
		return &data.DataError{Path: path, Err: err}
	}
	if size := st.Size(); size%cifarRecord != 0 {
		return dataErr(path, "size %d bytes is not a whole number of %d-byte records (1 label byte + 3072 pixel bytes); the file is truncated or not a CIFAR-10 binary batch", size, cifarRecord)
	} else if size/cifarRecord != cifarPerFile {
		return dataErr(path, "has %d records, want %d", size/cifarRecord, cifarPerFile)
	}
	return nil
}

// readCIFARBatch decodes one batch file of exactly cifarPerFile records into
// x (HWC, raw 0..255) and y.
func readCIFARBatch(path string, x []uint8, y []int32) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return &data.DataError{Path: path, Err: err}
	}
	if len(raw) != cifarPerFile*cifarRecord { // changed since Stat
		return dataErr(path, "read %d bytes, want %d", len(raw), cifarPerFile*cifarRecord)
	}
	for i := range cifarPerFile {
		rec := raw[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return dataErr(path, "label %d of record %d is not a class 0..%d", rec[0], i, cifarClasses-1)
		}
		y[i] = int32(rec[0])
		r, g, b := rec[1:1+cifarPixels], rec[1+cifarPixels:1+2*cifarPixels], rec[1+2*cifarPixels:]
		out := x[i*cifarImage : (i+1)*cifarImage]
		for p := range cifarPixels { // planar (CHW) to interleaved (HWC)
			out[3*p], out[3*p+1], out[3*p+2] = r[p], g[p], b[p]
		}
	}
	return nil
}
