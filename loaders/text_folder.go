package loaders

import (
	"cmp"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("text_folder", "Text files in class folders (Keras' text_dataset_from_directory layout): DATA/<path>/<class>/*.txt, or <path>/train/<class>/ and <path>/test/<class>/ as aclImdb; path may be a .tar.gz of such a folder (root: the folder inside it). Each text becomes a ragged int32 sequence of word indices in Keras' encoding, as imdb's (1 start, 2 out of vocabulary, word of rank r -> r + 3); labels int32 in the order of classes (sorted folder names by default). Pad them with pad_sequences.",
		func() Loader {
			return &TextFolder{NumWords: 5000, WordIndex: "train", FolderSplit: DefaultFolderSplit()}
		})
}

// TextFolder reads the .txt files of class folders (see class_folders.go
// for the layout, splits and example order) and turns each into word
// indices by the rules of text.go, the imdb loader's. imdb is this loader
// with aclImdb's paths, strict review file names, and <br /> stripped.
//
// X is ragged (Shape [-1], Offsets set); its Classes is num_words, the
// bound on the indices, or 0 when every word is kept. As for
// image_folder, the number of classes is known without data only from
// `classes:`.
type TextFolder struct {
	Path          string `pipe:"path,required" doc:"folder of class folders, relative to the data directory, or a .tar.gz (.tgz, .tar) archive of one"`
	Root          string `pipe:"root" doc:"folder inside path that holds the class folders (or train/ and test/): aclImdb for the IMDB archive; empty for path itself"`
	NumWords      int    `pipe:"num_words,min=0" doc:"keep words whose index (rank + 3) is below num_words; the others become 2 (out of vocabulary), as Keras' num_words does; 0 keeps every word"`
	WordIndex     string `pipe:"word_index,oneof=train|keras" doc:"word ranks: train (by frequency in the training texts, ties to the word seen first) or keras (the ranks of word_index_file, a Keras word -> rank JSON)"`
	WordIndexFile string `pipe:"word_index_file" doc:"the word -> rank JSON that word_index: keras reads, relative to the data directory (imdb/imdb_word_index.json); keep it beside path, since the cache checksums the folder that holds both"`
	StripBR       bool   `pipe:"strip_br" doc:"turn the HTML line breaks <br /> into spaces before tokenizing (IMDB reviews hold them)"`
	FolderSplit

	// What imdb sets: its noun for messages, a bound on one file, a
	// check of each file name (made afresh for each read), and that the
	// archive has its own train/ and test/.
	noun      string
	maxBytes  int64
	nameCheck func() func(rel []string) error
	ownSplit  bool

	wordRanks map[string]int32 // word -> rank (Keras' or the training texts'), read once by Prepare
}

// textMaxFileBytes bounds one text file of a text folder.
const textMaxFileBytes = 64 << 20

// Validate checks what tags cannot.
func (t *TextFolder) Validate() error {
	for _, p := range []struct {
		name, value string
		required    bool
	}{{"path", t.Path, true}, {"root", t.Root, false}, {"word_index_file", t.WordIndexFile, t.WordIndex == "keras"}} {
		if err := validateRelPath(p.name, p.value, p.required); err != nil {
			if p.name == "word_index_file" && p.value == "" {
				return errors.New("word_index: keras needs word_index_file, the Keras word -> rank JSON")
			}
			return err
		}
	}
	return t.FolderSplit.validate()
}

// Folder is where its files sit under the data directory: path, or the
// folder that holds both path and the word index it reads.
func (t *TextFolder) Folder() string {
	p := path.Clean(filepath.ToSlash(t.Path))
	if t.WordIndex == "keras" && t.WordIndexFile != "" {
		p = commonFolder(p, path.Clean(filepath.ToSlash(t.WordIndexFile)))
	}
	return filepath.FromSlash(p)
}

