package loaders

import (
	"path/filepath"

	"github.com/pipe-ml/pipe/data"
)

// The rating loaders of the course's collaborative-filtering workloads:
// jester5k and movielense (recommenderlab's objects written as
// user,item,rating CSV) and ml100k (GroupLens' u.data). Each is a fixed
// configuration of the generic `ratings` loader's reader, and embeds
// RatingSplit, so test_fraction, split_seed, sample_users and split sit
// beside the loader name in a spec.

func init() {
	Loaders.Register("jester5k", "Jester5k jokes ratings (recommenderlab's 5,000-user sample of Jester dataset 1) from DATA/jester5k/ratings.csv (user,item,rating): 362,106 ratings of 100 jokes, continuous in [-10, 10]. X is the (user, item) index pair, Y the rating; test_fraction of the ratings is held out at random unless split says otherwise.",
		func() Loader { return &Jester5k{RatingSplit: DefaultRatingSplit()} })
	Loaders.Register("movielense", "MovieLense (recommenderlab's MovieLens 100K matrix, items named by title) from DATA/movielense/ratings.csv (user,item,rating): 99,392 ratings by 943 users of 1,664 movies, integers 1..5. X is the (user, item) index pair, Y the rating; test_fraction of the ratings is held out at random unless split says otherwise.",
		func() Loader { return &MovieLense{RatingSplit: DefaultRatingSplit()} })
}

// userItemRatingCSV is recommenderlab's objects as written to CSV: an RFC
// 4180 file whose header is exactly user,item,rating; no timestamps.
func userItemRatingCSV(scale [2]float32) *ratingSource {
	return &ratingSource{format: formatText, delim: ',', header: true, quotes: true, exactHeader: true,
		cols: [nRoles]string{"user", "item", "rating"}, scale: &scale}
}

// loadIn reads file in the named folder of the data directory, saying so
// when the folder itself is missing.
func loadIn(dataDir, folder, file string, src *ratingSource, p RatingSplit) (*data.Dataset, error) {
	if err := p.validate(src.cols[roleTime] != ""); err != nil {
		return nil, err // a mistake in the params comes before any about the data
	}
	dir, err := datasetDir(dataDir, folder)
	if err != nil {
		return nil, err
	}
	return src.load(filepath.Join(dir, file), p)
}

// Jester5k reads DATA/jester5k/ratings.csv.
type Jester5k struct {
	RatingSplit
}

// JesterScale is the Jester rating scale.
var JesterScale = [2]float32{-10, 10}

// Folder is where its files sit under the data directory.
func (*Jester5k) Folder() string { return "jester5k" }

func (*Jester5k) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

// InputColumns are the user and item columns of the pairs.
func (*Jester5k) InputColumns() []data.Columns { return data.RatingColumns() }

// Validate rejects a split that needs timestamps, which the file lacks.
func (l *Jester5k) Validate() error { return l.validate(false) }

func (l *Jester5k) Load(dataDir string) (*data.Dataset, error) {
	return loadIn(dataDir, l.Folder(), "ratings.csv", userItemRatingCSV(JesterScale), l.RatingSplit)
}

// MovieLense reads DATA/movielense/ratings.csv; items are movie titles.
type MovieLense struct {
	RatingSplit
}

// MovieLensScale is the MovieLens star scale.
var MovieLensScale = [2]float32{1, 5}

// Folder is where its files sit under the data directory.
func (*MovieLense) Folder() string { return "movielense" }

func (*MovieLense) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

// InputColumns are the user and item columns of the pairs.
func (*MovieLense) InputColumns() []data.Columns { return data.RatingColumns() }

// Validate rejects a split that needs timestamps, which the file lacks.
func (l *MovieLense) Validate() error { return l.validate(false) }

func (l *MovieLense) Load(dataDir string) (*data.Dataset, error) {
	return loadIn(dataDir, l.Folder(), "ratings.csv", userItemRatingCSV(MovieLensScale), l.RatingSplit)
}
