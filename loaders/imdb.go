package loaders

import (
	"archive/tar"
	"bufio"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
// does; text.go states the tokenizing rules.
//
// Example order, in each split: by the numeric id of the file, and for the
// same id the negative review before the positive one (neg 0, pos 0, neg 1,
// pos 1, ...). The archive has ids 0..12499 in every folder, so labels
// alternate and any prefix (data.train_limit, the golden run) is balanced,
// which a neg-then-pos order would not be.
//
// X is ragged (Shape [-1], Offsets set); its Classes is num_words, the
// bound on the indices, or 0 when every word is kept.
type IMDB struct {
	NumWords  int    `pipe:"num_words,min=0" doc:"keep words whose index (rank + 3) is below num_words; the others become 2 (out of vocabulary), as Keras' num_words does; 0 keeps every word"`
	WordIndex string `pipe:"word_index,oneof=train|keras" doc:"word ranks: train (by frequency in the training reviews, ties to the word seen first) or keras (the ranks of DATA/imdb/imdb_word_index.json)"`
	StripBR   bool   `pipe:"strip_br" doc:"turn the HTML line breaks <br /> into spaces before tokenizing; false keeps them as the word br, as Keras' own imdb.npz and word index do"`

	ranks map[string]int32 // word -> rank (Keras' or the training reviews'), read once by Prepare for decoding inputs
}

const (
	imdbArchive   = "aclImdb_v1.tar.gz"
	imdbWordIndex = "imdb_word_index.json"
	imdbMaxReview = 1 << 20 // bytes; the longest review is under 14 KiB
)

// Folder is where its files sit under the data directory.
func (*IMDB) Folder() string { return "imdb" }

func (t *IMDB) Schemas() (x, y data.Schema) {
	return data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: t.NumWords}, data.Schema{DType: data.Int32, Shape: []int{}, Classes: 2}
}

// imdbReview is one review: where it sits and its words as vocabulary ids.
type imdbReview struct {
	test  bool
	label int32 // 0 neg, 1 pos
	id    int
	words []int32
}

func (t *IMDB) Load(dataDir string) (*data.Dataset, error) {
	dir, err := datasetDir(dataDir, "imdb")
	if err != nil {
		return nil, err
	}
	vocab := newTextVocab()
	reviews, err := readIMDBArchive(filepath.Join(dir, imdbArchive), vocab, t.StripBR)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(reviews, func(a, b imdbReview) int {
		if a.test != b.test {
			if a.test {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.label, b.label))
	})
	nTrain := slices.IndexFunc(reviews, func(r imdbReview) bool { return r.test })
	var ranks []int32
	if t.WordIndex == "keras" {
		if ranks, err = readKerasWordIndex(filepath.Join(dir, imdbWordIndex), vocab); err != nil {
			return nil, err
		}
	} else {
		train := make([][]int32, nTrain)
		for i := range train {
			train[i] = reviews[i].words
		}
		ranks = textFrequencyRanks(len(vocab.words), train)
	}
	return &data.Dataset{
		Train:   imdbSplit(reviews[:nTrain], ranks, t.NumWords),
		Test:    imdbSplit(reviews[nTrain:], ranks, t.NumWords),
		Classes: []string{"neg", "pos"},
	}, nil
}

func imdbSplit(reviews []imdbReview, ranks []int32, numWords int) data.Split {
	n := 0
	for _, r := range reviews {
		n += 1 + len(r.words)
	}
	x := data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: numWords}, Int: make([]int32, 0, n), Offsets: make([]int, 1, len(reviews)+1)}
	y := data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}, Classes: 2}, Int: make([]int32, len(reviews))}
	for i, r := range reviews {
		x.Int = textIndices(x.Int, r.words, ranks, numWords)
		x.Offsets = append(x.Offsets, len(x.Int))
		y.Int[i] = r.label
	}
	return data.Split{X: x, Y: y}
}

