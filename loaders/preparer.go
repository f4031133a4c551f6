package loaders

// Preparer is an InputDecoder that reads, once, what decoding needs from
// the data directory (a vocabulary). After Prepare, DecodeInput only reads
// the decoder, so that a server may decode requests on several goroutines
// at once.
type Preparer interface {
	Prepare(dataDir string) error
}
