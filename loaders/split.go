package loaders

import (
	"math/rand/v2"

	"github.com/pipe-ml/pipe/spec"
)

// A rating split chooses which ratings a ratings loader holds out as the
// test split. Splits are components of their own registry, so that a
// spec writes `split: {kfold: {k: 5, fold: 0}}` beside any ratings loader
// and each kind declares and checks its own params; split_*.go hold them.

// Splitter marks the test ratings of a loaded rating table.
type Splitter interface {
	// HoldOut returns, for each of in.Ratings, whether it is a test rating.
	HoldOut(in *SplitInput) ([]bool, error)
}

// SplitInput is what a split chooses from.
type SplitInput struct {
	// Ratings after the user sample, in file order.
	Ratings []Rating
	// Timestamps says whether the ratings' Time comes from the file.
	Timestamps bool
	// FromTest marks the ratings read from the given split's test file;
	// nil for every other split.
	FromTest []bool

	stream     *rand.Rand // the user sample's stream
	streamSeed int
}

// Rand returns the random stream of a split's seed. A split seeded like
// the user sample (split_seed) continues the sample's stream, as the
// course's protocol did, so that `split: {random: {fraction: 0.3, seed: 1}}`
// is exactly the default split; any other seed starts its own stream.
func (in *SplitInput) Rand(seed int) *rand.Rand {
	if in.stream != nil && seed == in.streamSeed {
		return in.stream
	}
	return splitRand(seed)
}

// Splits is the registry of rating splits.
var Splits = spec.NewRegistry[Splitter]("split")