// readIMDBArchive streams the gzipped tar at path and tokenizes every
// aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt; other entries (README,
// vocabulary, URL lists, train/unsup/) are skipped.
func readIMDBArchive(path string, vocab *textVocab, stripBR bool) ([]imdbReview, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, dataErr(path, "file not found (the official %s of the Large Movie Review Dataset)", imdbArchive)
	} else if err != nil {
		return nil, &data.DataError{Path: path, Err: err}
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, dataErr(path, "not a gzip file: %v", err)
	}
	tr := tar.NewReader(zr)
	var (
		reviews []imdbReview
		text    []byte
		seen    = map[[3]int]bool{} // test, label, id
		counts  [2][2]int           // [test][label]
	)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, dataErr(path, "corrupt archive after %d reviews: %v", len(reviews), err)
		}
		if !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		r, ok, err := parseIMDBName(hdr.Name)
		if !ok {
			continue
		} else if err != nil {
			return nil, dataErr(path, "%s: %v", hdr.Name, err)
		}
		key := [3]int{imdbInt(r.test), int(r.label), r.id}
		if seen[key] {
			return nil, dataErr(path, "%s: a second review with id %d in that folder", hdr.Name, r.id)
		}
		seen[key] = true
		if hdr.Size > imdbMaxReview {
			return nil, dataErr(path, "%s: %d bytes, more than a review can be", hdr.Name, hdr.Size)
		}
		text = slices.Grow(text[:0], int(hdr.Size))[:hdr.Size]
		if _, err := io.ReadFull(tr, text); err != nil {
			return nil, dataErr(path, "%s: corrupt archive: %v", hdr.Name, err)
		}
		r.words = vocab.tokens(text, stripBR, nil)
		counts[imdbInt(r.test)][r.label]++
		reviews = append(reviews, r)
	}
	// Read to the end of the gzip stream, so that its checksum is verified.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, dataErr(path, "corrupt gzip stream: %v", err)
	}
	for test, split := range []string{"train", "test"} {
		for label, folder := range []string{"neg", "pos"} {
			if counts[test][label] == 0 {
				return nil, dataErr(path, "no reviews in aclImdb/%s/%s/", split, folder)
			}
		}
	}
	return reviews, nil
}

func imdbInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseIMDBName recognises aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt.
// ok is false for entries outside those four folders; err is set for a
// file inside them whose name is not a review's.
func parseIMDBName(name string) (r imdbReview, ok bool, err error) {
	parts := strings.Split(strings.TrimPrefix(name, "./"), "/")
	if len(parts) != 4 || parts[0] != "aclImdb" || (parts[1] != "train" && parts[1] != "test") || (parts[2] != "neg" && parts[2] != "pos") {
		return r, false, nil
	}
	r.test, r.label = parts[1] == "test", int32(imdbInt(parts[2] == "pos"))
	base, isTxt := strings.CutSuffix(parts[3], ".txt")
	id, rating, found := strings.Cut(base, "_")
	n, errID := strconv.Atoi(id)
	stars, errRating := strconv.Atoi(rating)
	if !isTxt || !found || errID != nil || errRating != nil || n < 0 || stars < 1 || stars > 10 {
		return r, true, fmt.Errorf("not a review file name <id>_<rating 1..10>.txt")
	}
	r.id = n
	return r, true, nil
}

// readKerasWordIndex reads Keras' word -> rank JSON and returns the rank of
// each vocabulary word (0 for words it does not list).
func readKerasWordIndex(path string, vocab *textVocab) ([]int32, error) {
	index, err := kerasWordRanks(path)
	if err != nil {
		return nil, err
	}
	ranks := make([]int32, len(vocab.words))
	for i, w := range vocab.words {
		ranks[i] = index[w]
	}
	return ranks, nil
}

// kerasWordRanks reads Keras' word -> rank JSON, every rank checked.
func kerasWordRanks(path string) (map[string]int32, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, dataErr(path, "file not found (Keras' imdb_word_index.json, needed by word_index: keras)")
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

// InputKind: a review, UTF-8 text as the dataset's.
func (t *IMDB) InputKind() InputKind {
	return InputKind{Text: true, What: "a review, UTF-8 text"}
}

// DecodeInput turns a review's text into word indices with the dataset's
// vocabulary, as the loader turns the archive's reviews; Prepare reads the
// vocabulary once, however many reviews are decoded.
func (t *IMDB) DecodeInput(dataDir, _ string, text []byte) (data.Array, error) {
	if err := t.Prepare(dataDir); err != nil {
		return data.Array{}, err
	}
	vocab := newTextVocab()
	words := vocab.tokens(text, t.StripBR, nil)
	ranks := make([]int32, len(vocab.words))
	for i, w := range vocab.words {
		ranks[i] = t.ranks[w] // 0, no rank, for a word new to the dataset
	}
	x := textIndices(nil, words, ranks, t.NumWords)
	return data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{-1}, Classes: t.NumWords}, Int: x, Offsets: []int{0, len(x)}}, nil
}

// imdbTrainRanks is every training word's frequency rank.
func imdbTrainRanks(archive string, stripBR bool) (map[string]int32, error) {
	vocab := newTextVocab()
	reviews, err := readIMDBArchive(archive, vocab, stripBR)
	if err != nil {
		return nil, err
	}
	var train [][]int32
	for _, r := range reviews {
		if !r.test {
			train = append(train, r.words)
		}
	}
	ranks := textFrequencyRanks(len(vocab.words), train)
	out := make(map[string]int32, len(ranks))
	for i, w := range vocab.words {
		if ranks[i] > 0 {
			out[w] = ranks[i]
		}
	}
	return out, nil
}
