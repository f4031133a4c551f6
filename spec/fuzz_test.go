package spec_test

import (
	"testing"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// FuzzSpec decodes and compiles arbitrary specs: any input is either a
// plan or positioned errors, never a panic.
func FuzzSpec(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("name: x\nmodel: {name: user_knn, k: 3}\ndata: {loader: movielense}\n"))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("name: x\nmodel:\n  input: {shape: [0, -3]}\n  layers: [{conv2d: {filters: 1, kernel: [9, 9]}}, flatten, {dense: {units: 1}}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := spec.Parse("fuzz.yaml", src)
		if err != nil {
			if _, ok := spec.AsList(err); !ok {
				t.Fatalf("not a positioned error: %v", err)
			}
			return
		}
		if _, err := pipeline.Compile(s); err != nil {
			if _, ok := spec.AsList(err); !ok {
				t.Fatalf("compile: not a positioned error: %v", err)
			}
		}
	})
}
