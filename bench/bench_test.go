package bench

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStat(t *testing.T) {
	for _, c := range []struct {
		vs   []float64
		want Stat
		text string
	}{
		{nil, Stat{}, "n/a"},
		{[]float64{7}, Stat{7, 7, 7, 1}, "7"},
		{[]float64{300, 100, 200}, Stat{200, 100, 300, 3}, "200 (100–300)"},
		{[]float64{4, 1, 3, 2}, Stat{2.5, 1, 4, 4}, "2.5 (1–4)"},
		{[]float64{12345.6, 12345.6}, Stat{12345.6, 12345.6, 12345.6, 2}, "12,346"},
	} {
		got := Of(c.vs)
		if got != c.want {
			t.Errorf("Of(%v) = %+v, want %+v", c.vs, got, c.want)
		}
		if s := got.Format(Rate); s != c.text {
			t.Errorf("Of(%v).Format(Rate) = %q, want %q", c.vs, s, c.text)
		}
	}
}

func TestUnits(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Rate(1234567.4), "1,234,567"},
		{Rate(100), "100"},
		{Rate(5.678), "5.68"},
		{Seconds(0.034), "0.03 s"},
		{Seconds(13.97), "14.0 s"},
		{MB(1650.4), "1,650 MB"},
		{Ratio(Of([]float64{277}), Of([]float64{6})), "46.2x"},
		{Ratio(Of([]float64{9}), Of([]float64{10})), "0.90x"},
		{Ratio(Of([]float64{9}), Stat{}), "n/a"},
		{gflops(172880, Of([]float64{10000})), "10.4"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// fake writes an executable shell script.
func fake(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMissingReference(t *testing.T) {
	script := filepath.Join(t.TempDir(), "reference.py")
	os.WriteFile(script, []byte("# a script"), 0o644)
	for _, c := range []struct {
		name string
		ref  Reference
		want string
	}{
		{"no interpreter", Reference{Python: "/nonexistent/python3", Script: script}, "no PyTorch reference: no Python interpreter /nonexistent/python3 (install it with apt-get install -y python3-torch"},
		{"no torch", Reference{Python: fake(t, `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`), Script: script}, "cannot import torch (install it with apt-get"},
		{"exit 3", Reference{Python: fake(t, `echo "no torch: something" >&2; exit 3`), Script: script}, "cannot import torch"},
		{"no script", Reference{Python: "/bin/sh", Script: "/nonexistent/reference.py"}, "no PyTorch reference: no script at /nonexistent/reference.py"},
	} {
		_, err := c.ref.Probe(2)
		var missing *MissingError
		if !errors.As(err, &missing) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a MissingError with %q", c.name, err, c.want)
		}
	}
	// Any other failure is an error of the reference, with the traceback's last line.
	_, err := Reference{Python: fake(t, `echo "Traceback" >&2; echo "ValueError: bad" >&2; exit 1`), Script: script}.Probe(2)
	var missing *MissingError
	if err == nil || errors.As(err, &missing) || !strings.HasSuffix(err.Error(), ": ValueError: bad") {
		t.Errorf("a failing script: %v", err)
	}
}

const infoJSON = `{"torch": "1.13.0", "blas": "OpenBLAS 0.3.21", "conv": "oneDNN v2.6.3", "flush_denormal": true, "threads": 2, "ceiling_gflops": 150.5, "models": ["mnist_cnn", "imdb_lstm"]}`

// TestRun runs the harness on fake children: pipe's prints a line, the
// reference's its info or a measurement by its first argument. Only the
// models the reference has get its measurements; trials alternate.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "calls")
	self := fake(t, `echo "pipe $*" >> `+logf+`
case "$*" in
  *--one-start*) for a in "$@"; do dir=$a; done; mkdir -p "$dir/entry"; echo '{"start_s": 1.5}'; exit 0;;
esac
echo '{"spec": "x", "batch": 4, "steps": 3, "first_step_s": 0.5, "samples_per_s": 100, "eval_samples_per_s": 300, "predict_samples_per_s": 400, "peak_rss_mb": 80}'`)
	python := fake(t, `echo "torch $2" >> `+logf+`
case "$2" in
  --info) echo '`+infoJSON+`';;
  *) echo '{"model": "'$2'", "batch": 4, "steps": 3, "first_step_s": 1.25, "train_samples_per_s": 50, "eval_samples_per_s": 150, "predict_samples_per_s": 200, "macs_per_sample": 1000, "conv": ["aten::mkldnn_convolution"], "peak_rss_mb": 250}';;
esac`)
	script := filepath.Join(dir, "reference.py")
	os.WriteFile(script, nil, 0o644)
	o := Options{Self: []string{self, "bench"}, Threads: 2, Trials: 2, MinTime: time.Second, Start: true,
		Ref: Reference{Python: python, Script: script}}
	info, err := o.Ref.Probe(2)
	if err != nil {
		t.Fatal(err)
	}
	targets := []Target{{Spec: "a.yaml", Name: "mnist_cnn", Batch: 4, Optimizer: "adam", MACs: 1000, Uncounted: []string{"flatten"}}, {Spec: "b.yaml", Name: "mine", Batch: 4, MACs: 10_000_000}}
	res := Run(o, targets, info)
	if !res[0].HasRef || res[1].HasRef {
		t.Errorf("references: mnist_cnn %v, mine %v", res[0].HasRef, res[1].HasRef)
	}
	if len(res[0].Pipe) != 2 || len(res[0].Torch) != 2 || len(res[0].Cold) != 2 || len(res[1].Pipe) != 2 || len(res[1].Torch) != 0 {
		t.Errorf("trials: %d %d %d %d %d", len(res[0].Pipe), len(res[0].Torch), len(res[0].Cold), len(res[1].Pipe), len(res[1].Torch))
	}
	calls, _ := os.ReadFile(logf)
	var order []string
	for _, l := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
		f := strings.Fields(l)
		switch {
		case f[0] == "torch":
			order = append(order, "torch "+f[1])
		case slices.Contains(f, "--one-start"):
			order = append(order, "start "+f[3])
		default:
			order = append(order, "pipe "+f[3])
		}
	}
	want := []string{"torch --info",
		"pipe a.yaml", "start a.yaml", "start a.yaml", "torch mnist_cnn", "pipe b.yaml", "start b.yaml", "start b.yaml",
		"torch --info", "pipe a.yaml", "start a.yaml", "start a.yaml", "torch mnist_cnn", "pipe b.yaml", "start b.yaml", "start b.yaml"}
	if !slices.Equal(info.Ceilings, []float64{150.5, 150.5}) {
		t.Errorf("ceilings %v, want one per trial", info.Ceilings)
	}
	if !slices.Equal(order, want) {
		t.Errorf("calls:\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}

	var buf bytes.Buffer
	WriteTable(&buf, Header{Date: "2026-01-02", CPU: "Some CPU", Threads: 2, Backend: "go", Trials: 2, Ref: o.Ref, Info: info}, res)
	out := buf.String()
	for _, want := range []string{
		"pipe bench, 2026-01-02, Some CPU, 2 threads, backend go; median of 2 trials",
		"BLAS OpenBLAS 0.3.21; convolutions oneDNN v2.6.3",
		"Denormals: PyTorch's flushed to zero",
		"2 threads, 150.5 GFLOP/s",
		"| mnist_cnn | 4 | 100 | 50 | 2.00x | 300 | 150 | 2.00x | 400 | 200 | 2.00x | 0.50 s | 1.25 s | 1.50 s | 1.50 s | 80 MB | 250 MB | 0.0006 | 0.0003 |",
		"| mine | 4 | 100 | no reference | n/a | 300 | no reference | n/a | 400 | no reference | n/a | 0.50 s | no reference | 1.50 s | 1.50 s | 80 MB | no reference | 6 | no reference |",
		"- mnist_cnn: 1,000 multiply-adds per example (forward); counted as 0: flatten",
		"- mnist_cnn: PyTorch's convolutions run aten::mkldnn_convolution",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table has no %q:\n%s", want, out)
		}
	}

	// Without the reference, pipe's numbers and a line that says why.
	buf.Reset()
	ref := Reference{Python: "/nonexistent/python3", Script: script}
	_, infoErr := ref.Probe(2)
	WriteTable(&buf, Header{Threads: 2, Trials: 2, Ref: ref, InfoErr: infoErr}, Run(o, targets[:1], nil))
	out = buf.String()
	for _, want := range []string{
		"PyTorch: no PyTorch reference: no Python interpreter /nonexistent/python3",
		"| mnist_cnn | 4 | 100 | n/a | n/a | 300 | n/a |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table has no %q:\n%s", want, out)
		}
	}
}

