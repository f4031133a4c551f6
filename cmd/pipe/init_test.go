package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCheckout makes a folder with a go.mod of module and a
// docs/pipe.schema.json, and returns it.
func fakeCheckout(t *testing.T, dir, module string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"go.mod": "module " + module + "\n\ngo 1.27.3\n", "docs/pipe.schema.json": "{}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestInitSchemaPath: the starter's $schema comment is the path from the
// new file's folder to the checkout's docs/pipe.schema.json, at any depth;
// outside a pipe checkout (or in another module's) there is none.
func TestInitSchemaPath(t *testing.T) {
	root := fakeCheckout(t, filepath.Join(t.TempDir(), "pipe"), "github.com/pipe-ml/pipe")
	// Another project with a docs/pipe.schema.json of its own, below the
	// temp dir but outside the checkout: not ours.
	other := fakeCheckout(t, filepath.Join(filepath.Dir(root), "other"), "example.com/other")
	for _, c := range []struct{ file, want string }{
		{filepath.Join(root, "a.yaml"), "docs/pipe.schema.json"},
		{filepath.Join(root, "specs", "b.yaml"), "../docs/pipe.schema.json"},
		{filepath.Join(root, "specs", "cf", "deep", "c.yaml"), "../../../docs/pipe.schema.json"},
		{filepath.Join(other, "specs", "d.yaml"), ""},
		{filepath.Join(t.TempDir(), "e.yaml"), ""},
	} {
		if err := os.MkdirAll(filepath.Dir(c.file), 0o755); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := pipeCmd(t, "init", c.file); code != 0 {
			t.Fatalf("init %s: %s", c.file, stderr)
		}
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		schema, has := strings.CutPrefix(first, "# yaml-language-server: $schema=")
		switch {
		case c.want == "" && has:
			t.Errorf("%s: a $schema outside a pipe checkout: %s", c.file, first)
		case c.want == "" && strings.Contains(string(b), "$schema"):
			t.Errorf("%s: a $schema line below the first: %s", c.file, b)
		case c.want != "" && schema != c.want:
			t.Errorf("%s: first line %q, want $schema=%s", c.file, first, c.want)
		case c.want != "":
			if _, err := os.Stat(filepath.Join(filepath.Dir(c.file), filepath.FromSlash(schema))); err != nil {
				t.Errorf("%s: $schema=%s does not resolve from the file: %v", c.file, schema, err)
			}
		}
	}
	// A relative FILE argument is resolved from the working directory.
	t.Chdir(filepath.Join(root, "specs"))
	if code, _, stderr := pipeCmd(t, "init", "cf/rel.yaml"); code != 0 {
		t.Fatalf("init cf/rel.yaml: %s", stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "specs", "cf", "rel.yaml")); !strings.HasPrefix(string(b), "# yaml-language-server: $schema=../../docs/pipe.schema.json\n") {
		t.Errorf("cf/rel.yaml starts %q", strings.SplitN(string(b), "\n", 2)[0])
	}
}

// TestInitNameFromAnyFileName: the starter spec named after a file whose
// name is no plain spec name ("my spec.yaml") still validates.
func TestInitNameFromAnyFileName(t *testing.T) {
	file := filepath.Join(t.TempDir(), "my spec (v2).yaml")
	if code, _, stderr := pipeCmd(t, "init", file); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(b), "\nname: my_spec_v2_\n") {
		t.Errorf("starter spec name: %s", b)
	}
	if code, _, stderr := pipeCmd(t, "validate", file); code != 0 {
		t.Errorf("the starter spec does not validate: exit %d: %s", code, stderr)
	}
}
