package pipeline

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/distributed"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/dtensor"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

func TestParallelMode(t *testing.T) {
	cases := []struct {
		devices, batch int
		parallel       bool
		says           string
	}{
		{1, 128, false, ""}, // one device: nothing changes, nothing is logged
		{4, 128, true, "data-parallel on 4 devices"},
		{4, 130, false, "does not divide"},
		{3, 3, true, "1 per device"},
	}
	for _, c := range cases {
		parallel, line := parallelMode(c.devices, c.batch)
		if parallel != c.parallel || !strings.Contains(line, c.says) || (c.says == "") != (line == "") {
			t.Errorf("%d devices, batch %d: %v %q; want %v and a line with %q", c.devices, c.batch, parallel, line, c.parallel, c.says)
		}
	}
}

func TestCutDevices(t *testing.T) {
	cases := []struct {
		config, rest string
		devices      int
	}{
		{"go", "go", 0},
		{"go:parallelism=2", "go:parallelism=2", 0},
		{"xla:cuda,devices=2", "xla:cuda", 2},
		{"xla:cpu,tf32=false,devices=3", "xla:cpu,tf32=false", 3},
		{"xla:devices=4", "xla", 4},
		{"xla:devices=4,preallocate=false", "xla:,preallocate=false", 4},
	}
	for _, c := range cases {
		rest, n, err := cutDevices(c.config)
		if err != nil || rest != c.rest || n != c.devices {
			t.Errorf("cutDevices(%q) = %q, %d, %v; want %q, %d", c.config, rest, n, err, c.rest, c.devices)
		}
	}
	for _, bad := range []string{"go:devices=0", "xla:cuda,devices=two"} {
		if _, _, err := cutDevices(bad); err == nil {
			t.Errorf("cutDevices(%q) accepted a bad device count", bad)
		}
	}
}

func TestGoBackendDevices(t *testing.T) {
	b, err := NewBackend("go:devices=1")
	if err != nil {
		t.Fatal(err)
	}
	b.Finalize()
	if _, err := NewBackend("go:devices=2"); err == nil || !strings.Contains(err.Error(), "has 1 device") || !strings.Contains(err.Error(), "xla") {
		t.Errorf("the go backend has one device; devices=2 should say so and point at xla: %v", err)
	}
}

// TestOneDeviceNoParallelStep: the Go backend reports one device, so the
// model keeps its one training computation and logs nothing (the golden
// tests check that its results did not change by a bit).
func TestOneDeviceNoParallelStep(t *testing.T) {
	b, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	p, err := Load("../specs/mnist_cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(p, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.parallel != nil || m.mode != "" {
		t.Errorf("one device: parallel step %v, log line %q; want none", m.parallel, m.mode)
	}
}

