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
	"time"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

func TestTextTokenize(t *testing.T) {
	for _, c := range []struct {
		text    string
		stripBR bool
		want    []string
	}{
		{"Hello, World!", true, []string{"hello", "world"}},
		// The apostrophe is part of words; - _ / . separate them.
		{"Don't 'cause well-made_film 10/10.", true, []string{"don't", "'cause", "well", "made", "film", "10", "10"}},
		// Every Keras filter character separates, as does ASCII white space.
		{"a!b\"c#d$e%f&g(h)i*j+k,l-m.n/o:p;q<r=s>t?u@v[w\\x]y^z_A`B{C|D}E~F G\tH\nI\rJ\vK\fL", true,
			[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}},
		// Only ASCII letters are lower-cased; non-ASCII characters, the
		// non-ASCII spaces U+00A0 and U+0085 included, stay inside words.
		{"Ángela ÉCOLE a\u00a0b c\u0085d", true, []string{"Ángela", "École", "a\u00a0b", "c\u0085d"}},
		// <br /> (any case) is a space with stripBR; without, it leaves "br".
		{"end.<br /><BR />Next", true, []string{"end", "next"}},
		{"end.<br /><BR />Next", false, []string{"end", "br", "br", "next"}},
		{"<br/> <br> <br />", true, []string{"br", "br"}}, // only the exact "<br />" form is stripped
		{"", true, nil},
		{" ,.; ", true, nil},
	} {
		var got []string
		textTokenize([]byte(c.text), c.stripBR, func(w []byte) { got = append(got, string(w)) })
		if !slices.Equal(got, c.want) {
			t.Errorf("textTokenize(%q, stripBR %v) = %q, want %q", c.text, c.stripBR, got, c.want)
		}
	}
}

type tarEntry struct{ name, body string }