// commonFolder is the deepest folder above (or equal to) both paths.
func commonFolder(a, b string) string {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	if n == len(as) && n == len(bs) {
		return a
	}
	if n == 0 {
		return "."
	}
	return strings.Join(as[:n], "/")
}

func (t *TextFolder) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: t.NumWords}, data.Schema{DType: data.Int32, Shape: []int{}, Classes: len(t.Classes)}
}

// textCorpus is a text folder read and tokenized.
type textCorpus struct {
	vocab       *textVocab
	train, test []folderExample[[]int32] // each text's words as vocabulary ids
	classes     []string
}

func (t *TextFolder) source(dataDir string) (treeSource, error) {
	return newTreeSource(filepath.Join(dataDir, filepath.FromSlash(t.Path)), t.Root)
}

// read walks the folder or archive once, tokenizing every text that can
// be an example (those of unlisted classes are never read: aclImdb's
// 50,000 train/unsup reviews cost only their decompression).
func (t *TextFolder) read(src treeSource) (*textCorpus, error) {
	noun := t.noun
	if noun == "" {
		noun = ".txt files"
	}
	maxBytes := t.maxBytes
	if maxBytes == 0 {
		maxBytes = textMaxFileBytes
	}
	var check func(rel []string) error
	if t.nameCheck != nil {
		check = t.nameCheck()
	}
	c := &textCorpus{vocab: newTextVocab()}
	tree := newClassTree[[]int32](src, t.FolderSplit, noun)
	tree.ownSplit = t.ownSplit
	err := src.walk(maxBytes, treeVisitor{
		dir: tree.addDir,
		want: func(rel []string) bool {
			return strings.EqualFold(path.Ext(rel[len(rel)-1]), ".txt") && tree.wanted(rel)
		},
		file: func(rel []string, body []byte) error {
			if check != nil {
				if err := check(rel); err != nil {
					return err
				}
			}
			tree.add(rel, c.vocab.tokens(body, t.StripBR, nil))
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if c.train, c.test, c.classes, err = tree.splits(); err != nil {
		return nil, err
	}
	return c, nil
}

// ranks are each vocabulary word's rank: Keras' word index, or the
// frequency ranks of the training texts in example order.
func (t *TextFolder) ranks(dataDir string, c *textCorpus) ([]int32, error) {
	if t.WordIndex == "keras" {
		return readKerasWordIndex(filepath.Join(dataDir, filepath.FromSlash(t.WordIndexFile)), c.vocab)
	}
	docs := make([][]int32, len(c.train))
	for i, e := range c.train {
		docs[i] = e.value
	}
	return textFrequencyRanks(len(c.vocab.words), docs), nil
}

func (t *TextFolder) Load(dataDir string) (*data.Dataset, error) {
	src, err := t.source(dataDir)
	if err != nil {
		return nil, err
	}
	c, err := t.read(src)
	if err != nil {
		return nil, err
	}
	ranks, err := t.ranks(dataDir, c)
	if err != nil {
		return nil, err
	}
	return &data.Dataset{
		Train:   textSplit(c.train, ranks, t.NumWords, len(c.classes)),
		Test:    textSplit(c.test, ranks, t.NumWords, len(c.classes)),
		Classes: c.classes,
	}, nil
}

// textSplit turns tokenized examples into a split: ragged Keras indices
// and int32 labels.
func textSplit(examples []folderExample[[]int32], ranks []int32, numWords, classes int) data.Split {
	n := 0
	for _, e := range examples {
		n += 1 + len(e.value)
	}
	x := data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: numWords}, Int: make([]int32, 0, n), Offsets: make([]int, 1, len(examples)+1)}
	y := data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}, Classes: classes}, Int: make([]int32, len(examples))}
	for i, e := range examples {
		x.Int = textIndices(x.Int, e.value, ranks, numWords)
		x.Offsets = append(x.Offsets, len(x.Int))
		y.Int[i] = e.label
	}
	return data.Split{X: x, Y: y}
}

