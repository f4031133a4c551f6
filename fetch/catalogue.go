// Package fetch downloads the datasets that have an official source into
// the data directory, in the layout the loaders read, verifying recorded
// checksums before anything is moved into place.
package fetch

import (
	"fmt"
	"strings"
)

// Dataset is one entry of `pipe data fetch`: where its files come from,
// what they must hash to and what the loader needs afterwards.
type Dataset struct {
	Name   string // what `pipe data fetch` takes: the loader's name
	Folder string // the folder under the data directory the loader reads
	About  string // one line for `pipe data list`
	Files  []File // what is downloaded, in order
	// Needs are the paths (relative to Folder) the loader reads: all present
	// means the dataset is there. A path ending in .gz is also satisfied by
	// the file without .gz, since the mnist loader reads both.
	Needs []string
	// Checks are files verified after extraction, before the folder is
	// moved into place: an archive's checksum says the download is intact,
	// these say its contents are the files the loaders were tested with.
	Checks []Check
	// ByHand completes "copy ... by hand into DIR" when there is no network.
	ByHand string
	// Manual, when set, means there is no official download: `pipe data
	// fetch` prints it (with %s replaced by the dataset's folder) instead
	// of guessing a source.
	Manual string
}

// File is one file to download.
type File struct {
	Name string   // local name, and the last element of every URL
	URLs []string // tried in order: the official address first, then mirrors
	Size int64    // bytes, when known: the progress total and a cap on what is written
	// MD5 is the checksum the publisher (or, for MNIST, torchvision and
	// Keras) records; SHA256 the one this project verified. Every one
	// recorded is checked; a File needs at least one.
	MD5, SHA256 string
	// Extract, when set, unpacks the archive ("tar.gz" or "zip"): entries
	// under From go to To (both relative, "" for the top); others are skipped.
	Extract  string
	From, To string
}

// Check is a file of the dataset folder and its SHA-256.
type Check struct {
	Path, SHA256 string
}

// The addresses are variables so that tests can point them at a local server.
var (
	mnistOfficial = "http://yann.lecun.com/exdb/mnist/"
	// The S3 mirror torchvision uses: yann.lecun.com has refused downloads
	// at times, and the files are the same bytes (same MD5s).
	mnistMirror  = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	cifarURL     = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	imdbURL      = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
	wordIndexURL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
	ml100kURL    = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
)

func mnistFile(name string, size int64, md5, sha string) File {
	return File{Name: name, URLs: []string{mnistOfficial + name, mnistMirror + name}, Size: size, MD5: md5, SHA256: sha}
}

