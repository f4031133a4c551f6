package pipeline

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
)

// simBackend stands in, in tests, for a backend with several devices: only
// XLA has them, and it cannot run here. It is the Go backend with its one
// device shown as `devices`, and it runs an AutoSharding computation by
// what that computation means rather than as XLA would: it gathers each
// input's shards into the whole (logical) value, runs the one-device
// computation once, and gives every device a copy of each output. So it
// checks all that pipe and GoMLX's distributed machinery do around the
// partitioner (sharding the batch, replicating and updating the variables
// per device, collecting outputs) but not XLA's partitioning and
// all-reduce themselves.
//
// It supports what data-parallel training uses: one mesh of one axis,
// inputs sharded on their first axis or replicated, replicated outputs. It
// also checks on every run that the replicas of a replicated input agree.
type simBackend struct {
	compute.Backend     // the Go backend
	devices         int // what it reports
	runs            int // distributed computations run
}

func (b *simBackend) Name() string           { return "sim" }
func (b *simBackend) NumDevices() int        { return b.devices }
func (b *simBackend) HasSharedBuffers() bool { return false }

func (b *simBackend) NewSharedBuffer(compute.DeviceNum, shapes.Shape) (compute.Buffer, any, error) {
	return nil, nil, errors.New("sim: no shared buffers")
}

func (b *simBackend) BufferFromFlatData(dev compute.DeviceNum, flat any, shape shapes.Shape) (compute.Buffer, error) {
	if int(dev) < 0 || int(dev) >= b.devices {
		return nil, fmt.Errorf("sim: no device %d of %d", dev, b.devices)
	}
	buf, err := b.Backend.BufferFromFlatData(0, flat, shape)
	if err != nil {
		return nil, err
	}
	return &simBuffer{Buffer: buf, b: b, dev: dev}, nil
}

func (b *simBackend) Builder(name string) compute.Builder {
	return &simBuilder{Builder: b.Backend.Builder(name), b: b, devices: 1}
}

// simBuffer is a Go backend buffer that says it is on device dev.
type simBuffer struct {
	compute.Buffer
	b   *simBackend
	dev compute.DeviceNum
}

func (x *simBuffer) Backend() compute.Backend              { return x.b }
func (x *simBuffer) DeviceNum() (compute.DeviceNum, error) { return x.dev, nil }
func (x *simBuffer) Data() (any, error)                    { return nil, errors.New("sim: no shared buffers") }
func (x *simBuffer) CopyToDevice(dev compute.DeviceNum) (compute.Buffer, error) {
	flat, shape, err := readBuffer(x.Buffer)
	if err != nil {
		return nil, err
	}
	return x.b.BufferFromFlatData(dev, flat, shape)
}

// readBuffer copies a buffer's data to a new Go slice.
func readBuffer(buf compute.Buffer) (any, shapes.Shape, error) {
	shape, err := buf.Shape()
	if err != nil {
		return nil, shape, err
	}
	flat := reflect.MakeSlice(reflect.SliceOf(shape.DType.GoType()), shape.Size(), shape.Size()).Interface()
	return flat, shape, buf.ToFlatData(flat)
}

// simBuilder records the mesh and the parameters' sharding.
type simBuilder struct {
	compute.Builder
	b       *simBackend
	devices int
	main    *simFunction
}

func (s *simBuilder) DistributedAutoSharding(meshes ...compute.Mesh) error {
	if len(meshes) != 1 || len(meshes[0].AxesSizes) != 1 {
		return fmt.Errorf("sim: one mesh of one axis only, got %+v", meshes)
	}
	s.devices = meshes[0].AxesSizes[0]
	return nil
}

func (s *simBuilder) DistributedSPMD(int) error { return errors.New("sim: SPMD is not simulated") }

func (s *simBuilder) DeviceAssignment(devices ...compute.DeviceNum) error {
	if len(devices) != s.devices {
		return fmt.Errorf("sim: %d devices assigned to a computation on %d", len(devices), s.devices)
	}
	return nil
}

func (s *simBuilder) Main() compute.Function {
	if s.main == nil {
		s.main = &simFunction{Function: s.Builder.Main()}
	}
	return s.main
}

func (s *simBuilder) Compile() (compute.Executable, error) {
	exec, err := s.Builder.Compile()
	if err != nil {
		return nil, err
	}
	return &simExec{Executable: exec, b: s.b, devices: s.devices, params: s.Main().(*simFunction).params}, nil
}