// writeIMDBData writes DATA/imdb/aclImdb_v1.tar.gz holding entries (names
// ending in / are folders), and imdb_word_index.json when index is not "".
func writeIMDBData(t *testing.T, entries []tarEntry, index string) string {
	t.Helper()
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, "imdb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(e.name, "/") {
			hdr = &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "aclImdb_v1.tar.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if index != "" {
		if err := os.WriteFile(filepath.Join(dir, "imdb_word_index.json"), []byte(index), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dataDir
}

// tinyIMDB is a miniature aclImdb tree, its entries deliberately out of
// order (test before train, pos before neg, id 1 before id 0) and mixed
// with files and folders the loader must skip.
var tinyIMDB = []tarEntry{
	{"aclImdb/", ""},
	{"aclImdb/README", "Large Movie Review Dataset v1.0 the the the the the"},
	{"aclImdb/test/pos/0_10.txt", "Great, GREAT movie"},
	{"aclImdb/test/neg/0_3.txt", "The plot was bad-ish. Zebra!"},
	{"aclImdb/train/", ""},
	{"aclImdb/train/urls_pos.txt", "http://www.imdb.com/title/tt0000000/usercomments"},
	{"aclImdb/train/unsup/0_0.txt", "zebra zebra zebra zebra zebra zebra"},
	{"aclImdb/train/pos/1_8.txt", "Good movie! Good: the end"},
	{"aclImdb/train/pos/0_9.txt", "The movie was good; the acting was great."},
	{"aclImdb/train/neg/1_2.txt", "Bad acting."},
	{"aclImdb/train/neg/0_1.txt", "The movie was bad. Bad, BAD!<br /><br />Don't watch it."},
}

func loadTinyIMDB(t *testing.T, cfg IMDB, index string) *data.Dataset {
	t.Helper()
	ds, err := cfg.Load(writeIMDBData(t, tinyIMDB, index))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// sequences splits a ragged column into its examples.
func sequences(a data.Array) [][]int32 {
	var out [][]int32
	for i := range a.Len() {
		out = append(out, a.Int[a.Offsets[i]:a.Offsets[i+1]])
	}
	return out
}

func checkSequences(t *testing.T, what string, a data.Array, want [][]int32) {
	t.Helper()
	if !slices.Equal(a.Shape, []int{-1}) || a.DType != data.Int32 || !a.Ragged() {
		t.Errorf("%s: schema %s, ragged %v; want ragged int32[-1]", what, a.Schema, a.Ragged())
	}
	got := sequences(a)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// TestIMDBKerasIndices works out by hand what keras.datasets.imdb's rules
// give for tinyIMDB: words ranked by frequency in the training reviews
// (rank 1 = most frequent), index = rank + 3 (index_from=3), every
// sequence starts with 1, unknown words are 2, and with num_words an index
// >= num_words becomes 2.
func TestIMDBKerasIndices(t *testing.T) {
	// Training reviews in the loader's order (by id, neg before pos),
	// tokenized (lower-cased, punctuation and <br /> removed):
	//   neg 0: the movie was bad bad bad don't watch it
	//   pos 0: the movie was good the acting was great
	//   neg 1: bad acting
	//   pos 1: good movie good the end
	// Counts: the 4, bad 4, movie 3, was 3, good 3, acting 2, and 1 each
	// for don't, watch, it, great, end. Ties go to the word seen first in
	// that order, so the ranks and indices (rank + 3) are:
	//   the 1 -> 4     bad 2 -> 5     movie 3 -> 6    was 4 -> 7
	//   good 5 -> 8    acting 6 -> 9  don't 7 -> 10   watch 8 -> 11
	//   it 9 -> 12     great 10 -> 13 end 11 -> 14
	// The README and the unsup/ review are not training reviews: "zebra",
	// which only they and a test review hold, is out of vocabulary (2).
	t.Run("all words", func(t *testing.T) {
		ds := loadTinyIMDB(t, IMDB{NumWords: 0, WordIndex: "train", StripBR: true}, "")
		checkSequences(t, "train", ds.Train.X, [][]int32{
			{1, 4, 6, 7, 5, 5, 5, 10, 11, 12}, // neg 0: <start> the movie was bad bad bad don't watch it
			{1, 4, 6, 7, 8, 4, 9, 7, 13},      // pos 0: <start> the movie was good the acting was great
			{1, 5, 9},                         // neg 1: <start> bad acting
			{1, 8, 6, 8, 4, 14},               // pos 1: <start> good movie good the end
		})
		checkSequences(t, "test", ds.Test.X, [][]int32{
			{1, 4, 2, 7, 5, 2, 2}, // neg 0: <start> the plot(oov) was bad ish(oov) zebra(oov)
			{1, 13, 13, 6},        // pos 0: <start> great great movie
		})
		if !slices.Equal(ds.Train.Y.Int, []int32{0, 1, 0, 1}) || !slices.Equal(ds.Test.Y.Int, []int32{0, 1}) {
			t.Errorf("labels %v / %v, want neg=0, pos=1 alternating", ds.Train.Y.Int, ds.Test.Y.Int)
		}
		if !slices.Equal(ds.Classes, []string{"neg", "pos"}) || ds.Train.Y.Classes != 2 {
			t.Errorf("classes %q (%d), want [neg pos]", ds.Classes, ds.Train.Y.Classes)
		}
	})
	t.Run("num_words 10", func(t *testing.T) {
		// Indices 10 and up (don't, watch, it, great, end) become 2.
		ds := loadTinyIMDB(t, IMDB{NumWords: 10, WordIndex: "train", StripBR: true}, "")
		checkSequences(t, "train", ds.Train.X, [][]int32{
			{1, 4, 6, 7, 5, 5, 5, 2, 2, 2}, // don't(10) watch(11) it(12) -> 2
			{1, 4, 6, 7, 8, 4, 9, 7, 2},    // great(13) -> 2
			{1, 5, 9},                      // acting is 9 < 10: kept
			{1, 8, 6, 8, 4, 2},             // end(14) -> 2
		})
		checkSequences(t, "test", ds.Test.X, [][]int32{{1, 4, 2, 7, 5, 2, 2}, {1, 2, 2, 6}})
		if ds.Train.X.Classes != 10 {
			t.Errorf("x Classes %d, want num_words 10", ds.Train.X.Classes)
		}
	})
	t.Run("keeping br", func(t *testing.T) {
		// Without stripping, "<br /><br />" adds "br" twice to neg 0, right
		// after the three "bad": count 2, like acting, but seen first, so
		// br is rank 6 (index 9) and acting rank 7 (10); the rank-1 words
		// after them shift by one: don't 11, watch 12, it 13, great 14, end 15.
		ds := loadTinyIMDB(t, IMDB{NumWords: 0, WordIndex: "train", StripBR: false}, "")
		checkSequences(t, "train", ds.Train.X, [][]int32{
			{1, 4, 6, 7, 5, 5, 5, 9, 9, 11, 12, 13},
			{1, 4, 6, 7, 8, 4, 10, 7, 14},
			{1, 5, 10},
			{1, 8, 6, 8, 4, 15},
		})
	})
	t.Run("keras word index", func(t *testing.T) {
		// With Keras' ranks the training counts do not matter: the 4 -> 7,
		// movie 2 -> 5, good 3 -> 6, zebra 4 -> 7, bad 5 -> 8; any other
		// word is out of vocabulary. num_words 8 turns bad (8) into 2.
		index := `{"the": 1, "movie": 2, "good": 3, "zebra": 4, "bad": 5}`
		ds := loadTinyIMDB(t, IMDB{NumWords: 8, WordIndex: "keras", StripBR: true}, index)
		checkSequences(t, "train", ds.Train.X, [][]int32{
			{1, 4, 5, 2, 2, 2, 2, 2, 2, 2}, // the movie was(oov) bad(8 -> oov) x3 don't watch it
			{1, 4, 5, 2, 6, 4, 2, 2, 2},    // the movie was good the acting was great
			{1, 2, 2},                      // bad acting
			{1, 6, 5, 6, 4, 2},             // good movie good the end
		})
		checkSequences(t, "test", ds.Test.X, [][]int32{
			{1, 4, 2, 2, 2, 2, 7}, // the plot was bad ish zebra
			{1, 2, 2, 5},          // great great movie
		})
	})
}

func TestIMDBBadData(t *testing.T) {
	ok := func(name string) []tarEntry { // tinyIMDB without the entry called name
		return slices.DeleteFunc(slices.Clone(tinyIMDB), func(e tarEntry) bool { return e.name == name })
	}
	for _, c := range []struct {
		name    string
		entries []tarEntry
		cfg     IMDB
		index   string
		want    string
	}{
		{"bad file name", append(ok(""), tarEntry{"aclImdb/train/pos/12.txt", "x"}), IMDB{WordIndex: "train"}, "", "aclImdb/train/pos/12.txt: not a review file name"},
		{"bad rating", append(ok(""), tarEntry{"aclImdb/test/neg/7_0.txt", "x"}), IMDB{WordIndex: "train"}, "", "aclImdb/test/neg/7_0.txt: not a review file name"},
		{"duplicate id", append(ok(""), tarEntry{"aclImdb/train/neg/1_4.txt", "x"}), IMDB{WordIndex: "train"}, "", "a second review with id 1"},
		{"empty folder", ok("aclImdb/test/pos/0_10.txt"), IMDB{WordIndex: "train"}, "", "no reviews in aclImdb/test/pos/"},
		{"no word index", ok(""), IMDB{WordIndex: "keras"}, "", "imdb_word_index.json: file not found"},
		{"bad word index", ok(""), IMDB{WordIndex: "keras"}, `["the"]`, "not a JSON object"},
		{"rank 0", ok(""), IMDB{WordIndex: "keras"}, `{"the": 0}`, `word "the" has rank 0`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.cfg.Load(writeIMDBData(t, c.entries, c.index))
			var de *data.DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a DataError saying %q", err, c.want)
			}
		})
	}

	// A truncated archive and a file that is not gzip at all.
	dataDir := writeIMDBData(t, tinyIMDB, "")
	path := filepath.Join(dataDir, "imdb", "aclImdb_v1.tar.gz")
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", full[:len(full)*2/3], "corrupt"},
		{"not gzip", []byte("aclImdb/train/pos/0_9.txt"), "not a gzip file"},
		{"missing", nil, "file not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.data == nil {
				os.Remove(path)
			} else if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := (&IMDB{WordIndex: "train"}).Load(dataDir)
			var de *data.DataError
			if !errors.As(err, &de) || de.Path != path || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want a DataError on %s saying %q", err, path, c.want)
			}
		})
	}
}

