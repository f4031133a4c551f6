package loaders

import (
	"encoding/binary"
	"io"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("mnist", "MNIST handwritten digits from the four IDX files (raw or .gz) in DATA/mnist: 60,000 train and 10,000 test images of 28x28 pixels (0..255), labels 0..9.",
		func() Loader { return &MNIST{} })
}

// MNIST has no params: subsets are chosen with data.train_limit and data.test_limit.
type MNIST struct{}

// Folder is where its files sit under the data directory.
func (*MNIST) Folder() string { return "mnist" }

func (*MNIST) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Uint8, Shape: []int{28, 28}}, data.Schema{DType: data.Int32, Shape: []int{}, Classes: 10}
}

func (*MNIST) Load(dataDir string) (*data.Dataset, error) {
	dir, err := datasetDir(dataDir, "mnist")
	if err != nil {
		return nil, err
	}
	ds := &data.Dataset{Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	for _, part := range []struct {
		split  *data.Split
		prefix string
	}{{&ds.Train, "train"}, {&ds.Test, "t10k"}} {
		x, err := readIDX(dir, part.prefix+"-images-idx3-ubyte", 3)
		if err != nil {
			return nil, err
		}
		y, err := readIDX(dir, part.prefix+"-labels-idx1-ubyte", 1)
		if err != nil {
			return nil, err
		}
		if x.dims[0] != y.dims[0] {
			return nil, dataErr(dir, "%s images (%d) and labels (%d) differ in count", part.prefix, x.dims[0], y.dims[0])
		}
		// The pixels stay bytes, as the file has them: 47 MB, where float32
		// would take 188 MB (a scale transform makes floats of each batch).
		part.split.X = data.Array{Schema: data.Schema{DType: data.Uint8, Shape: x.dims[1:]}, Bytes: x.data}
		part.split.Y = data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}, Classes: 10}, Int: make([]int32, len(y.data))}
		for i, b := range y.data {
			if b > 9 {
				return nil, dataErr(y.path, "label %d of example %d is not a digit", b, i)
			}
			part.split.Y.Int[i] = int32(b)
		}
	}
	return ds, nil
}

type idx struct {
	path string
	dims []int
	data []byte
}

// readIDX reads an unsigned-byte IDX file (LeCun's format: magic 0x0000 0x08
// rank, big-endian int32 dims, then the bytes). The size the header promises
// is bounded, and memory grows only with the bytes really read, so a
// corrupt header cannot exhaust memory.
func readIDX(dir, name string, rank int) (*idx, error) {
	r, path, err := openMaybeGzip(dir, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	head := make([]byte, 4+4*rank)
	if _, err := io.ReadFull(r, head[:4]); err != nil {
		return nil, dataErr(path, "truncated IDX header: %v", err)
	}
	if head[0] != 0 || head[1] != 0 || head[2] != 0x08 || int(head[3]) != rank {
		return nil, dataErr(path, "not an unsigned-byte IDX file of rank %d (magic %x)", rank, head[:4])
	}
	if _, err := io.ReadFull(r, head[4:]); err != nil {
		return nil, dataErr(path, "truncated IDX header: %v", err)
	}
	dims, size := make([]int, rank), 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(head[4+4*i:]))
		if dims[i] <= 0 || dims[i] > 1<<24 {
			return nil, dataErr(path, "dimension %d is %d", i, dims[i])
		}
		size *= dims[i]
		if size > 1<<32 {
			return nil, dataErr(path, "header promises %v bytes, more than any MNIST-like file", dims)
		}
	}
	// ReadAll grows with what the file really holds, so a lying header
	// costs no more memory than the file itself.
	data, err := io.ReadAll(io.LimitReader(r, int64(size)+1))
	if err != nil {
		return nil, dataErr(path, "%v", err)
	}
	if len(data) < size {
		return nil, dataErr(path, "truncated: header promises %d bytes of data for %v, file has %d", size, dims, len(data))
	}
	if len(data) > size {
		return nil, dataErr(path, "trailing bytes after the %d the header promises", size)
	}
	return &idx{path: path, dims: dims, data: data}, nil
}
