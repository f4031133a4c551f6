package loaders

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("imdb", "IMDB movie reviews (Maas et al. 2011) streamed from DATA/imdb/aclImdb_v1.tar.gz: 25,000 train and 25,000 test reviews as ragged int32 word-index sequences in Keras' encoding (1 start, 2 out of vocabulary, word of rank r -> r + 3), labels 0 (neg) and 1 (pos). Pad them with pad_sequences.",
		func() Loader { return &IMDB{NumWords: 5000, WordIndex: "train", StripBR: true} })
}

// IMDB reads the labelled reviews of the official aclImdb archive, without
// unpacking it, and turns each into word indices as keras.datasets.imdb
// does; text.go states the tokenizing rules. It is text_folder with
// aclImdb's paths and two checks of its own: every review's file name is
// <id>_<rating>.txt, and an id appears once per folder.
//
// Example order, in each split: by the numeric id of the file, and for the
// same id the negative review before the positive one (neg 0, pos 0, neg 1,
// pos 1, ...), which is text_folder's order (classes take turns, files in
// natural order) on aclImdb's ids 0..12499 in every folder. Labels
// alternate and any prefix (data.train_limit, the golden run) is balanced.
//
// X is ragged (Shape [-1], Offsets set); its Classes is num_words, the
// bound on the indices, or 0 when every word is kept.
type IMDB struct {
	NumWords  int    `pipe:"num_words,min=0" doc:"keep words whose index (rank + 3) is below num_words; the others become 2 (out of vocabulary), as Keras' num_words does; 0 keeps every word"`
	WordIndex string `pipe:"word_index,oneof=train|keras" doc:"word ranks: train (by frequency in the training reviews, ties to the word seen first) or keras (the ranks of DATA/imdb/imdb_word_index.json)"`
	StripBR   bool   `pipe:"strip_br" doc:"turn the HTML line breaks <br /> into spaces before tokenizing; false keeps them as the word br, as Keras' own imdb.npz and word index do"`

	folder *TextFolder // made once, so that DecodeInput reads the archive once
}

const (
	imdbArchive   = "aclImdb_v1.tar.gz"
	imdbWordIndex = "imdb_word_index.json"
	imdbMaxReview = 1 << 20 // bytes; the longest review is under 14 KiB
)

// textFolder is the text_folder configuration that reads aclImdb.
func (t *IMDB) textFolder() *TextFolder {
	if t.folder == nil {
		t.folder = &TextFolder{
			Path: "imdb/" + imdbArchive, Root: "aclImdb",
			FolderSplit: FolderSplit{Classes: []string{"neg", "pos"}},
			NumWords:    t.NumWords, WordIndex: t.WordIndex, WordIndexFile: "imdb/" + imdbWordIndex, StripBR: t.StripBR,
			noun: "reviews", maxBytes: imdbMaxReview, nameCheck: imdbNameCheck, ownSplit: true,
		}
	}
	return t.folder
}

// Folder is where its files sit under the data directory.
func (*IMDB) Folder() string { return "imdb" }

func (t *IMDB) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: t.NumWords}, data.Schema{DType: data.Int32, Shape: []int{}, Classes: 2}
}

// archive checks that the dataset folder and its archive are there, with
// messages that say how to get them.
func (t *IMDB) archive(dataDir string) error {
	dir, err := datasetDir(dataDir, "imdb")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, imdbArchive)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return dataErr(path, "file not found (the official %s of the Large Movie Review Dataset)", imdbArchive)
	}
	return nil
}

func (t *IMDB) Load(dataDir string) (*data.Dataset, error) {
	if err := t.archive(dataDir); err != nil {
		return nil, err
	}
	return t.textFolder().Load(dataDir)
}

// InputKind: a review, UTF-8 text as the dataset's.
func (t *IMDB) InputKind() InputKind {
	return InputKind{Text: true, What: "a review, UTF-8 text"}
}

// Prepare reads the vocabulary once: Keras' word index, or the training
// reviews' ranks (which reads the archive).
func (t *IMDB) Prepare(dataDir string) error {
	if _, err := datasetDir(dataDir, "imdb"); err != nil {
		return err
	}
	if t.WordIndex != "keras" { // Keras' word index needs no archive
		if err := t.archive(dataDir); err != nil {
			return err
		}
	}
	return t.textFolder().Prepare(dataDir)
}

// DecodeInput reads a review as word indices with the dataset's
// vocabulary, as the loader reads the archive's reviews.
func (t *IMDB) DecodeInput(dataDir, name string, text []byte) (data.Array, error) {
	if err := t.Prepare(dataDir); err != nil {
		return data.Array{}, err
	}
	return t.textFolder().DecodeInput(dataDir, name, text)
}

// imdbReview is one review of the archive, in loader order.
type imdbReview struct {
	test  bool
	label int32 // 0 neg, 1 pos
	words []int32
}

// readIMDBArchive reads the labelled reviews of an aclImdb archive at
// path, as the loader does, into vocab: the training reviews, then the
// test reviews, each in loader order.
func readIMDBArchive(path string, vocab *textVocab, stripBR bool) ([]imdbReview, error) {
	src, err := newTreeSource(path, "aclImdb")
	if err != nil {
		return nil, err
	}
	cfg := (&IMDB{StripBR: stripBR}).textFolder()
	c, err := cfg.read(src)
	if err != nil {
		return nil, err
	}
	*vocab = *c.vocab
	var out []imdbReview
	for i, split := range [][]folderExample[[]int32]{c.train, c.test} {
		for _, e := range split {
			out = append(out, imdbReview{test: i == 1, label: e.label, words: e.value})
		}
	}
	return out, nil
}

// imdbNameCheck returns a check of aclImdb's review file names:
// {train,test}/{neg,pos}/<id>_<rating 1..10>.txt, each id once per folder.
func imdbNameCheck() func(rel []string) error {
	seen := map[string]bool{}
	return func(rel []string) error {
		if len(rel) != 3 {
			return fmt.Errorf("not a review file name {train,test}/{neg,pos}/<id>_<rating 1..10>.txt")
		}
		id, err := parseIMDBName(rel[2])
		if err != nil {
			return err
		}
		key := rel[0] + "/" + rel[1] + "/" + strconv.Itoa(id)
		if seen[key] {
			return fmt.Errorf("a second review with id %d in that folder", id)
		}
		seen[key] = true
		return nil
	}
}

// parseIMDBName returns the id of a review file name <id>_<rating>.txt.
func parseIMDBName(name string) (int, error) {
	base, isTxt := strings.CutSuffix(name, ".txt")
	id, rating, found := strings.Cut(base, "_")
	n, errID := strconv.Atoi(id)
	stars, errRating := strconv.Atoi(rating)
	if !isTxt || !found || errID != nil || errRating != nil || n < 0 || stars < 1 || stars > 10 {
		return 0, fmt.Errorf("not a review file name <id>_<rating 1..10>.txt")
	}
	return n, nil
}
