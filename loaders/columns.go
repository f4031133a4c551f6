package loaders

import "github.com/pipe-ml/pipe/data"

// InputColumns is a loader whose examples hold several named inputs side
// by side on their last axis: a model's input of one of these names
// (model.inputs) takes its columns unless it gives columns itself. The
// rating loaders declare user and item; a table loader may declare its
// groups of feature columns.
type InputColumns interface {
	InputColumns() []data.Columns
}
