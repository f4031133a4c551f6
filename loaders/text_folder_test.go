package loaders

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

// realReviews extracts the reviews with ids below perFolder from each of
// aclImdb's train/neg, train/pos, test/neg and test/pos in the real
// archive, keyed by their names in it.
func realReviews(t *testing.T, perFolder int) (reviews map[string][]byte, dataDir string) {
	t.Helper()
	dataDir = testdata.Dir(t, "imdb")
	f, err := os.Open(filepath.Join(dataDir, "imdb", "aclImdb_v1.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	reviews = map[string][]byte{}
	id := regexp.MustCompile(`^aclImdb/(train|test)/(neg|pos)/(\d+)_\d+\.txt$`)
	for len(reviews) < 4*perFolder {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("the real archive ended with %d reviews found: %v", len(reviews), err)
		}
		if m := id.FindStringSubmatch(hdr.Name); m != nil {
			var n int
			fmt.Sscan(m[3], &n)
			if n < perFolder {
				body, _ := io.ReadAll(tr)
				reviews[hdr.Name] = body
			}
		}
	}
	return reviews, dataDir
}

// kerasTokens is an independent statement of the tokenizer (text.go):
// lower-case ASCII letters, split on Keras' filters and ASCII white space.
var kerasSeparators = regexp.MustCompile("[!\"#$%&()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~ \t\n\r\v\f]+")

func kerasTokens(text string) []string {
	lower := []byte(text)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	return slices.DeleteFunc(kerasSeparators.Split(string(lower), -1), func(s string) bool { return s == "" })
}

// TestTextFolderReviews reads 20 real aclImdb reviews (ids 0..4 of each
// folder) as a folder, as a .tar.gz and, packed as the official archive,
// with the imdb loader: all three give the same examples, and with Keras'
// word index the indices an independent tokenization predicts.
func TestTextFolderReviews(t *testing.T) {
	reviews, realData := realReviews(t, 5)
	files := map[string][]byte{
		"aclImdb/README":              []byte("not a review"),
		"aclImdb/train/urls_pos.txt":  []byte("http://www.imdb.com/title/tt0000000/usercomments"),
		"aclImdb/train/unsup/0_0.txt": []byte("an unlabelled review, never read"),
	}
	for name, body := range reviews {
		files[name] = body
	}
	dataDir := t.TempDir()
	writeTree(t, filepath.Join(dataDir, "reviews"), files)
	os.WriteFile(filepath.Join(dataDir, "reviews.tar.gz"), treeArchive(files), 0o644)
	os.MkdirAll(filepath.Join(dataDir, "imdb"), 0o755)
	os.WriteFile(filepath.Join(dataDir, "imdb", imdbArchive), treeArchive(files), 0o644)
	index, err := os.ReadFile(filepath.Join(realData, "imdb", imdbWordIndex))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dataDir, "imdb", imdbWordIndex), index, 0o644)
	var ranks map[string]int
	if err := json.Unmarshal(index, &ranks); err != nil {
		t.Fatal(err)
	}

	for _, wordIndex := range []string{"keras", "train"} {
		t.Run(wordIndex, func(t *testing.T) {
			var got []*data.Dataset
			for _, path := range []string{"reviews", "reviews.tar.gz"} {
				cfg := &TextFolder{Path: path, Root: "aclImdb", NumWords: 5000, WordIndex: wordIndex, WordIndexFile: "imdb/imdb_word_index.json", FolderSplit: FolderSplit{Classes: []string{"neg", "pos"}}}
				if err := cfg.Validate(); err != nil {
					t.Fatal(err)
				}
				ds, err := cfg.Load(dataDir)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ds)
			}
			ds, err := (&IMDB{NumWords: 5000, WordIndex: wordIndex, StripBR: false}).Load(dataDir)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ds)
			for i, name := range []string{"archive", "imdb"} {
				if !datasetsEqual(got[0], got[i+1]) {
					t.Errorf("the folder and the %s give different examples", name)
				}
			}
			ds = got[0]
			if !slices.Equal(ds.Classes, []string{"neg", "pos"}) || ds.Train.Y.Classes != 2 || ds.Train.X.Classes != 5000 {
				t.Errorf("classes %q (%d), x classes %d", ds.Classes, ds.Train.Y.Classes, ds.Train.X.Classes)
			}
			counts := map[string]int{}
			for _, s := range []struct {
				name  string
				split data.Split
			}{{"train", ds.Train}, {"test", ds.Test}} {
				if s.split.Len() != 10 {
					t.Fatalf("%s: %d examples, want 10", s.name, s.split.Len())
				}
				for k, seq := range sequences(s.split.X) {
					// neg 0, pos 0, neg 1, ...: the review with id k/2.
					label := []string{"neg", "pos"}[k%2]
					if s.split.Y.Int[k] != int32(k%2) {
						t.Fatalf("%s: example %d has label %d, want %d (%s)", s.name, k, s.split.Y.Int[k], k%2, label)
					}
					var text []byte
					for name, body := range reviews {
						if strings.HasPrefix(name, fmt.Sprintf("aclImdb/%s/%s/%d_", s.name, label, k/2)) {
							text = body
						}
					}
					tokens := kerasTokens(string(text))
					if len(seq) != 1+len(tokens) || seq[0] != textStart {
						t.Fatalf("%s: example %d has %d indices, its review %d words", s.name, k, len(seq), len(tokens))
					}
					for j, w := range tokens {
						if s.name == "train" {
							counts[w]++
						}
						if wordIndex != "keras" {
							continue
						}
						want := int32(textOOV)
						if r, ok := ranks[w]; ok && r+textIndexFrom < 5000 {
							want = int32(r + textIndexFrom)
						}
						if seq[1+j] != want {
							t.Fatalf("%s: example %d word %d %q is %d, Keras' index gives %d", s.name, k, j, w, seq[1+j], want)
						}
					}
				}
			}
			if wordIndex == "train" {
				// The most frequent training word has rank 1, index 4.
				top := ""
				for w, n := range counts {
					if top == "" || n > counts[top] {
						top = w
					}
				}
				seq, seen := sequences(ds.Train.X)[0], false
				for j, w := range kerasTokens(string(reviews[firstName(reviews, "aclImdb/train/neg/0_")])) {
					if w == top {
						seen = true
						if seq[1+j] != 4 {
							t.Errorf("%q, the most frequent training word (%d times), has index %d, want 4", top, counts[top], seq[1+j])
						}
					}
				}
				if !seen {
					t.Errorf("%q, the most frequent training word, is not in the first review", top)
				}
			}
		})
	}

	// Without classes, train/ has neg, pos and unsup but test/ only two.
	_, err = (&TextFolder{Path: "reviews", Root: "aclImdb", WordIndex: "train"}).Load(dataDir)
	if err == nil || !strings.Contains(err.Error(), `train/ has class folders ["neg" "pos" "unsup"] but test/ has ["neg" "pos"]; list the classes to read with classes:`) {
		t.Errorf("got %v, want the unsup folder named", err)
	}
}

