package loaders

import "fmt"

// kFoldSplit is k-fold cross-validation: a seeded permutation of all
// ratings cut into k folds whose sizes differ by at most one; fold is the
// test split and the other k-1 train. Every rating is in exactly one
// fold's test split, so runs with fold 0..k-1 and one seed cover the data
// once.
type kFoldSplit struct {
	k, fold, seed int
}

// holdOut permutes all ratings and holds out positions
// [fold*n/k, (fold+1)*n/k) of the permutation: the folds partition it.
func (s *kFoldSplit) holdOut(in *splitInput) ([]bool, error) {
	n := len(in.ratings)
	if n < s.k {
		return nil, fmt.Errorf("split kfold: %d ratings cannot make %d folds", n, s.k)
	}
	order := in.rand(s.seed).Perm(n)
	isTest := make([]bool, n)
	for _, i := range order[s.fold*n/s.k : (s.fold+1)*n/s.k] {
		isTest[i] = true
	}
	return isTest, nil
}
