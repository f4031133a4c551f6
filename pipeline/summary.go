package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/pipe-ml/pipe/ops"
)

// WriteSummary prints the Keras-style table of the plan's layers: name and
// type, output shape, parameter count, and the totals.
func (p *Plan) WriteSummary(w io.Writer) {
	rule := strings.Repeat("_", 65)
	fmt.Fprintf(w, "Model: %q\n%s\n", p.Name, rule)
	fmt.Fprintf(w, " %-28s%-26s%-10s\n", "Layer (type)", "Output Shape", "Param #")
	fmt.Fprintln(w, strings.Repeat("=", 65))
	for _, s := range p.Stages {
		fmt.Fprintf(w, " %-28s%-26s%-10s\n", fmt.Sprintf("%s (%s)", s.Name, s.Kind), ops.FormatShape(s.Out), Thousands(s.NParams))
	}
	fmt.Fprintln(w, strings.Repeat("=", 65))
	fmt.Fprintf(w, "Total params: %s\nTrainable params: %s\nNon-trainable params: 0\n%s\n", Thousands(p.Params()), Thousands(p.Params()), rule)
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
