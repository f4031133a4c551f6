package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// TestDocsCurrent checks that the committed reference and JSON Schema are
// what the registry declarations generate today.
func TestDocsCurrent(t *testing.T) {
	for file, want := range map[string]func() string{
		"../../docs/reference.md":     spec.Reference,
		"../../docs/pipe.schema.json": func() string { b, _ := spec.JSONSchema(); return string(b) + "\n" },
	} {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want() {
			t.Errorf("%s is out of date: regenerate it with `go run ./cmd/pipe doc --all > docs/reference.md` and `go run ./cmd/pipe schema > docs/pipe.schema.json`", file)
		}
	}
}

func TestSchemaCoversRegistries(t *testing.T) {
	b, err := spec.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	for _, kind := range spec.Kinds() {
		for _, name := range spec.RegistryFor(kind).Names() {
			if !strings.Contains(string(b), `"const": "`+name+`"`) && !strings.Contains(string(b), `"`+name+`"`) {
				t.Errorf("schema lacks %s %s", kind, name)
			}
		}
	}
}

func TestListDocInit(t *testing.T) {
	code, out, _ := pipeCmd(t, "list", "layers")
	if code != 0 || !strings.Contains(out, "conv2d") || !strings.Contains(out, "dense") {
		t.Errorf("list layers: %d %s", code, out)
	}
	if code, _, _ := pipeCmd(t, "list", "layerz"); code != exitUsage {
		t.Errorf("list layerz: exit %d", code)
	}
	code, out, _ = pipeCmd(t, "doc", "dense")
	if code != 0 || !strings.Contains(out, "`units` | integer | required") {
		t.Errorf("doc dense: %s", out)
	}
	if code, _, stderr := pipeCmd(t, "doc", "dens"); code != exitUsage || !strings.Contains(stderr, `did you mean "dense"`) {
		t.Errorf("doc dens: %d %s", code, stderr)
	}
	path := t.TempDir() + "/my_model.yaml"
	if code, _, stderr := pipeCmd(t, "init", path); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	if _, err := spec.Load(path); err != nil {
		t.Errorf("the starter spec does not load: %v", err)
	}
	if code, out, _ := pipeCmd(t, "summary", path); code != 0 || !strings.Contains(out, `Model: "my_model"`) {
		t.Errorf("summary of the starter: %s", out)
	}
	if code, _, _ := pipeCmd(t, "init", path); code != exitUsage {
		t.Errorf("init over an existing file should refuse")
	}
}
