package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws one bar per epoch: examples done, samples/s, ETA and the
// running metrics. With no writer it draws nothing.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	epoch int
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) step(r StepReport) {
	if p.w == nil {
		return
	}
	if p.bar == nil || p.epoch != r.Epoch {
		p.epoch = r.Epoch
		p.bar = progressbar.NewOptions(r.Examples,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("samples"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	var desc strings.Builder
	fmt.Fprintf(&desc, "epoch %d/%d", r.Epoch, r.Epochs)
	for _, n := range r.Names {
		fmt.Fprintf(&desc, " %s %.4f", n, r.Running[n])
	}
	p.bar.Describe(desc.String())
	p.bar.Set(r.Done)
}

// done clears the finished epoch's bar before its summary line.
func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
