// Command custom shows pipe extended from Go: it registers a layer (swish,
// in swish.go) and a loader (xor, in xor.go) in init(), then trains a spec
// that names both, like any built-in component, and prints its test
// metrics. Nothing is written to disk: it uses pipeline.Train, not Run.
//
//	go run ./examples/custom
//	go run ./examples/custom -spec my.yaml   # another spec; swish and xor are registered for it too
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/pipe-ml/pipe/pipeline"
	"github.com/pipe-ml/pipe/spec"
)

// specYAML is spec.yaml, built into the program so that it runs from any
// working directory.
//
//go:embed spec.yaml
var specYAML []byte

func main() {
	specPath := flag.String("spec", "", "a spec file to train instead of the built-in spec.yaml")
	quiet := flag.Bool("quiet", false, "no per-epoch lines on stderr")
	flag.Parse()
	if err := run(*specPath, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "custom:", err)
		os.Exit(1)
	}
}

func run(specPath string, quiet bool) error {
	plan, err := load(specPath)
	if err != nil {
		return err
	}
	// The layer table lists swish like a built-in layer, with the
	// parameter count its Params method gave.
	plan.WriteSummary(os.Stdout)

	opt := pipeline.Options{Log: os.Stderr}
	if quiet {
		opt.Log = nil
	}
	// xor reads no files, so DataDir stays empty.
	res, err := pipeline.Train(plan, opt)
	if err != nil {
		return err
	}
	defer res.Close() // Train keeps the trained model on its backend until then
	if res.Interrupted {
		return fmt.Errorf("training stopped early: %v", res.Stopped)
	}
	for _, n := range slices.Sorted(maps.Keys(res.Test)) {
		fmt.Printf("test %s: %.4f\n", n, res.Test[n])
	}
	return nil
}

// load compiles the spec at path, or the built-in one. spec.Parse decodes
// YAML held in memory; the file name it is given only labels errors.
func load(path string) (*pipeline.Plan, error) {
	if path != "" {
		return pipeline.Load(path)
	}
	s, err := spec.Parse("examples/custom/spec.yaml", specYAML)
	if err != nil {
		return nil, err
	}
	return pipeline.Compile(s)
}