// readKerasWordIndex reads Keras' word -> rank JSON and returns the rank of
// each vocabulary word (0 for words it does not list).
//
// A rank out of range fails even for a word outside the vocabulary, as
// Prepare fails on it: training and predict read the file alike.
func readKerasWordIndex(path string, vocab *textVocab) ([]int32, error) {
	index, err := kerasWordRanks(path)
	if err != nil {
		return nil, err
	}
	ranks := make([]int32, len(vocab.words))
	for i, w := range vocab.words {
		ranks[i] = index[w] // 0 for a word Keras does not rank
	}
	return ranks, nil
}

// InputKind: a text, UTF-8 as the folder's.
func (t *TextFolder) InputKind() InputKind {
	return InputKind{Text: true, What: "a text, UTF-8"}
}

// Prepare reads the word ranks once, however many texts are decoded:
// Keras' word index, or the training texts' frequency ranks (which reads
// the folder). After it DecodeInput only reads the loader, so a server may
// decode on several goroutines at once.
func (t *TextFolder) Prepare(dataDir string) error {
	if t.wordRanks != nil {
		return nil
	}
	var err error
	if t.WordIndex == "keras" {
		t.wordRanks, err = kerasWordRanks(filepath.Join(dataDir, filepath.FromSlash(t.WordIndexFile)))
	} else {
		t.wordRanks, err = t.trainWordRanks(dataDir)
	}
	return err
}

// DecodeInput turns a text given to pipe predict into word indices with
// the dataset's vocabulary, as the loader turns its texts.
func (t *TextFolder) DecodeInput(dataDir, name string, text []byte) (data.Array, error) {
	if limit := cmp.Or(t.maxBytes, textMaxFileBytes); int64(len(text)) > int64(limit) {
		return data.Array{}, dataErr(name, "%d bytes, more than a text can be", len(text))
	}
	if err := t.Prepare(dataDir); err != nil {
		return data.Array{}, err
	}
	vocab := newTextVocab()
	words := vocab.tokens(text, t.StripBR, nil)
	ranks := make([]int32, len(vocab.words))
	for i, w := range vocab.words {
		ranks[i] = t.wordRanks[w] // 0, no rank, for a word new to the dataset
	}
	x := textIndices(nil, words, ranks, t.NumWords)
	return data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: t.NumWords}, Int: x, Offsets: []int{0, len(x)}}, nil
}

// kerasWordRanks reads Keras' word -> rank JSON (imdb_word_index.json).
func kerasWordRanks(path string) (map[string]int32, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, dataErr(path, "file not found (a Keras word -> rank JSON such as imdb_word_index.json, needed by word_index: keras)")
	} else if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	var index map[string]int
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, dataErr(path, "not a JSON object of word -> rank: %v", err)
	}
	ranks := make(map[string]int32, len(index))
	bad := ""
	for w, r := range index {
		if r < 1 || r > 1<<30 {
			if bad == "" || w < bad { // the same word named whatever the map's order
				bad = w
			}
			continue
		}
		ranks[w] = int32(r)
	}
	if bad != "" {
		return nil, dataErr(path, "word %q has rank %d; ranks start at 1", bad, index[bad])
	}
	return ranks, nil
}

// trainWordRanks is every training word's frequency rank, as Load ranks
// them (the same texts in the same order).
func (t *TextFolder) trainWordRanks(dataDir string) (map[string]int32, error) {
	src, err := t.source(dataDir)
	if err != nil {
		return nil, err
	}
	c, err := t.read(src)
	if err != nil {
		return nil, err
	}
	ranks, _ := t.ranks(dataDir, c) // word_index: train cannot fail
	out := make(map[string]int32, len(ranks))
	for i, w := range c.vocab.words {
		if ranks[i] > 0 {
			out[w] = ranks[i]
		}
	}
	return out, nil
}
