package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// TestShippedSpecsMatchSchema: every spec pipe ships passes the JSON Schema
// that editors check specs with, so the schema never flags what pipe runs.
func TestShippedSpecsMatchSchema(t *testing.T) {
	b, err := spec.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("pipe.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("pipe.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, dir := range []string{"../../specs", "../../examples", "../../testdata/examples"} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			// examples/custom registers a layer of its own, in its own binary.
			if err == nil && strings.HasSuffix(path, ".yaml") && !strings.Contains(path, "golden") && !strings.Contains(path, "custom") {
				files = append(files, path)
			}
			return nil
		})
	}
	if len(files) < 10 {
		t.Fatalf("found only %d specs", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(src, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m, ok := v.(map[string]any); !ok || m["extends"] != nil {
			continue // a partial spec that extends another is checked as a whole by pipe
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s does not match the schema: %v", f, err)
		}
	}
}