func firstName(m map[string][]byte, prefix string) string {
	for name := range m {
		if strings.HasPrefix(name, prefix) {
			return name
		}
	}
	return ""
}

func datasetsEqual(a, b *data.Dataset) bool {
	same := func(x, y data.Array) bool {
		return x.Schema.String() == y.Schema.String() && x.Classes == y.Classes && slices.Equal(x.Int, y.Int) && slices.Equal(x.Offsets, y.Offsets) && slices.Equal(x.Float, y.Float)
	}
	return slices.Equal(a.Classes, b.Classes) && same(a.Train.X, b.Train.X) && same(a.Train.Y, b.Train.Y) && same(a.Test.X, b.Test.X) && same(a.Test.Y, b.Test.Y)
}

// TestTextFolderFlat: a folder of class folders without its own split,
// held out by test_fraction; classes sorted; <br /> stripped on request.
func TestTextFolderFlat(t *testing.T) {
	files := map[string][]byte{}
	for i := range 4 {
		files[fmt.Sprintf("notes/spam/%d.txt", i)] = []byte("Buy now!<br />Cheap cheap offer")
		files[fmt.Sprintf("notes/ham/%d.TXT", i)] = []byte("Meeting at noon, see the notes")
	}
	dataDir := writeTree(t, t.TempDir(), files)
	cfg := &TextFolder{Path: "notes", NumWords: 0, WordIndex: "train", StripBR: true, FolderSplit: FolderSplit{TestFraction: 0.25, SplitSeed: 3, Stratify: true}}
	ds, err := cfg.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes, []string{"ham", "spam"}) || ds.Train.Len() != 6 || ds.Test.Len() != 2 || !slices.Equal(ds.Test.Y.Int, []int32{0, 1}) {
		t.Fatalf("classes %q, %d train, %d test with labels %v; want ham, spam and one of each held out", ds.Classes, ds.Train.Len(), ds.Test.Len(), ds.Test.Y.Int)
	}
	// Training words by count: cheap 6 (3 spam texts x 2), then the
	// words seen once per text, first seen first (ham's, then spam's).
	// buy, now, offer; meeting, at, noon, see, the, notes all 3 times.
	// Ham comes first: meeting 2, at 3, noon 4, see 5, the 6, notes 7,
	// then buy 8, now 9, offer 10; indices rank + 3.
	if got := sequences(ds.Train.X)[:2]; !slices.Equal(got[0], []int32{1, 5, 6, 7, 8, 9, 10}) || !slices.Equal(got[1], []int32{1, 11, 12, 4, 4, 13}) {
		t.Errorf("first ham and spam texts: %v, want [1 5 6 7 8 9 10] and [1 11 12 4 4 13]", got)
	}
}

func TestTextFolderErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  TextFolder
		want string
	}{
		{TextFolder{Path: "r", WordIndex: "keras"}, "word_index: keras needs word_index_file"},
		{TextFolder{Path: "r", WordIndex: "keras", WordIndexFile: "/abs/index.json"}, "relative to the data directory"},
		{TextFolder{Path: "/r", WordIndex: "train"}, "relative to the data directory"},
		{TextFolder{Path: "r", WordIndex: "train", FolderSplit: FolderSplit{Classes: []string{".."}}}, "not a folder name"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg, err, c.want)
		}
	}
	dataDir := writeTree(t, t.TempDir(), map[string][]byte{"r/train/a/0.txt": []byte("x"), "r/test/a/0.txt": []byte("y")})
	_, err := (&TextFolder{Path: "r", WordIndex: "keras", WordIndexFile: "r/index.json"}).Load(dataDir)
	var de *data.DataError
	if want := filepath.Join(dataDir, "r", "index.json"); !errors.As(err, &de) || de.Path != want || !strings.Contains(err.Error(), "file not found") {
		t.Errorf("got %v, want a DataError naming %s", err, want)
	}
	for _, c := range []struct{ path, index, want string }{
		{"r", "", "r"},
		{"imdb/aclImdb_v1.tar.gz", "imdb/imdb_word_index.json", "imdb"},
		{"text/reviews", "text/reviews/index.json", "text/reviews"},
		{"reviews", "index.json", "."},
	} {
		cfg := &TextFolder{Path: c.path, WordIndex: "train", WordIndexFile: c.index}
		if c.index != "" {
			cfg.WordIndex = "keras"
		}
		if got := cfg.Folder(); got != filepath.FromSlash(c.want) {
			t.Errorf("Folder of %q and %q = %q, want %q", c.path, c.index, got, c.want)
		}
	}
}

// TestTextFolderDecodeInput: a text given to pipe predict gets the
// indices the dataset gave it.
func TestTextFolderDecodeInput(t *testing.T) {
	dataDir := writeTree(t, t.TempDir(), map[string][]byte{
		"r/train/a/0.txt": []byte("the cat sat"), "r/train/b/0.txt": []byte("the dog ran, the end"),
		"r/test/a/0.txt": []byte("a cat"), "r/test/b/0.txt": []byte("a dog"),
	})
	cfg := &TextFolder{Path: "r", WordIndex: "train"}
	ds, err := cfg.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.DecodeInput(dataDir, "0.txt", []byte("the dog ran, the end"))
	if err != nil {
		t.Fatal(err)
	}
	if want := sequences(ds.Train.X)[1]; !slices.Equal(got.Int, want) || !slices.Equal(got.Offsets, []int{0, len(want)}) {
		t.Errorf("predict input %v, the dataset has %v", got.Int, want)
	}
}
