package loaders

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
)

// writeTree writes files (slash paths below dir; a name ending in / is an
// empty folder) and returns dir.
func writeTree(t testing.TB, dir string, files map[string][]byte) string {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// treeArchive packs files into a .tar.gz, in sorted order, files only
// (archives need not list folders).
func treeArchive(files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.HasSuffix(name, "/") {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
		tw.Write(files[name])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// readTree reads a class-folder tree at path the way the loaders do, each
// file's value being its text, and returns the splits as "label:text".
func readTree(t *testing.T, path, root string, split FolderSplit) (train, test, classes []string, err error) {
	t.Helper()
	src, err := newTreeSource(path, root)
	if err != nil {
		return nil, nil, nil, err
	}
	tree := newClassTree[string](src, split, "texts")
	err = src.walk(1<<20, treeVisitor{
		dir:  tree.addDir,
		want: func(rel []string) bool { return strings.HasSuffix(rel[len(rel)-1], ".txt") && tree.wanted(rel) },
		file: func(rel []string, body []byte) error {
			if string(body) == "bad" {
				return errors.New("a bad file")
			}
			tree.add(rel, string(body))
			return nil
		},
	})
	if err != nil {
		return nil, nil, nil, err
	}
	tr, te, classes, err := tree.splits()
	show := func(es []folderExample[string]) (out []string) {
		for _, e := range es {
			out = append(out, string(rune('0'+e.label))+":"+e.value)
		}
		return out
	}
	return show(tr), show(te), classes, err
}

func TestNaturalCompare(t *testing.T) {
	// Names equal as numbers (02 and 2) fall back to bytes: 0 before 2.
	sorted := []string{"", "0_3.txt", "1_2.txt", "02.png", "2.png", "10.png", "10_1.txt", "100.png", "a", "a1", "a01b", "a1b", "a2", "a10", "b"}
	for i, a := range sorted {
		for j, b := range sorted {
			if got, want := naturalCompare(a, b), cmpInt(i, j); got != want {
				t.Errorf("naturalCompare(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestClassFoldersOwnSplit: a tree with train/ and test/ keeps that split;
// classes take turns, each in natural order; files outside class folders,
// of other types and hidden ones are skipped; folders and archives give
// the same examples.
func TestClassFoldersOwnSplit(t *testing.T) {
	files := map[string][]byte{
		"top/README":              []byte("not an example"),
		"top/notes.txt":           []byte("in no class folder"),
		"top/train/urls.txt":      []byte("in no class folder either"),
		"top/train/neg/10_1.txt":  []byte("n10"),
		"top/train/neg/2_1.txt":   []byte("n2"),
		"top/train/neg/1_1.txt":   []byte("n1"),
		"top/train/neg/sub/0.txt": []byte("n-sub"), // sub-folders belong to their class, as in Keras
		"top/train/neg/.hid.txt":  []byte("hidden"),
		"top/train/pos/1_9.txt":   []byte("p1"),
		"top/train/pos/x.html":    []byte("another type"),
		"top/train/.git/a.txt":    []byte("hidden folder"),
		"top/test/neg/5_2.txt":    []byte("tn5"),
		"top/test/pos/5_8.txt":    []byte("tp5"),
		"top/test/pos/6_8.txt":    []byte("tp6"),
	}
	dir := writeTree(t, t.TempDir(), files)
	archive := filepath.Join(dir, "top.tar.gz")
	os.WriteFile(archive, treeArchive(files), 0o644)
	for _, path := range []string{dir, archive} {
		train, test, classes, err := readTree(t, path, "top", DefaultFolderSplit())
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"0:n1", "1:p1", "0:n2", "0:n10", "0:n-sub"}; !slices.Equal(train, want) {
			t.Errorf("%s: train %q, want %q", path, train, want)
		}
		if want := []string{"0:tn5", "1:tp5", "1:tp6"}; !slices.Equal(test, want) {
			t.Errorf("%s: test %q, want %q", path, test, want)
		}
		if !slices.Equal(classes, []string{"neg", "pos"}) {
			t.Errorf("%s: classes %q", path, classes)
		}
	}
}

// TestClassFoldersListedClasses: listed classes give the labels' order
// and skip the other folders (aclImdb's train/unsup).
func TestClassFoldersListedClasses(t *testing.T) {
	dir := writeTree(t, t.TempDir(), map[string][]byte{
		"train/neg/0.txt": []byte("n"), "train/pos/0.txt": []byte("p"), "train/unsup/0.txt": []byte("bad"),
		"test/neg/0.txt": []byte("tn"), "test/pos/0.txt": []byte("tp"),
	})
	train, test, classes, err := readTree(t, dir, "", FolderSplit{Classes: []string{"pos", "neg"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(train, []string{"0:p", "1:n"}) || !slices.Equal(test, []string{"0:tp", "1:tn"}) || !slices.Equal(classes, []string{"pos", "neg"}) {
		t.Errorf("train %q test %q classes %q; want pos as 0, neg as 1, unsup never read", train, test, classes)
	}
}

// TestClassFoldersFraction: without train/ and test/, test_fraction holds
// out int(fraction x n) files of each class (stratify) or of all,
// seeded.
func TestClassFoldersFraction(t *testing.T) {
	files := map[string][]byte{}
	for i := range 10 {
		files["a/"+string(rune('0'+i))+".txt"] = []byte("a" + string(rune('0'+i)))
	}
	for i := range 5 {
		files["b/"+string(rune('0'+i))+".txt"] = []byte("b" + string(rune('0'+i)))
	}
	dir := writeTree(t, t.TempDir(), files)
	count := func(split []string, label byte) int {
		n := 0
		for _, s := range split {
			if s[0] == label {
				n++
			}
		}
		return n
	}
	split := FolderSplit{TestFraction: 0.4, SplitSeed: 1, Stratify: true}
	train, test, _, err := readTree(t, dir, "", split)
	if err != nil {
		t.Fatal(err)
	}
	if count(test, '0') != 4 || count(test, '1') != 2 || count(train, '0') != 6 || count(train, '1') != 3 {
		t.Errorf("stratified 0.4 of 10 a and 5 b: test %q train %q, want 4 a and 2 b held out", test, train)
	}
	all := slices.Concat(train, test)
	slices.Sort(all)
	if len(slices.Compact(all)) != 15 {
		t.Errorf("the splits do not hold every file once: %q + %q", train, test)
	}
	again, _, _, _ := readTree(t, dir, "", split)
	if !slices.Equal(again, train) {
		t.Errorf("the same seed split differently: %q then %q", train, again)
	}
	split.SplitSeed = 2
	other, _, _, _ := readTree(t, dir, "", split)
	if slices.Equal(other, train) {
		t.Errorf("split_seed 1 and 2 gave the same split %q", train)
	}
	split.Stratify = false
	train, test, _, err = readTree(t, dir, "", split)
	if err != nil || len(test) != 6 || len(train) != 9 {
		t.Errorf("unstratified 0.4 of 15: %d test, %d train (%v), want 6 and 9", len(test), len(train), err)
	}
}

func TestClassFoldersErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string][]byte
		split FolderSplit
		at    string // the DataError's path, below the tree
		want  string
	}{
		{"no class folders", map[string][]byte{"a.txt": []byte("x")}, FolderSplit{TestFraction: 0.5}, ".", "no class folders"},
		{"empty class folder", map[string][]byte{"a/0.txt": []byte("x"), "b/": nil}, FolderSplit{TestFraction: 0.5}, "b", "no texts in this folder"},
		{"listed class missing", map[string][]byte{"a/0.txt": []byte("x")}, FolderSplit{Classes: []string{"a", "c"}, TestFraction: 0.5}, "c", `class folder not found (classes lists "c")`},
		{"no split", map[string][]byte{"a/0.txt": []byte("x")}, FolderSplit{}, ".", "set test_fraction"},
		{"fraction with own split", map[string][]byte{"train/a/0.txt": []byte("x"), "test/a/0.txt": []byte("y")}, FolderSplit{TestFraction: 0.2}, ".", "test_fraction 0.2 does not apply"},
		{"classes differ", map[string][]byte{"train/a/0.txt": nil, "train/b/0.txt": nil, "test/a/0.txt": nil}, FolderSplit{}, ".", `train/ has class folders ["a" "b"] but test/ has ["a"]; list the classes`},
		{"empty split", map[string][]byte{"a/0.txt": []byte("x"), "b/0.txt": []byte("y")}, FolderSplit{TestFraction: 0.4, Stratify: true}, ".", "leaves the train or the test split empty"},
		{"bad file", map[string][]byte{"a/0.txt": []byte("bad")}, FolderSplit{TestFraction: 0.5}, "a/0.txt", "a bad file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, t.TempDir(), c.files)
			_, _, _, err := readTree(t, dir, "", c.split)
			var de *data.DataError
			if !errors.As(err, &de) || de.Path != filepath.Join(dir, filepath.FromSlash(c.at)) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a DataError on %s saying %q", err, filepath.Join(dir, c.at), c.want)
			}
		})
	}

	// In an archive, errors name the archive and the member.
	archive := filepath.Join(t.TempDir(), "t.tar.gz")
	files := map[string][]byte{"top/a/0.txt": []byte("x"), "top/a/1.txt": []byte("bad")}
	os.WriteFile(archive, treeArchive(files), 0o644)
	_, _, _, err := readTree(t, archive, "top", FolderSplit{TestFraction: 0.5})
	var de *data.DataError
	if !errors.As(err, &de) || de.Path != archive || !strings.Contains(err.Error(), "top/a/1.txt: a bad file") {
		t.Errorf("got %v, want a DataError on %s naming top/a/1.txt", err, archive)
	}
	// A name twice in an archive is ambiguous.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, body := range []string{"x", "y"} {
		tw.WriteHeader(&tar.Header{Name: "a/0.txt", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	os.WriteFile(archive, buf.Bytes(), 0o644)
	if _, _, _, err := readTree(t, archive, "", FolderSplit{TestFraction: 0.5}); err == nil || !strings.Contains(err.Error(), "a/0.txt: appears twice") {
		t.Errorf("got %v, want an error naming a/0.txt twice", err)
	}
	// Not there, or neither a folder nor an archive.
	for _, c := range []struct{ path, want string }{
		{filepath.Join(t.TempDir(), "absent"), "not found"},
		{writeTree(t, t.TempDir(), map[string][]byte{"x.zip": nil}) + "/x.zip", "neither a folder nor a .tar.gz"},
	} {
		if _, _, _, err := readTree(t, c.path, "", FolderSplit{}); !errors.As(err, &de) || de.Path != c.path || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want a DataError on %s saying %q", err, c.path, c.want)
		}
	}
}

func TestTreeMember(t *testing.T) {
	s := treeSource{root: "aclImdb", archive: true}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"aclImdb/train/pos/0_9.txt", []string{"train", "pos", "0_9.txt"}},
		{"./aclImdb/test/", []string{"test"}},
		{"aclImdb/train/../test/neg/1.txt", []string{"test", "neg", "1.txt"}},
		{"aclImdb", nil},
		{"other/train/pos/0_9.txt", nil},
		{"../aclImdb/x.txt", nil},
		{"/aclImdb/x.txt", nil},
		{"aclImdb/._x.txt", nil},
		{"aclImdbX/a/b.txt", nil},
	} {
		got, ok := s.member(c.name)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("member(%q) = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
}
