package spec_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	_ "github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/ops"
	_ "github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

const good = `
name: t
data:
  loader: mnist
  train_limit: 100
  transforms:
    - scale: {divide: 255}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28]}
  layers:
    - flatten
    - dense: {units: 10}
    - activation: {activation: softmax}
train:
  loss: categorical_crossentropy
  optimizer: {name: sgd, momentum: 0.9}
evaluate: [accuracy]
`

func TestParseGood(t *testing.T) {
	s, err := spec.Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	// Defaults fill what the spec leaves out.
	if s.Train.BatchSize != 32 || s.Train.Epochs != 1 || s.Train.Validation.Split != "test" || s.Backend != "go" {
		t.Errorf("defaults not applied: %+v", s.Train)
	}
	if s.Data.Loader.Kind != "mnist" || s.Data.TrainLimit != 100 {
		t.Errorf("inline loader: %+v", s.Data)
	}
	// The three component forms: bare name, name as only key, name under "name".
	kinds := []string{s.Model.Layers[0].Kind, s.Model.Layers[1].Kind, s.Train.Optimizer.Kind}
	if !reflect.DeepEqual(kinds, []string{"flatten", "dense", "sgd"}) {
		t.Errorf("component kinds %v", kinds)
	}
	if d := s.Model.Layers[1].Config.(*ops.Dense); d.Units != 10 || d.Activation != "linear" || !d.UseBias {
		t.Errorf("dense params/defaults: %+v", d)
	}
	if sc := s.Data.Transforms[0].Config.(*loaders.Scale); sc.Divide != 255 || sc.On != "x" {
		t.Errorf("scale: %+v", sc)
	}
	if got := s.PosOf("model.layers[1].units").String(); got != "good.yaml:13:22" {
		t.Errorf("position of units: %s", got)
	}
}

// TestEncodeRoundTrip checks that the resolved spec a run directory keeps
// decodes to the same spec.
func TestEncodeRoundTrip(t *testing.T) {
	s, err := spec.Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	_, back := encodeParse(t, s)
	ignore := cmp.Options{
		cmpopts.IgnoreUnexported(spec.Spec{}, spec.ModelLayer{}),
		cmpopts.IgnoreFields(spec.Spec{}, "File", "Source", "Overrides"),
		cmpopts.IgnoreFields(spec.Component{}, "Pos"),
	}
	if d := cmp.Diff(s, back, ignore); d != "" {
		t.Errorf("round trip changed the spec (-before +after):\n%s", d)
	}
}

// TestShippedSpecsRoundTrip: every shipped spec's resolved form decodes
// and encodes to the same text (a multi-output model's resolved outputs
// once failed to decode, so its run could not be predicted or exported).
func TestShippedSpecsRoundTrip(t *testing.T) {
	for _, p := range shippedSpecs(t) {
		s, err := spec.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out, back := encodeParse(t, s)
		again, err := spec.Encode(back)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(out), string(again)); d != "" {
			t.Errorf("%s: resolved spec changed on a round trip (-before +after):\n%s", p, d)
		}
	}
}

// encodeParse encodes s and decodes the result.
func encodeParse(t *testing.T, s *spec.Spec) ([]byte, *spec.Spec) {
	t.Helper()
	out, err := spec.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := spec.Parse("resolved.yaml", out)
	if err != nil {
		t.Fatalf("%s: resolved spec does not parse: %v\n%s", s.File, err, out)
	}
	return out, back
}

func TestErrorsCollected(t *testing.T) {
	bad := strings.NewReplacer("units: 10", "units: 0", "divide: 255", "divide: x", "momentum: 0.9", "momentum: 2").Replace(good)
	_, err := spec.Parse("bad.yaml", []byte(bad))
	list, ok := spec.AsList(err)
	if !ok || len(list) != 3 {
		t.Fatalf("want 3 errors together, got %v", err)
	}
	want := []string{
		"bad.yaml:7:23: data.transforms[0].divide: want a number",
		"bad.yaml:13:22: model.layers[1].units: must be at least 1, got 0",
		"bad.yaml:17:36: train.optimizer.momentum: must be at most 1, got 2",
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, list[i], w)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"filters", "kernel", "strides", "padding"}
	for in, want := range map[string]string{"filtrs": "filters", "kernal": "kernel", "Padding": "padding", "zzzzzz": ""} {
		if got := spec.Suggest(in, names); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