func TestDefaultScript(t *testing.T) {
	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644)
	os.MkdirAll(filepath.Join(repo, "bench/torch"), 0o755)
	os.WriteFile(filepath.Join(repo, ScriptPath), []byte("# here"), 0o644)
	os.MkdirAll(filepath.Join(repo, "cmd/pipe"), 0o755)
	got, _, err := DefaultScript(filepath.Join(repo, "cmd/pipe"), "/nonexistent/bin/pipe")
	if err != nil || got != filepath.Join(repo, ScriptPath) {
		t.Errorf("from inside the repository: %q, %v", got, err)
	}
	got, _, err = DefaultScript(t.TempDir(), filepath.Join(repo, "pipe"))
	if err != nil || got != filepath.Join(repo, ScriptPath) {
		t.Errorf("beside the binary: %q, %v", got, err)
	}
	got, done, err := DefaultScript(t.TempDir(), "/nonexistent/bin/pipe")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, script) {
		t.Errorf("outside a repository: %s does not hold the built-in script", got)
	}
	done()
	if _, err := os.Stat(got); err == nil {
		t.Errorf("%s is left behind", got)
	}
}

// TestReferenceNames: every model of the reference is a shipped spec's
// name, so that pipe bench finds it.
func TestReferenceNames(t *testing.T) {
	names := map[string]bool{}
	for _, pattern := range []string{"../specs/*.yaml", "../specs/cf/*.yaml"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := regexp.MustCompile(`(?m)^name: (\S+)`).FindSubmatch(b); m != nil {
				names[string(m[1])] = true
			}
		}
	}
	models := regexp.MustCompile(`(?m)^    "(\w+)": lambda`).FindAllSubmatch(script, -1)
	if len(models) < 9 {
		t.Fatalf("found %d models in the reference", len(models))
	}
	for _, m := range models {
		if !names[string(m[1])] {
			t.Errorf("the reference's model %s is no shipped spec's name", m[1])
		}
	}
	for _, spec := range Models {
		if _, err := os.Stat(filepath.Join("..", spec)); err != nil {
			t.Errorf("default model %s: %v", spec, err)
		}
	}
}
