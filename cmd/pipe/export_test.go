package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/onnx"
	"github.com/pipe-ml/pipe/onnx/onnxpb"
)

// TestExport: `pipe export RUN_DIR` writes an ONNX file that parses, with
// opset 17, the raw-pixel input, the class names and the line it prints;
// by default as <spec name>.onnx in the current directory.
func TestExport(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	dir, _ := trainedRun(t, data, "testdata/good.yaml", "--set", "data.train_limit=300", "--set", "data.test_limit=100", "--set", "train.epochs=1")
	path := filepath.Join(t.TempDir(), "digits.onnx")
	code, out, stderr := pipeCmd(t, "export", dir, "-o", path)
	if code != 0 {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	if want := path + ": ONNX opset 17, x [N, 28, 28] float32 -> y [N, 10] float32\n"; out != want {
		t.Errorf("export printed %q, want %q", out, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.GetIrVersion() != onnx.IRVersion || len(m.GetOpsetImport()) != 1 || m.GetOpsetImport()[0].GetVersion() != 17 {
		t.Errorf("IR version %d, opsets %v", m.GetIrVersion(), m.GetOpsetImport())
	}
	meta := onnx.Metadata(&m)
	if meta["pipe.class_names"] != `["0","1","2","3","4","5","6","7","8","9"]` || !strings.Contains(meta["pipe.preprocessing"], "scale (x - 0) / 255") {
		t.Errorf("metadata %v", meta)
	}

	t.Chdir(t.TempDir())
	if code, out, stderr := pipeCmd(t, "export", "--format", "onnx", dir); code != 0 || !strings.HasPrefix(out, "bad.onnx: ") {
		t.Errorf("export to the default file: exit %d, %q %s", code, out, stderr)
	}
	if _, err := os.Stat("bad.onnx"); err != nil {
		t.Error(err)
	}
}

// TestExportRefused: what cannot be exported is a usage error (exit 2)
// that says why, and writes nothing.
func TestExportRefused(t *testing.T) {
	knn := t.TempDir() // a run directory needs only its spec to be opened
	src, err := os.ReadFile("../../specs/cf/movielense_knn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(knn, "spec.yaml"), src, 0o644)
	out := filepath.Join(t.TempDir(), "m.onnx")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{knn, "-o", out}, "model.name: user_knn cannot be exported to ONNX: it is memory-based"},
		{[]string{knn, "--format", "tflite", "-o", out}, `--format "tflite": pipe exports onnx only`},
		{[]string{t.TempDir(), "-o", out}, "is not a run directory"},
	} {
		code, _, stderr := pipeCmd(t, append([]string{"export"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("export %v: exit %d, %s; want exit 2 with %q", c.args, code, stderr, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused export wrote a file")
	}
}
