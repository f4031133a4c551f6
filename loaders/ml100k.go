package loaders

import (
	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("ml100k", "MovieLens 100K (GroupLens) from DATA/ml-100k/u.data (tab separated user_id, item_id, rating, timestamp; no header): 100,000 ratings by 943 users of 1,682 movies, integers 1..5. Users and items are named by their numeric ids. X is the (user, item) index pair, Y the rating; test_fraction of the ratings is held out at random unless split says otherwise (e.g. {kind: blocks, k: 5, fold: 0} for GroupLens' u1 split, cut from u.data as its mku.sh does (folds 0..4 are u1..u5), or {kind: given, train: u1.base, test: u1.test} to read those files from the same folder).",
		func() Loader { return &ML100k{RatingSplit: DefaultRatingSplit()} })
}

// ML100k reads DATA/ml-100k/u.data as GroupLens publishes it. Titles
// (u.item, Latin-1) are not read: items keep their numeric ids.
type ML100k struct {
	RatingSplit
}

// Folder is where its files sit under the data directory.
func (*ML100k) Folder() string { return "ml-100k" }

func (*ML100k) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

// InputColumns are the user and item columns of the pairs.
func (*ML100k) InputColumns() []data.Columns { return data.RatingColumns() }

// Validate checks the split; u.data has timestamps, so every kind applies.
func (l *ML100k) Validate() error { return l.validate(true) }

func (l *ML100k) Load(dataDir string) (*data.Dataset, error) {
	return loadIn(dataDir, l.Folder(), "u.data", uData(), l.RatingSplit)
}

// uData is GroupLens' u.data format (and that of its u1.base ... files):
// four tab-separated fields, user_id, item_id, rating and timestamp, no
// header and no quoting; ids are positive integers and ratings integers
// on the star scale.
func uData() *ratingSource {
	return &ratingSource{format: formatText, delim: '\t', fields: 4,
		cols: [nRoles]string{"0", "1", "2", "3"}, names: [nRoles]string{"user_id", "item_id", "rating", "timestamp"},
		scale: &MovieLensScale, integerIDs: true, integerRatings: true}
}
