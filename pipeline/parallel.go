package pipeline

import (
	"fmt"

	"github.com/gomlx/compute/distributed"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/dtensor"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pipe-ml/pipe/data"
)

// dataParallel is the training step spread over several devices of one
// backend: every batch is split along its first axis, one slice per device,
// and the variables are replicated on all of them.
//
// It uses GoMLX's AutoSharding strategy, its recommended one for training
// (core/graph/distributed.go): the step is the very graph of the single
// device, trainGraph, given the whole batch's logical shape; XLA's Shardy
// partitioner splits it by the inputs' sharding and inserts the all-reduce
// wherever a value sums over the batch (the loss's mean, so the gradients,
// and the metric sums). Every device then applies the same averaged update,
// and the step means what it means on one device. SPMD, GoMLX's other
// strategy, would need every batch-wide reduction of every layer written as
// a cross-device one by hand. Only XLA implements either: the Go backend has
// one device and no collective operations.
type dataParallel struct {
	exec    *model.Exec
	batch   *distributed.ShardingSpec // the inputs' first axis split over the mesh
	devices int
}

// parallelMode decides how a backend with devices devices trains batches of
// batch examples. It returns whether to go data-parallel and the line that
// tells the user which way it went ("" for one device: nothing changes).
func parallelMode(devices, batch int) (bool, string) {
	switch {
	case devices <= 1:
		return false, ""
	case batch%devices != 0:
		return false, fmt.Sprintf("training on 1 of %d devices: batch_size %d does not divide among them (a multiple of %d trains data-parallel)", devices, batch, devices)
	}
	return true, fmt.Sprintf("training data-parallel on %d devices (GoMLX AutoSharding): each batch of %d splits into %d per device, gradients all-reduced", devices, batch, batch/devices)
}

// newDataParallel builds the data-parallel step of m over devices devices.
func newDataParallel(m *Model, devices int) (*dataParallel, error) {
	mesh, err := distributed.NewDeviceMesh([]int{devices}, []string{"batch"})
	if err != nil {
		return nil, err
	}
	batch, err := distributed.BuildSpec(mesh).S("batch").Done()
	if err != nil {
		return nil, err
	}
	exec, err := model.NewExec(m.backend, m.store, m.trainGraph)
	if err != nil {
		return nil, err
	}
	// Variables (and so the updated ones the step returns) and the metric
	// sums are replicated: AutoSharding also makes this the store's default,
	// while the one-device computations keep using plain parameters.
	exec.AutoSharding(mesh).
		WithInputShardingSpecs(batch, batch).
		WithOutputShardingSpecs(distributed.NewReplicatedShardingSpec(mesh))
	return &dataParallel{exec: exec, batch: batch, devices: devices}, nil
}

// run trains on a batch (of a multiple of the device count) and returns
// its metric sums.
func (p *dataParallel) run(xb, yb data.Array) ([]float64, error) {
	x, err := dtensor.ShardTensor(p.batch, tensorOf(xb))
	if err != nil {
		return nil, err
	}
	defer x.FinalizeAll()
	y, err := dtensor.ShardTensor(p.batch, tensorOf(yb))
	if err != nil {
		return nil, err
	}
	defer y.FinalizeAll()
	out, err := p.exec.Call(x, y)
	if err != nil {
		return nil, err
	}
	// One replica of the metric sums per device, all equal: read the first.
	defer func() {
		for _, t := range out {
			t.FinalizeAll()
		}
	}()
	if len(out) != p.devices {
		return nil, fmt.Errorf("data-parallel step returned %d outputs for %d devices", len(out), p.devices)
	}
	return metricValues(out[0])
}

// step trains on examples idx of split.
func (m *Model) step(split *data.Split, idx []int) ([]float64, error) {
	x, y, err := m.plan.batch(split, idx)
	if err != nil {
		return nil, err
	}
	return m.stepOn(x, y)
}

// stepOn trains on a batch as the model takes it: data-parallel when m
// has several devices and the batch divides among them (an epoch's last,
// short batch may not: it runs on one device, the same update computed in
// one place), else exactly as on a single device.
func (m *Model) stepOn(x, y data.Array) ([]float64, error) {
	if p := m.parallel; p != nil && x.Len()%p.devices == 0 {
		return p.run(x, y)
	}
	return runBatch(m.trainStep, x, y)
}

// metricValues reads a vector of metric sums.
func metricValues(t *tensors.Tensor) ([]float64, error) {
	sums, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	res := make([]float64, len(sums))
	for i, s := range sums {
		res[i] = float64(s)
	}
	return res, nil
}