func TestIMDBReal(t *testing.T) {
	dataDir := testdata.Dir(t, "imdb")
	e, _ := Loaders.Lookup("imdb")
	cfg := e.New().(*IMDB) // the defaults: num_words 5000, ranks from the training set
	start := time.Now()
	ds, err := cfg.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded and indexed IMDB in %v", time.Since(start))
	if cfg.NumWords != 5000 {
		t.Errorf("default num_words %d, want 5000", cfg.NumWords)
	}
	wantX, wantY := cfg.Schemas()
	for name, s := range map[string]*data.Split{"train": &ds.Train, "test": &ds.Test} {
		if n := s.Len(); n != 25000 || s.Y.Len() != 25000 {
			t.Errorf("%s: %d sequences, %d labels, want 25,000", name, n, s.Y.Len())
		}
		if !slices.Equal(s.X.Shape, wantX.Shape) || !slices.Equal(s.Y.Shape, wantY.Shape) || !s.X.Ragged() {
			t.Errorf("%s: %s -> %s, declared %s -> %s", name, s.X.Schema, s.Y.Schema, wantX, wantY)
		}
		var labels [2]int
		for i, y := range s.Y.Int {
			labels[y]++
			if want := int32(i % 2); y != want { // neg, pos, neg, pos, ...
				t.Fatalf("%s: label %d of example %d, want %d (labels alternate)", name, y, i, want)
			}
		}
		if labels != [2]int{12500, 12500} {
			t.Errorf("%s: labels neg/pos %v, want 12,500 each", name, labels)
		}
		var maxIdx, oov int32
		for i, seq := range sequences(s.X) {
			if len(seq) < 2 || seq[0] != 1 {
				t.Fatalf("%s: sequence %d = %v..., want the start index 1 then words", name, i, seq[:min(len(seq), 5)])
			}
			for _, w := range seq[1:] {
				if w < 2 {
					t.Fatalf("%s: sequence %d holds index %d after the start", name, i, w)
				}
				maxIdx = max(maxIdx, w)
				if w == 2 {
					oov++
				}
			}
		}
		if maxIdx != 4999 {
			t.Errorf("%s: max index %d, want 4999 (num_words 5000)", name, maxIdx)
		}
		t.Logf("%s: %d tokens, %d out of vocabulary", name, len(s.X.Int), oov)
	}
	// The first training review is neg/0_3.txt; its opening words are among
	// the most frequent, so their indices are small.
	t.Logf("train[0] starts %v", ds.Train.X.Int[:12])
}

