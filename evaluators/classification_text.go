package evaluators

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteMarkdown writes the report as report.txt: Markdown tables that read
// as plain text in a terminal and render on GitHub or in a notebook. The
// scores table, then the summary metrics, then the confusion matrix.
func (r *ClassificationReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Classification report: %d test examples, %d classes\n\n", r.Examples, len(r.Classes))
	b.WriteString("| class | precision | recall | f1 | support |\n|---|---:|---:|---:|---:|\n")
	for _, s := range r.PerClass {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %d |\n", cell(s.Class), s.Precision, s.Recall, s.F1, s.Support)
	}
	for _, avg := range []struct {
		name string
		a    ClassAverages
	}{{"macro avg", r.Macro}, {"weighted avg", r.Weighted}} {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %d |\n", avg.name, avg.a.Precision, avg.a.Recall, avg.a.F1, r.Examples)
	}
	b.WriteString("\n| metric | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| accuracy | %.4f |\n", r.Accuracy)
	for _, k := range topKs {
		// Top-1 is the accuracy, already written.
		if v, ok := r.TopK[strconv.Itoa(k)]; ok && k > 1 {
			fmt.Fprintf(&b, "| top-%d accuracy | %.4f |\n", k, v)
		}
	}
	if r.ROCAUC != nil {
		fmt.Fprintf(&b, "| ROC AUC (positive: %s) | %.4f |\n", cell(r.Classes[1]), *r.ROCAUC)
	} else if len(r.Classes) == 2 {
		b.WriteString("| ROC AUC | undefined: the test labels hold one class |\n")
	}
	b.WriteString("\nConfusion matrix (rows: true class, columns: predicted class)\n\n| true \\ predicted |")
	for _, c := range r.Classes {
		fmt.Fprintf(&b, " %s |", cell(c))
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(r.Classes)) + "\n")
	for i, row := range r.Confusion {
		fmt.Fprintf(&b, "| %s |", cell(r.Classes[i]))
		for _, v := range row {
			fmt.Fprintf(&b, " %d |", v)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell escapes what would break a Markdown table cell: a class name with
// a pipe or a line break.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}
