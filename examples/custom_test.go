package examples_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCustomExample trains the built-in spec of examples/custom, which
// uses the swish layer and xor loader that the program registers.
func TestCustomExample(t *testing.T) {
	out := run(t, "custom", "-quiet")
	// The layer table shows the custom layer with the parameter count
	// its Params gave: 16 learned betas after a 16-unit dense layer.
	if !regexp.MustCompile(`(?m)^ swish \(swish\) +\(None, 16\) +16 +$`).MatchString(out) {
		t.Errorf("no swish row with 16 parameters in the layer table:\n%s", out)
	}
	got := metrics(t, out)
	// Chance on XOR is 0.5; the noise flips points near the axes, so even
	// a perfect boundary stays near 0.95 (0.944 when this was written).
	if acc := got["accuracy"]; acc < 0.9 {
		t.Errorf("test accuracy %v on xor; want at least 0.9\n%s", acc, out)
	}
}

// TestCustomExampleNeedsSwish runs the same spec without the swish layers:
// a stack of dense layers without activations is linear, which cannot
// separate XOR. The gap to TestCustomExample is what the custom layer
// does.
func TestCustomExampleNeedsSwish(t *testing.T) {
	src, err := os.ReadFile("custom/spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.Contains(line, "- swish") {
			kept = append(kept, line)
		}
	}
	path := filepath.Join(t.TempDir(), "linear.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "custom", "-quiet", "-spec", path)
	if strings.Contains(out, "swish") {
		t.Fatalf("the linear spec still has a swish layer:\n%s", out)
	}
	if acc := metrics(t, out)["accuracy"]; acc > 0.75 || acc == 0 {
		t.Errorf("a linear model reached test accuracy %v on xor; want at most 0.75 (chance is 0.5)", acc)
	}
}
