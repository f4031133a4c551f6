package loaders

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// A rating split chooses which ratings a ratings loader holds out as the
// test split. It is one mapping param beside any ratings loader,
//
//	split: {kind: kfold, k: 5, fold: 0, seed: 1}
//
// rather than a registry of its own: the spec's JSON Schema and docs
// describe a loader's nested params, and a registry reachable only from a
// loader's params would be in neither. The params a kind takes are checked
// in Validate; split_*.go hold the kinds.

// SplitSpec is the split: param. Its params are pointers so that a param
// left out is told from one given, which lets Validate refuse a param the
// kind does not take, and keeps the left-out ones out of the cache key and
// the resolved spec.
type SplitSpec struct {
	Kind       string   `pipe:"kind,required,oneof=random|per_user|leave_last_out|kfold|blocks|given" doc:"random: a seeded fraction of all ratings; per_user: a seeded fraction of each user's ratings; leave_last_out: each user's latest n ratings by timestamp; kfold: fold fold of k seeded folds; blocks: fold fold of k consecutive blocks in file order (ml-100k's u1..u5 are folds 0..4); given: the ratings of a test file (and a train file)"`
	Fraction   *float64 `pipe:"fraction,min=0,max=1" doc:"random, per_user: fraction held out, strictly between 0 and 1 (default 0.3)"`
	Seed       *int     `pipe:"seed" doc:"random, per_user, kfold: seed of the draw (default 1; a seed equal to split_seed continues the user sample's stream, as the default split does)"`
	MinRatings *int     `pipe:"min_ratings,min=0" doc:"per_user, leave_last_out: users with fewer ratings keep all of them in train (default 0)"`
	N          *int     `pipe:"n,min=1" doc:"leave_last_out: ratings held out per user (default 1); a user always keeps one training rating"`
	K          *int     `pipe:"k,min=2" doc:"kfold, blocks: number of folds (default 5)"`
	Fold       *int     `pipe:"fold,min=0" doc:"kfold, blocks: the fold held out as the test split, 0..k-1 (default 0)"`
	Train      *string  `pipe:"train" doc:"given: the training file, relative to the folder of the loader's file, or absolute (default: the loader's own file)"`
	Test       *string  `pipe:"test" doc:"given: the test file, relative to the folder of the loader's file, or absolute"`
}

// splitParams lists the params each kind takes, in the order messages
// name them.
var splitParams = map[string][]string{
	"random":         {"fraction", "seed"},
	"per_user":       {"fraction", "seed", "min_ratings"},
	"leave_last_out": {"n", "min_ratings"},
	"kfold":          {"k", "fold", "seed"},
	"blocks":         {"k", "fold"},
	"given":          {"train", "test"},
}

// Validate checks what the tags cannot: that every param given belongs to
// the kind, a fraction strictly inside (0, 1), a fold below k, and the
// given split's test file.
func (s *SplitSpec) Validate() error {
	takes, ok := splitParams[s.Kind]
	if !ok {
		return fmt.Errorf("split kind %q is not one of random, per_user, leave_last_out, kfold, blocks, given", s.Kind)
	}
	given := map[string]bool{
		"fraction": s.Fraction != nil, "seed": s.Seed != nil, "min_ratings": s.MinRatings != nil, "n": s.N != nil,
		"k": s.K != nil, "fold": s.Fold != nil, "train": s.Train != nil, "test": s.Test != nil,
	}
	for _, name := range []string{"fraction", "seed", "min_ratings", "n", "k", "fold", "train", "test"} {
		if given[name] && !contains(takes, name) {
			return fmt.Errorf("split %s takes %s; %s does not apply", s.Kind, strings.Join(takes, ", "), name)
		}
	}
	if f := s.Fraction; f != nil && (*f <= 0 || *f >= 1) {
		return fmt.Errorf("split %s: fraction must be strictly between 0 and 1, got %g", s.Kind, *f)
	}
	if k, fold := or(s.K, 5), or(s.Fold, 0); fold >= k {
		return fmt.Errorf("split %s: fold %d is out of range: with k = %d, fold is 0..%d", s.Kind, fold, k, k-1)
	}
	if s.Kind == "given" && (s.Test == nil || strings.TrimSpace(*s.Test) == "") {
		return errors.New("split given needs its test file (test: u1.test)")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// or is *p, or def when the param was left out.
func or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// splitter builds the split the params describe, their defaults filled in.
func (s *SplitSpec) splitter() splitter {
	switch s.Kind {
	case "per_user":
		return &perUserSplit{fraction: or(s.Fraction, 0.3), seed: or(s.Seed, 1), minRatings: or(s.MinRatings, 0)}
	case "leave_last_out":
		return &leaveLastOutSplit{n: or(s.N, 1), minRatings: or(s.MinRatings, 0)}
	case "kfold":
		return &kFoldSplit{k: or(s.K, 5), fold: or(s.Fold, 0), seed: or(s.Seed, 1)}
	case "blocks":
		return &blocksSplit{k: or(s.K, 5), fold: or(s.Fold, 0)}
	case "given":
		return &givenSplit{train: or(s.Train, ""), test: or(s.Test, "")}
	}
	return &randomSplit{fraction: or(s.Fraction, 0.3), seed: or(s.Seed, 1)}
}

// splitter marks the test ratings of a loaded rating table.
type splitter interface {
	// holdOut returns, for each of in.ratings, whether it is a test rating.
	holdOut(in *splitInput) ([]bool, error)
}

// splitInput is what a split chooses from.
type splitInput struct {
	ratings    []Rating // after the user sample, in file order
	timestamps bool     // the ratings' Time comes from the file
	// fromTest marks the ratings read from the given split's test file;
	// nil for every other split.
	fromTest []bool

	stream     *rand.Rand // the user sample's stream
	streamSeed int
}

// rand returns the random stream of a split's seed. A split seeded like
// the user sample (split_seed) continues the sample's stream, as the
// course's protocol did, so that `split: {kind: random, fraction: 0.3,
// seed: 1}` is exactly the default split; any other seed starts its own.
func (in *splitInput) rand(seed int) *rand.Rand {
	if in.stream != nil && seed == in.streamSeed {
		return in.stream
	}
	return splitRand(seed)
}
