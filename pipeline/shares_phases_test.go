package pipeline

import (
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/spec"
)

// sharesSpec uses dense's weights twice: on the input and on its own
// output, as GLocal-K runs its autoencoder on the matrix and on the
// convolved matrix.
const sharesSpec = `name: s
data: {loader: mnist, transforms: [{reshape: {shape: [784]}}, {one_hot: {classes: 10}}]}
model:
  input: {shape: [784]}
  layers:
    - dense: {units: 784, l2: 0.5}
      name: enc
    - {shares: enc}
    - dense: {units: 10}
train: {loss: mse, optimizer: sgd, phases: [{epochs: 2, outputs: [dense]}, {epochs: 3}]}
`

// TestSharesAndPhases: a shared use has the owner's kind, reads what it
// is given, counts no parameters of its own; phases sum to the epochs,
// and a phase naming no outputs trains on all.
func TestSharesAndPhases(t *testing.T) {
	s, err := spec.Parse("s.yaml", []byte(sharesSpec))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stages[1]
	if st.Name != "enc_shared" || st.Kind != "dense" || st.Shares != "enc" || st.NParams != 0 || st.From[0] != 1 {
		t.Errorf("shared use: %+v", st)
	}
	if got, want := p.Params(), 784*784+784+7850; got != want {
		t.Errorf("Params = %d, want %d (the shared weights once)", got, want)
	}
	if p.Train.Epochs != 5 || len(p.Train.Phases) != 2 || !p.Train.Phases[1].On[0] {
		t.Errorf("phases: epochs %d, %+v", p.Train.Epochs, p.Train.Phases)
	}
	if ph := p.Train.phaseOf(3); ph != &p.Train.Phases[1] {
		t.Error("epoch 3 should fall in the second phase")
	}
	q := p.GoldenRun()
	if q.Train.Epochs != 2 || q.Train.Phases[0].Epochs != 1 || q.Train.Phases[1].Epochs != 1 || p.Train.Phases[1].Epochs != 3 {
		t.Errorf("golden run (epochs 1): %d epochs, phases %+v; the plan's own phases must stay", q.Train.Epochs, q.Train.Phases)
	}
	for _, c := range []struct{ from, to, want string }{
		{"{shares: enc}", "{shares: nope}", `no earlier layer named "nope"`},
		{"{shares: enc}", "dense: {units: 3}\n      shares: enc", "without dense"},
		{"outputs: [dense]", "outputs: [dens]", `no model output "dens"`},
		{"- {shares: enc}", "- dense: {units: 5}\n    - {shares: enc}", "it reads (None, 5)"},
	} {
		src := strings.Replace(sharesSpec, c.from, c.to, 1)
		s, err := spec.Parse("s.yaml", []byte(src))
		if err == nil {
			_, err = Compile(s)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.to, err, c.want)
		}
	}
}

// TestEarlyStoppingWatchesLastPhase: with phases, early stopping is
// accepted and counts from the last phase's first epoch: the low values
// of the first phase neither set the best nor count towards patience.
func TestEarlyStoppingWatchesLastPhase(t *testing.T) {
	src := strings.Replace(sharesSpec, "phases:", "early_stopping: {monitor: loss, patience: 1}, phases:", 1)
	s, err := spec.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	from := p.Train.lastPhaseStart()
	if from != 3 {
		t.Fatalf("the last phase starts at epoch %d, want 3", from)
	}
	h := &data.History{}
	stop := newStopper(p.Train.EarlyStopping, from)
	var stopped int
	for epoch, v := range []float64{0.1, 0.1, 0.5, 0.6, 0.7, 0.8} {
		h.Add("loss", v)
		done, err := stop.after(nil, h)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			stopped = epoch + 1
			break
		}
	}
	if stopped != 5 {
		t.Errorf("stopped after epoch %d; want 5 (best 0.5 at epoch 3, then two epochs without improvement)", stopped)
	}
	resumed := newStopper(p.Train.EarlyStopping, from)
	h = &data.History{}
	for _, v := range []float64{0.1, 0.1, 0.5, 0.6} {
		h.Add("loss", v)
	}
	if best := resumed.replay(h); best != 3 || resumed.wait != 1 {
		t.Errorf("replay: best epoch %d, wait %d; want 3 and 1", best, resumed.wait)
	}
}