// catalogue builds the list afresh, so that a test that changes an address
// above sees it, and no caller can change another's copy.
func catalogue() []*Dataset {
	return []*Dataset{
		{
			Name: "mnist", Folder: "mnist",
			About: "MNIST digits (LeCun et al.): the four IDX .gz files, 11 MB, from yann.lecun.com (mirror: ossci-datasets.s3.amazonaws.com)",
			// The MD5s are torchvision's for the official files; the
			// SHA-256s were computed from ../shared/data/mnist, whose
			// files have those same MD5s, i.e. are the official bytes.
			Files: []File{
				mnistFile("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
				mnistFile("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
				mnistFile("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
				mnistFile("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
			},
			Needs:  []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
			ByHand: "the four .gz files",
		},
		{
			Name: "cifar10", Folder: "cifar10",
			About: "CIFAR-10 (Krizhevsky 2009): cifar-10-binary.tar.gz, 170 MB, from cs.toronto.edu, extracted to cifar-10-batches-bin/",
			// MD5: published on https://www.cs.toronto.edu/~kriz/cifar.html.
			// SHA-256: the value TFDS's checksum registry and other public
			// loaders record for the same archive.
			Files: []File{{
				Name: "cifar-10-binary.tar.gz", URLs: []string{cifarURL}, Size: 170052171,
				MD5: "c32a1d4ab5d03f1284b67883e8d87530", SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
				Extract: "tar.gz", From: "cifar-10-batches-bin/", To: "cifar-10-batches-bin/",
			}},
			Needs: []string{
				"cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/data_batch_2.bin", "cifar-10-batches-bin/data_batch_3.bin",
				"cifar-10-batches-bin/data_batch_4.bin", "cifar-10-batches-bin/data_batch_5.bin", "cifar-10-batches-bin/test_batch.bin",
				"cifar-10-batches-bin/batches.meta.txt",
			},
			// The per-file SHA-256s of ../shared/data/cifar10/PROVENANCE.txt,
			// which equal the published per-file checksums.
			Checks: []Check{
				{"cifar-10-batches-bin/data_batch_1.bin", "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5"},
				{"cifar-10-batches-bin/data_batch_2.bin", "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed"},
				{"cifar-10-batches-bin/data_batch_3.bin", "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67"},
				{"cifar-10-batches-bin/data_batch_4.bin", "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48"},
				{"cifar-10-batches-bin/data_batch_5.bin", "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add"},
				{"cifar-10-batches-bin/test_batch.bin", "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b"},
				{"cifar-10-batches-bin/batches.meta.txt", "558e74b5e208382e186da55784b4bac2cd52e558448e1b5800990fdb28ed8033"},
			},
			ByHand: "the folder cifar-10-batches-bin/ of cifar-10-binary.tar.gz",
		},
		{
			Name: "imdb", Folder: "imdb",
			About: "IMDB reviews (Maas et al. 2011): aclImdb_v1.tar.gz, 84 MB, from ai.stanford.edu, kept as the archive; Keras' imdb_word_index.json, 1.6 MB",
			Files: []File{
				{
					// Neither checksum is published by Stanford. The MD5 is
					// the one torchtext checks, the SHA-256 the one TFDS and
					// GoMLX's own IMDB example check. ../shared/data/imdb
					// holds a repacked archive (same reviews, no unsup/), so
					// these could not be checked against it: the tests serve
					// that archive with its own checksum instead.
					Name: "aclImdb_v1.tar.gz", URLs: []string{imdbURL}, Size: 84125825,
					MD5: "7c2ac02c03563afcf9b574c7e56c153a", SHA256: "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
				},
				{
					// MD5: the file_hash keras.datasets.imdb.get_word_index
					// checks. SHA-256: computed from ../shared/data/imdb's
					// copy, which has that MD5.
					Name: "imdb_word_index.json", URLs: []string{wordIndexURL}, Size: 1641221,
					MD5: "bfafd718b763782e994055a2d397834f", SHA256: "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
				},
			},
			Needs:  []string{"aclImdb_v1.tar.gz", "imdb_word_index.json"},
			ByHand: "aclImdb_v1.tar.gz (as it is: the loader streams it) and imdb_word_index.json",
		},
		{
			Name: "ml100k", Folder: "ml-100k",
			About: "MovieLens 100K (GroupLens): ml-100k.zip, 4.9 MB, from files.grouplens.org, extracted to ml-100k/",
			// MD5: GroupLens' ml-100k.zip.md5. SHA-256: the value public
			// loaders record for the same archive.
			Files: []File{{
				Name: "ml-100k.zip", URLs: []string{ml100kURL}, Size: 4924029,
				MD5: "0e33842e24a9c977be4e0107933c0723", SHA256: "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
				Extract: "zip", From: "ml-100k/", To: "",
			}},
			Needs: []string{"u.data"},
			// ../shared/data/ml-100k/u.data is byte-identical to the
			// official file (see its PROVENANCE.txt).
			Checks: []Check{{"u.data", "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"}},
			ByHand: "u.data (and u.item, u.user) from ml-100k.zip",
		},
		{
			Name: "jester5k", Folder: "jester5k",
			About:  "Jester5k: a sample made by R's recommenderlab package; no official download",
			Needs:  []string{"ratings.csv"},
			Manual: jesterManual,
		},
		{
			Name: "movielense", Folder: "movielense",
			About:  "MovieLense: recommenderlab's MovieLens 100K matrix; no official download",
			Needs:  []string{"ratings.csv"},
			Manual: movielenseManual,
		},
	}
}

const jesterManual = `jester5k has no official download: it is Jester5k, the 5,000-user sample of Jester dataset 1
(Goldberg et al., UC Berkeley) that R's recommenderlab package ships as data/Jester5k.rda.
The course's version is the object of recommenderlab 0.1-9 .. 0.2-7 (2016-2021; 362,106 ratings;
in git: mhahsler/recommenderlab at commit 4af5eda); 0.2-7.1 and later ship a different sample.
Write it as ratings.csv, a header line user,item,rating then one rating a line
(users u<id>, items j1..j100), into %s, e.g. in R:
  library(recommenderlab); data(Jester5k)
  write.csv(as(Jester5k, "data.frame"), "ratings.csv", row.names = FALSE)`

const movielenseManual = `movielense has no official download: it is MovieLense, the MovieLens 100K rating matrix
as R's recommenderlab package ships it (data/MovieLense.rda: 943 users, 1,664 movies named by title,
99,392 ratings). For GroupLens' own files, use ml100k instead: pipe data fetch ml100k.
Write it as ratings.csv, a header line user,item,rating then one rating a line
(item = the movie title, quoted where it holds a comma), into %s, e.g. in R:
  library(recommenderlab); data(MovieLense)
  write.csv(as(MovieLense, "data.frame"), "ratings.csv", row.names = FALSE)`

// Datasets lists every dataset `pipe data` knows, in a fixed order.
func Datasets() []*Dataset { return catalogue() }

// Lookup finds a dataset by its name or its folder ("ml-100k" for ml100k).
func Lookup(name string) (*Dataset, error) {
	var names []string
	for _, d := range catalogue() {
		if d.Name == name || d.Folder == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return nil, &UnknownError{Name: name, Known: names}
}

// UnknownError is a name `pipe data fetch` does not know.
type UnknownError struct {
	Name  string
	Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown dataset %q (one of %s)", e.Name, strings.Join(e.Known, ", "))
}

// ManualError is a dataset without an official download: its message says
// where the files come from and where to put them.
type ManualError struct {
	Dataset string
	Text    string
}

func (e *ManualError) Error() string { return e.Text }

// Downloadable says whether the dataset has an official source.
func (d *Dataset) Downloadable() bool { return d.Manual == "" && len(d.Files) > 0 }
