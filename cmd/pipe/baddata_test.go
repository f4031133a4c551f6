package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// badData are the corrupt data folders of TestBadData, made by the test
// (files named like the real datasets' are not committed).
func badData() map[string]map[string][]byte {
	idx := func(rank byte, dims []uint32, payload []byte) []byte {
		var b bytes.Buffer
		b.Write([]byte{0, 0, 8, rank})
		for _, d := range dims {
			binary.Write(&b, binary.BigEndian, d)
		}
		b.Write(payload)
		return b.Bytes()
	}
	meta := []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")
	return map[string]map[string][]byte{
		"mnist_truncated":      {"mnist/train-images-idx3-ubyte": idx(3, []uint32{60000, 28, 28}, make([]byte, 100))},
		"mnist_bad_magic":      {"mnist/train-images-idx3-ubyte": append([]byte{0, 0, 9, 3}, make([]byte, 20)...)},
		"mnist_missing_labels": {"mnist/train-images-idx3-ubyte": idx(3, []uint32{1, 28, 28}, make([]byte, 784))},
		"mnist_not_gzip":       {"mnist/train-images-idx3-ubyte.gz": []byte("this is not gzip")},
		"mnist_bad_label": {
			"mnist/train-images-idx3-ubyte": idx(3, []uint32{2, 28, 28}, make([]byte, 2*784)),
			"mnist/train-labels-idx1-ubyte": idx(1, []uint32{2}, []byte{3, 200}),
		},
		"cifar_wrong_size": {
			"cifar10/cifar-10-batches-bin/data_batch_1.bin": make([]byte, 100),
			"cifar10/cifar-10-batches-bin/batches.meta.txt": meta,
		},
		"imdb_not_gzip":        {"imdb/aclImdb_v1.tar.gz": []byte("plain text, not an archive")},
		"jester_bad_header":    {"jester5k/ratings.csv": []byte("a,b,c\nu1,j1,1.5\n")},
		"jester_bad_rating":    {"jester5k/ratings.csv": []byte("user,item,rating\nu1,j1,1.5\nu1,j2,abc\n")},
		"jester_out_of_scale":  {"jester5k/ratings.csv": []byte("user,item,rating\nu1,j1,1.5\nu2,j1,42\n")},
		"movielense_duplicate": {"movielense/ratings.csv": []byte("user,item,rating\n1,\"Toy Story (1995)\",4\n1,\"Toy Story (1995)\",5\n")},
		"ml100k_bad_fields":    {"ml-100k/u.data": []byte("1\t2\t3\t881250949\n1\t2\t3\n")},
	}
}

// writeBadData lays out the folder of case name under a fresh directory
// and returns the directory, to pass as --data-dir.
func writeBadData(t *testing.T, name string) string {
	root := filepath.Join(t.TempDir(), name)
	for path, data := range badData()[name] {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
