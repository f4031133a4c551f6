package pipeline

import (
	"bytes"
	"fmt"

	"github.com/pipe-ml/pipe/arrowio"
	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/rundir"
)

// classificationReport is the run directory's classification report of a
// classifier's test predictions (the rows of predictions.arrow that have
// class probabilities); nil, without error, for any other model.
func classificationReport(rows *arrowio.PredictionRows) (*rundir.Report, error) {
	if rows == nil || rows.Probabilities == nil {
		return nil, nil
	}
	labels, predicted := make([]int, len(rows.Label)), make([]int, len(rows.Prediction))
	for i, l := range rows.Label {
		if labels[i] = int(l); float32(labels[i]) != l {
			return nil, fmt.Errorf("example %d: label %v is not a class", i, l)
		}
	}
	for i, p := range rows.Prediction {
		predicted[i] = int(p)
	}
	r, err := evaluators.Classify(labels, predicted, rows.Probabilities, rows.ClassNames)
	if err != nil {
		return nil, err
	}
	var text bytes.Buffer
	if err := r.WriteMarkdown(&text); err != nil {
		return nil, err
	}
	return &rundir.Report{JSON: r, Text: text.Bytes(), Confusion: rundir.Confusion{Classes: r.Classes, Counts: r.Confusion}}, nil
}