// TestBatchShards checks the host side of the split: the sharding that the
// data-parallel step gives its inputs sends consecutive slices of the batch,
// examples and labels alike, to the devices in order.
func TestBatchShards(t *testing.T) {
	const devices, batch = 4, 8
	split := data.Split{
		X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{3}}},
		Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{1}, Classes: 10}},
	}
	for i := range 2 * batch {
		split.X.Float = append(split.X.Float, float32(i), float32(i)+0.25, float32(i)+0.5)
		split.Y.Int = append(split.Y.Int, int32(i))
	}
	idx := []int{15, 3, 8, 0, 11, 6, 2, 9} // a shuffled batch
	mesh, err := distributed.NewDeviceMesh([]int{devices}, []string{"batch"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := distributed.BuildSpec(mesh).S("batch").Done()
	if err != nil {
		t.Fatal(err)
	}
	x, err := dtensor.ShardTensor(spec, tensorOf(split.X.Take(idx)))
	if err != nil {
		t.Fatal(err)
	}
	y, err := dtensor.ShardTensor(spec, tensorOf(split.Y.Take(idx)))
	if err != nil {
		t.Fatal(err)
	}
	per := batch / devices
	for d := range devices {
		xs := tensors.MustCopyFlatData[float32](x.Shards()[d])
		ys := tensors.MustCopyFlatData[int32](y.Shards()[d])
		for k, i := range idx[d*per : (d+1)*per] {
			if xs[3*k] != float32(i) || xs[3*k+2] != float32(i)+0.5 || ys[k] != int32(i) {
				t.Fatalf("device %d, row %d: x %v, y %v; want example %d", d, k, xs, ys, i)
			}
		}
	}
	if got := x.Shards()[0].Shape().Dimensions; !slices.Equal(got, []int{per, 3}) {
		t.Errorf("shard shape %v, want [%d 3]", got, per)
	}
}

// TestDataParallelSimulated runs the data-parallel step on simBackend: 4
// devices that are the Go backend (parallel_sim_test.go). The simulation
// computes each step on the whole batch, as one device does, so the two
// runs must agree to the bit; what it leaves out is XLA's partitioning.
func TestDataParallelSimulated(t *testing.T) {
	b, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	sim := &simBackend{Backend: b, devices: 4}
	checkDataParallel(t, sim, 0)
	// 3 whole batches of 2 epochs ran data-parallel; each epoch's last
	// batch (5 examples) does not divide among 4, so it ran on one device.
	if sim.runs != 6 {
		t.Errorf("%d data-parallel steps ran, want 6", sim.runs)
	}
}

// TestDataParallelMatchesOneDevice is the same check on a real backend with
// several devices. Only XLA has them, so it runs where PIPE_TEST_BACKEND
// names one, in a build with -tags xla and an installed PJRT plugin:
//
//	PIPE_TEST_BACKEND=xla:cpu,devices=4 go test -tags xla -run DataParallel ./pipeline
//	PIPE_TEST_BACKEND=xla:cuda go test -tags xla -run DataParallel ./pipeline
//
// Without it the test skips, saying so; with it, a backend that cannot be
// created or has one device fails the test. The devices sum the gradients
// in another order than one device does, hence a tolerance.
func TestDataParallelMatchesOneDevice(t *testing.T) {
	config := os.Getenv("PIPE_TEST_BACKEND")
	if config == "" {
		t.Skip("PIPE_TEST_BACKEND is not set: no multi-device backend to test data-parallel training on (e.g. PIPE_TEST_BACKEND=xla:cpu,devices=4 with -tags xla)")
	}
	b, err := NewBackend(config)
	if err != nil {
		t.Fatalf("PIPE_TEST_BACKEND=%s: %v", config, err)
	}
	defer b.Finalize()
	if n := b.NumDevices(); n < 2 {
		t.Fatalf("PIPE_TEST_BACKEND=%s reports %d device; data-parallel needs several (xla:cpu,devices=4 makes 4 of the CPU)", config, n)
	}
	checkDataParallel(t, b, 1e-4)
}

// checkDataParallel trains the same model twice on b, a backend with
// several devices: with the data-parallel step, and on its first device
// only. It wants the same history and variables, within tolerance
// (relative, or absolute below 1).
func checkDataParallel(t *testing.T, b compute.Backend, tolerance float64) {
	t.Helper()
	n := b.NumDevices()
	data := testdata.Dir(t, "mnist")
	// No dropout, so neither run draws at random; Adam, whose update is not
	// linear in the gradient, shows a wrong average at once. The last batch
	// of each epoch (n+1 examples) does not divide: it runs on one device.
	const layers = "model.layers=[{conv2d: {filters: 3, kernel: 5, activation: relu}}, {max_pool2d: {pool: 2}}, flatten, {dense: {units: 32, activation: relu}}, {dense: {units: 10, activation: softmax}}]"
	p, err := Load("../specs/mnist_cnn.yaml", layers, "train.optimizer={name: adam}",
		fmt.Sprintf("train.batch_size=%d", 8*n), fmt.Sprintf("data.train_limit=%d", 3*8*n+n+1), "data.test_limit=64")
	if err != nil {
		t.Fatal(err)
	}
	ds, closer, err := p.Data(data, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	near := func(a, b float64) bool { return math.Abs(a-b) <= tolerance*max(1, math.Abs(a)) }

	train := func(parallel bool) (*Model, []float64) {
		m, err := NewModel(p, b)
		if err != nil {
			t.Fatal(err)
		}
		if !parallel {
			m.parallel, m.mode = nil, ""
		}
		var logged string
		h, err := m.Fit(&ds.Train, &ds.Test, 2, FitOptions{Log: func(f string, a ...any) { logged += fmt.Sprintf(f, a...) }})
		if err != nil {
			t.Fatalf("parallel=%v: %v", parallel, err)
		}
		if want := fmt.Sprintf("data-parallel on %d devices", n); parallel != strings.Contains(logged, want) {
			t.Fatalf("parallel=%v logged %q", parallel, logged)
		}
		flat := slices.Concat(h.Values...)
		// Predictions come from the first device after the last step.
		out, err := m.Outputs(&ds.Test)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out {
			flat = append(flat, float64(v))
		}
		return m, flat
	}
	one, oneRes := train(false)
	par, parRes := train(true)
	for i := range oneRes {
		if !near(oneRes[i], parRes[i]) {
			t.Fatalf("history or prediction %d: one device %v, data-parallel %v", i, oneRes[i], parRes[i])
		}
	}
	oneVars, err := one.snapshotVars()
	if err != nil {
		t.Fatal(err)
	}
	parVars, err := par.snapshotVars()
	if err != nil {
		t.Fatal(err)
	}
	if len(oneVars) != len(parVars) {
		t.Errorf("%d variables on one device, %d data-parallel", len(oneVars), len(parVars))
	}
	for path, want := range oneVars {
		if want.DType() != dtypes.Float32 {
			continue // the random generator's state: no dropout, so never drawn from
		}
		a, b := tensors.MustCopyFlatData[float32](want), tensors.MustCopyFlatData[float32](parVars[path])
		for i := range a {
			if !near(float64(a[i]), float64(b[i])) {
				t.Errorf("%s[%d]: one device %v, data-parallel %v", path, i, a[i], b[i])
				break
			}
		}
	}
}