// TestIMDBMatchesKerasWordIndex checks the tokenizer against Keras' own
// word index: with "<br />" kept (as Keras did), the words of the training
// reviews are exactly those of imdb_word_index.json, and Keras' ranks are
// frequency ranks of the training reviews. Ranks can differ only between
// words of equal count, whose order Keras did not fix.
func TestIMDBMatchesKerasWordIndex(t *testing.T) {
	dir := filepath.Join(testdata.Dir(t, "imdb"), "imdb")
	vocab := newTextVocab()
	reviews, err := readIMDBArchive(filepath.Join(dir, "aclImdb_v1.tar.gz"), vocab, false)
	if err != nil {
		t.Fatal(err)
	}
	keras, err := readKerasWordIndex(filepath.Join(dir, "imdb_word_index.json"), vocab)
	if err != nil {
		t.Fatal(err)
	}
	var train [][]int32
	counts := make([]int, len(vocab.words))
	for _, r := range reviews {
		if !r.test {
			train = append(train, r.words)
			for _, w := range r.words {
				counts[w]++
			}
		}
	}
	ours := textFrequencyRanks(len(vocab.words), train)
	byKeras := make([]int32, len(vocab.words)+1) // Keras rank -> word id
	tied := map[int]int{}                        // count -> number of words with it
	nTrain := 0
	for id, c := range counts {
		if c > 0 {
			nTrain++
			tied[c]++
		}
		if (c > 0) != (keras[id] > 0) {
			t.Fatalf("word %q: %d training occurrences, Keras rank %d", vocab.words[id], c, keras[id])
		}
		if keras[id] > 0 {
			byKeras[keras[id]] = int32(id)
		}
	}
	if nTrain != 88584 {
		t.Errorf("%d distinct training words, Keras' index has 88,584", nTrain)
	}
	same := 0
	for r := 1; r <= nTrain; r++ {
		id := byKeras[r]
		if r > 1 && counts[id] > counts[byKeras[r-1]] {
			t.Fatalf("Keras ranks %q (%d) after %q (%d), which is less frequent", vocab.words[id], counts[id], vocab.words[byKeras[r-1]], counts[byKeras[r-1]])
		}
		if ours[id] == int32(r) {
			same++
		} else if tied[counts[id]] == 1 {
			t.Errorf("%q occurs %d times, a count no other word has, but ranks %d here and %d in Keras", vocab.words[id], counts[id], ours[id], r)
		}
	}
	if ours[vocab.ids["br"]] != 7 || keras[vocab.ids["br"]] != 7 {
		t.Errorf(`"br" ranks %d here and %d in Keras, want 7`, ours[vocab.ids["br"]], keras[vocab.ids["br"]])
	}
	t.Logf("%d of %d ranks equal Keras'; the others differ only within ties", same, nTrain)
}

// TestIMDBDecodeInput: a review given to pipe predict gets the indices the
// same text gets in the dataset (here the training review "Bad acting.",
// third in loader order: neg 0, pos 0, neg 1), and a word the dataset
// never saw is out of vocabulary (2).
func TestIMDBDecodeInput(t *testing.T) {
	index := `{"the": 1, "bad": 2, "movie": 3, "acting": 4}`
	dataDir := writeIMDBData(t, tinyIMDB, index)
	for _, cfg := range []IMDB{{WordIndex: "train", StripBR: true}, {WordIndex: "keras", StripBR: true}} {
		ds, err := cfg.Load(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		want := sequences(ds.Train.X)[2]
		for _, c := range []struct {
			text string
			want []int32
		}{
			{"Bad acting.", want},
			{"Bad acting, zyzzyva.", append(slices.Clone(want), textOOV)},
		} {
			got, err := cfg.DecodeInput(dataDir, "review.txt", []byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Int, c.want) || !slices.Equal(got.Offsets, []int{0, len(c.want)}) {
				t.Errorf("%s: %q gives %v, want %v", cfg.WordIndex, c.text, got.Int, c.want)
			}
		}
	}
}
