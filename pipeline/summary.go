package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/ops"
	"github.com/pipe-ml/pipe/recsys"
)

// WriteSummary prints the Keras-style table of the plan's model, from the
// spec alone: a layer stack's layers with their output shapes and
// parameter counts, and the totals; for a rating model, whose size depends
// on the data's users and items, the formula of its count.
func (p *Plan) WriteSummary(w io.Writer) {
	n, _ := p.ParamCount(nil)
	p.writeSummary(w, n)
}

// WriteTrainedSummary is WriteSummary for a run's summary.txt: a rating
// model's total is the number of parameters res's model learned.
func (p *Plan) WriteTrainedSummary(w io.Writer, res *Result) {
	p.writeSummary(w, p.TrainedParams(res))
}

// ParamCount is the number of trainable parameters of the plan's model
// for rating data described by info (nil for none or unknown), and for a
// rating model the formula that gives it from the data's sizes. A layer
// stack's count does not depend on the data. n is -1 where it cannot be
// known: a rating model without info, or one that does not count.
func (p *Plan) ParamCount(info *data.RatingInfo) (n int, formula string) {
	if p.Recommender == nil {
		return p.Params(), ""
	}
	if c, ok := p.Recommender.(recsys.ParamCounter); ok {
		return c.ParamCount(info)
	}
	return -1, "not counted"
}

// TrainedParams is the number of trainable parameters of the model res
// trained, for metrics.json and golden files: a layer stack's, or as many
// as the fitted rating model learned (-1 if it cannot say).
func (p *Plan) TrainedParams(res *Result) int {
	if p.Recommender == nil {
		return p.Params()
	}
	if res != nil {
		if c, ok := res.fitted.(recsys.ParamCounted); ok {
			return c.TrainableParams()
		}
	}
	n, _ := p.ParamCount(nil)
	return n
}

// writeSummary writes the table with n, -1 when unknown, as the total of
// a rating model.
func (p *Plan) writeSummary(w io.Writer, n int) {
	rule := strings.Repeat("_", 65)
	if p.Recommender != nil {
		fmt.Fprintf(w, "Model: %q\n%s\n", p.Name, rule)
		_, formula := p.ParamCount(nil)
		// The column starts where the layer table's Output Shape does; a
		// longer name (matrix_factorization (model)) keeps a space before it.
		fmt.Fprintf(w, " %-27s %s\n", "Model (type)", "Param #")
		fmt.Fprintln(w, strings.Repeat("=", 65))
		fmt.Fprintf(w, " %-27s %s\n", fmt.Sprintf("%s (model)", p.ModelName), formula)
		fmt.Fprintln(w, strings.Repeat("=", 65))
		total := Thousands(n)
		if n < 0 { // in the data's sizes: the spec alone does not give them
			total = formula
		}
		fmt.Fprintf(w, "Total params: %s\nTrainable params: %s\nNon-trainable params: 0\n%s\n", total, total, rule)
		return
	}
	// The table first, since the rule above it is as wide as it is.
	var table strings.Builder
	if len(p.Inputs) == 1 && ops.Sequential(p.Stages) {
		fmt.Fprintf(&table, " %-28s%-26s%-10s\n", "Layer (type)", "Output Shape", "Param #")
		fmt.Fprintln(&table, strings.Repeat("=", 65))
		for _, s := range p.Stages {
			fmt.Fprintf(&table, " %-28s%-26s%-10s\n", fmt.Sprintf("%s (%s)", s.Name, s.Kind), ops.FormatShape(s.Out), Thousands(stageParams(s)))
		}
		fmt.Fprintln(&table, strings.Repeat("=", 65))
	} else {
		rule = p.writeGraphTable(&table)
	}
	fmt.Fprintf(w, "Model: %q\n%s\n%s", p.Name, rule, table.String())
	state := p.NonTrainableParams()
	fmt.Fprintf(w, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n%s\n", Thousands(p.Params()+state), Thousands(p.Params()), Thousands(state), rule)
}

// stageParams is a stage's count in the table: Keras' column counts a
// layer's state with its weights.
func stageParams(s ops.Stage) int { return s.NParams + ops.NonTrainableParams(s.Layer, s.In) }

// writeGraphTable writes Keras' table of a functional model: each layer
// with what it is connected to, the input layer first. Columns are as wide
// as their longest entry. It returns the table's closing rule.
func (p *Plan) writeGraphTable(w io.Writer) string {
	rows := [][4]string{{"Layer (type)", "Output Shape", "Param #", "Connected to"}}
	for _, in := range p.Inputs {
		rows = append(rows, [4]string{in.Name + " (input_layer)", ops.FormatShape(in.Shape), "0", "-"})
	}
	for _, s := range p.Stages {
		var from []string
		for _, f := range s.From {
			if f < len(p.Inputs) {
				from = append(from, p.Inputs[f].Name)
			} else {
				from = append(from, p.Stages[f-len(p.Inputs)].Name)
			}
		}
		rows = append(rows, [4]string{fmt.Sprintf("%s (%s)", s.Name, s.Kind), ops.FormatShape(s.Out), Thousands(stageParams(s)), strings.Join(from, ", ")})
	}
	var width [4]int
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c)+2)
		}
	}
	total := width[0] + width[1] + width[2] + width[3]
	line := func(r [4]string) {
		fmt.Fprintf(w, " %-*s%-*s%-*s%s\n", width[0], r[0], width[1], r[1], width[2], r[2], r[3])
	}
	line(rows[0])
	fmt.Fprintln(w, strings.Repeat("=", total))
	for _, r := range rows[1:] {
		line(r)
	}
	fmt.Fprintln(w, strings.Repeat("=", total))
	return strings.Repeat("_", total)
}

// NonTrainableParams is the number of values of a layer stack's state
// (batch_normalization's moving statistics), which Keras' summary counts
// as non-trainable params; 0 for a rating model.
func (p *Plan) NonTrainableParams() int {
	n := 0
	for _, s := range p.Stages {
		n += ops.NonTrainableParams(s.Layer, s.In)
	}
	return n
}

// Thousands writes n with comma separators, as Keras' summary does.
func Thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
