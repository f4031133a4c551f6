// Package layout holds the test that keeps pipe's package graph one-way:
// spec -> compile -> plan -> run -> run directory, with data as the floor.
package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pipe-ml/pipe"

// allowed lists, for each package of pipe, the packages of pipe it may
// import (tests aside). A package missing here fails the test: a new
// package takes a place in the layout on purpose.
var allowed = map[string][]string{
	"data":              {},
	"spec":              {},
	"loaders":           {"data", "spec", "internal/fbcheck"},
	"ops":               {"data", "spec"},
	"recsys":            {"data", "spec"},
	"evaluators":        {"data", "spec"},
	"optim":             {"data", "spec"},
	"arrowio":           {"data", "internal/fbcheck"},
	"internal/fbcheck":  {},
	"rundir":            {"data", "arrowio", "spec"},
	"pipeline":          {"data", "spec", "loaders", "ops", "recsys", "evaluators", "optim", "arrowio", "rundir"},
	"golden":            {"data", "spec", "ops", "pipeline"},
	"bench":             {"pipeline", "optim", "rundir"}, // optim: the optimizer the PyTorch reference must use; rundir: the charts of --curves
	"fetch":             {"data"},
	"onnx":              {"data", "loaders", "ops", "recsys", "pipeline", "rundir", "onnx/onnxpb"},
	"onnx/onnxpb":       {},
	"internal/testdata": {},
	"internal/testruns": {"internal/testdata", "pipeline"},
	"serve":             {"data", "pipeline"},
	"sweep":             {"data", "pipeline", "rundir", "spec", "evaluators"},
	"cmd/pipe":          {"data", "spec", "loaders", "evaluators", "pipeline", "rundir", "golden", "bench", "fetch", "serve", "onnx", "sweep"},
}

// Examples may use any package a library user can, never the command.
const examples = "examples/"

type pkg struct {
	ImportPath string
	Imports    []string
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// violations returns one line per import the layout forbids.
func violations(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if name == "internal/layout" {
			continue
		}
		ok, known := allowed[name]
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module+"/")
			if !ours {
				continue
			}
			switch {
			case strings.HasPrefix(dep, "cmd/"):
				bad = append(bad, fmt.Sprintf("%s imports %s: nothing imports a command", name, dep))
			case strings.HasPrefix(name+"/", examples):
				// examples use pipe as a library user does
			case !known:
				bad = append(bad, fmt.Sprintf("%s is not in the layout (internal/layout: allowed)", name))
			case !slices.Contains(ok, dep):
				bad = append(bad, fmt.Sprintf("%s imports %s, which the layout forbids (it may import %v)", name, dep, ok))
			}
		}
		if !known && !strings.HasPrefix(name+"/", examples) && len(p.Imports) == 0 {
			bad = append(bad, fmt.Sprintf("%s is not in the layout (internal/layout: allowed)", name))
		}
	}
	return bad
}

// TestLayout holds the package graph of the real tree.
func TestLayout(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < len(allowed) {
		t.Fatalf("go list found %d packages, the layout names %d", len(pkgs), len(allowed))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestLayoutCatches shows that the test fails on the arrows the layout
// forbids: a model package reaching for the loaders, spec importing
// another pipe package, anything importing the command.
func TestLayoutCatches(t *testing.T) {
	for _, c := range []struct {
		p    pkg
		want string
	}{
		{pkg{module + "/ops", []string{module + "/loaders"}}, "ops imports loaders"},
		{pkg{module + "/recsys", []string{module + "/loaders"}}, "recsys imports loaders"},
		{pkg{module + "/evaluators", []string{module + "/loaders"}}, "evaluators imports loaders"},
		{pkg{module + "/spec", []string{module + "/data"}}, "spec imports data"},
		{pkg{module + "/pipeline", []string{module + "/cmd/pipe"}}, "nothing imports a command"},
		{pkg{module + "/newthing", []string{module + "/data"}}, "newthing is not in the layout"},
	} {
		got := violations([]pkg{c.p})
		if len(got) != 1 || !strings.Contains(got[0], c.want) {
			t.Errorf("%v: got %q, want one violation mentioning %q", c.p, got, c.want)
		}
	}
	if got := violations([]pkg{{module + "/pipeline", []string{module + "/data", "fmt"}}}); len(got) != 0 {
		t.Errorf("an allowed import: got %q", got)
	}
}
