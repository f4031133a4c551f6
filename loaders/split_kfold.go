package loaders

import "fmt"

func init() {
	Splits.Register("kfold", "k-fold cross-validation: a seeded permutation of all ratings cut into k folds of sizes differing by at most one; fold i is the test split and the other k-1 train. Every rating is in exactly one fold's test split, so runs with fold 0..k-1 (and the same seed) cover the data once.",
		func() Splitter { return &KFoldSplit{K: 5, Seed: 1} })
}

// KFoldSplit holds out one of k seeded folds.
type KFoldSplit struct {
	K    int `pipe:"k,min=2" doc:"number of folds"`
	Fold int `pipe:"fold,min=0" doc:"the fold held out as the test split, 0..k-1"`
	Seed int `pipe:"seed" doc:"seed of the permutation (the same for every fold of one cross-validation)"`
}

func (s *KFoldSplit) Validate() error {
	if s.Fold >= s.K {
		return fmt.Errorf("fold %d is out of range: with k = %d, fold is 0..%d", s.Fold, s.K, s.K-1)
	}
	return nil
}

// HoldOut permutes all ratings and holds out positions
// [fold*n/k, (fold+1)*n/k) of the permutation: the folds partition it.
func (s *KFoldSplit) HoldOut(in *SplitInput) ([]bool, error) {
	n := len(in.Ratings)
	if n < s.K {
		return nil, fmt.Errorf("split kfold: %d ratings cannot make %d folds", n, s.K)
	}
	order := in.Rand(s.Seed).Perm(n)
	isTest := make([]bool, n)
	for _, i := range order[s.Fold*n/s.K : (s.Fold+1)*n/s.K] {
		isTest[i] = true
	}
	return isTest, nil
}
