package spec_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/spec"
)

// TestNameMustBePlain: the name becomes a directory under --runs-dir and the
// golden file's name, so anything that could leave those is rejected at the
// name's position.
func TestNameMustBePlain(t *testing.T) {
	const allowed = `use only letters A-Z and a-z, digits, '_', '-' and '.' (and not "." or "..")`
	for _, bad := range []string{"../../escaped", "a/b", `a\b`, "/abs", ".", "..", "a b", "ümlaut", "x\ty"} {
		// Go's quoting is valid YAML here, escapes included.
		src := strings.Replace(good, "name: t\n", "name: "+strconv.Quote(bad)+"\n", 1)
		_, err := spec.Parse("n.yaml", []byte(src))
		list, ok := spec.AsList(err)
		if !ok || len(list) != 1 {
			t.Errorf("name %q: want one positioned error, got %v", bad, err)
			continue
		}
		want := "n.yaml:2:7: name: " + strconv.Quote(bad) + " is not a plain name"
		if got := list[0].Error(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, allowed) {
			t.Errorf("name %q:\ngot  %s\nwant %s...%s", bad, got, want, allowed)
		}
	}

	_, err := spec.Parse("n.yaml", []byte(strings.Replace(good, "name: t\n", "name: ''\n", 1)))
	if want := "n.yaml:2:7: name: must not be empty"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("empty name: got %v, want %s...", err, want)
	}
	// A name of the wrong type is reported once, as such.
	_, err = spec.Parse("n.yaml", []byte(strings.Replace(good, "name: t\n", "name: [a]\n", 1)))
	if want := "n.yaml:2:7: name: want a string, got a list"; err == nil || err.Error() != want {
		t.Errorf("list name: got %v, want %s", err, want)
	}
	// --set goes through the same check.
	path := write(t, t.TempDir(), "s.yaml", good)
	if _, err := spec.Load(path, "name=../x"); err == nil || !strings.Contains(err.Error(), `s.yaml (--set): name: "../x" is not a plain name`) {
		t.Errorf("--set name=../x: %v", err)
	}

	for _, ok := range []string{"t", "mnist_cnn", "a-b.c_D9", ".hidden", "..x"} {
		src := strings.Replace(good, "name: t\n", "name: "+ok+"\n", 1)
		if _, err := spec.Parse("n.yaml", []byte(src)); err != nil {
			t.Errorf("name %q: %v", ok, err)
		}
	}
}

// TestShippedSpecNames: every shipped spec still decodes, names included.
func TestShippedSpecNames(t *testing.T) {
	for _, p := range shippedSpecs(t) {
		s, err := spec.Load(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(p), ".yaml"); s.Name != want {
			t.Errorf("%s: name %q, want %q", p, s.Name, want)
		}
	}
}

// shippedSpecs lists the specs under specs/.
func shippedSpecs(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"../specs/*.yaml", "../specs/cf/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) < 10 {
		t.Fatalf("found only %d shipped specs: %v", len(paths), paths)
	}
	return paths
}
