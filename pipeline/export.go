package pipeline

import (
	"github.com/gomlx/gomlx/ml/model"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/rundir"
)

// Accessors for pipe export (package onnx), which writes a run's model in
// another format and checks it against the model's own outputs.

// Store returns the model's variables: the layers' weights under their
// stage names ("/dense/kernel"), with the optimizer's and random state.
// Tests set weights through it before comparing an export with Outputs.
func (m *Model) Store() *model.Store { return m.store }

// RestoreFitted returns the rating model that run fitted, rebuilt from its
// checkpoint on the plan's data ds (see restoreFitted).
func (p *Plan) RestoreFitted(run *rundir.Run, ds *data.Dataset) (recsys.Fitted, error) {
	return p.restoreFitted(run, ds)
}
