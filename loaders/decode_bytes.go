package loaders

import "path/filepath"

// Preparer is an InputDecoder that reads, once, what decoding needs from
// the data directory (a vocabulary). After Prepare, DecodeInput only reads
// the decoder, so that a server may decode requests on several goroutines
// at once.
type Preparer interface {
	Prepare(dataDir string) error
}

// Prepare reads the word ranks: Keras' word index, or the training
// reviews' frequency ranks (which reads the whole archive, some seconds),
// once however many reviews are decoded.
func (t *IMDB) Prepare(dataDir string) error {
	if t.ranks != nil {
		return nil
	}
	dir, err := datasetDir(dataDir, "imdb")
	if err != nil {
		return err
	}
	if t.WordIndex == "keras" {
		t.ranks, err = kerasWordRanks(filepath.Join(dir, imdbWordIndex))
	} else {
		t.ranks, err = imdbTrainRanks(filepath.Join(dir, imdbArchive), t.StripBR)
	}
	return err
}