// simFunction keeps the shardings from the Go backend, which takes none.
type simFunction struct {
	compute.Function
	params []*compute.ShardingSpec
}

func (f *simFunction) Parameter(name string, shape shapes.Shape, sharding *compute.ShardingSpec) (compute.Value, error) {
	if !replicatedSpec(sharding) && (len(sharding.Axes[0]) != 1 || !replicatedSpec(&compute.ShardingSpec{Axes: sharding.Axes[1:]})) {
		return nil, fmt.Errorf("sim: parameter %s: only the first axis can be sharded, got %+v", name, sharding)
	}
	f.params = append(f.params, sharding)
	return f.Function.Parameter(name, shape, nil)
}

func (f *simFunction) Return(outputs []compute.Value, shardings []*compute.ShardingSpec) error {
	for i, s := range shardings {
		if s != nil && !replicatedSpec(s) {
			return fmt.Errorf("sim: output %d is sharded (%+v); only replicated outputs are simulated", i, s)
		}
	}
	return f.Function.Return(outputs, nil)
}

func replicatedSpec(s *compute.ShardingSpec) bool {
	return s == nil || !slices.ContainsFunc(s.Axes, func(a []string) bool { return len(a) > 0 })
}

// simExec runs a computation on its logical values (see simBackend).
type simExec struct {
	compute.Executable
	b       *simBackend
	devices int
	params  []*compute.ShardingSpec
}

func (e *simExec) Execute(inputs []compute.Buffer, donate []bool, dev compute.DeviceNum) ([]compute.Buffer, error) {
	n := e.devices
	np := len(inputs) / n
	logical := make([]compute.Buffer, np)
	logicalDonate := make([]bool, np)
	for p := range np {
		var spec *compute.ShardingSpec
		if n > 1 {
			spec = e.params[p]
		}
		if replicatedSpec(spec) {
			logical[p], logicalDonate[p] = inputs[p].(*simBuffer).Buffer, donate[p]
			if err := e.sameReplicas(inputs, donate, p, np); err != nil {
				return nil, err
			}
			continue
		}
		// Sharded on the first axis: the shards, in device order, are
		// consecutive slices of the whole.
		var whole reflect.Value
		var shape shapes.Shape
		for d := range n {
			flat, s, err := readBuffer(inputs[d*np+p].(*simBuffer).Buffer)
			if err != nil {
				return nil, err
			}
			if d == 0 {
				whole, shape = reflect.ValueOf(flat), s.Clone()
			} else {
				whole = reflect.AppendSlice(whole, reflect.ValueOf(flat))
			}
			if donate[d*np+p] {
				inputs[d*np+p].Finalize()
			}
		}
		shape.Dimensions[0] *= n
		buf, err := e.b.Backend.BufferFromFlatData(0, whole.Interface(), shape)
		if err != nil {
			return nil, err
		}
		logical[p], logicalDonate[p] = buf, true
	}
	outs, err := e.Executable.Execute(logical, logicalDonate, 0)
	if err != nil {
		return nil, err
	}
	if n == 1 {
		for i, o := range outs {
			outs[i] = &simBuffer{Buffer: o, b: e.b, dev: dev}
		}
		return outs, nil
	}
	e.b.runs++
	res := make([]compute.Buffer, 0, n*len(outs))
	for d := range n {
		for _, o := range outs {
			if d == 0 {
				res = append(res, &simBuffer{Buffer: o, b: e.b})
				continue
			}
			c, err := (&simBuffer{Buffer: o, b: e.b}).CopyToDevice(compute.DeviceNum(d))
			if err != nil {
				return nil, err
			}
			res = append(res, c)
		}
	}
	return res, nil
}

// sameReplicas checks that every device got the same value of replicated
// parameter p, and frees the donated copies beyond the first.
func (e *simExec) sameReplicas(inputs []compute.Buffer, donate []bool, p, np int) error {
	if e.devices == 1 {
		return nil
	}
	first, _, err := readBuffer(inputs[p].(*simBuffer).Buffer)
	if err != nil {
		return err
	}
	for d := 1; d < e.devices; d++ {
		in := inputs[d*np+p].(*simBuffer)
		v, _, err := readBuffer(in.Buffer)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(first, v) {
			return fmt.Errorf("sim: replicated parameter %d differs between devices 0 and %d", p, d)
		}
		if donate[d*np+p] {
			in.Finalize()
		}
	}
	return nil
}
