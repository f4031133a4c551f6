package loaders

import "fmt"

// blocksSplit is k-fold cross-validation without a shuffle: the ratings
// in file order cut into k consecutive blocks, fold the test split. It is
// how ml-100k's mku.sh makes GroupLens' u1..u5 folds from u.data (u.data
// is in random order): u<i>.test is lines (i-1)*20,000+1 .. i*20,000 and
// u<i>.base the other 80,000, so fold 0 is u1. mku.sh also sorts each
// file by user and item; that orders the ratings, it does not move one
// between train and test, and here each split keeps u.data's order.
type blocksSplit struct {
	k, fold int
}

// holdOut holds out positions [fold*n/k, (fold+1)*n/k), the sizes of the
// blocks differing by at most one, as kfold's do.
func (s *blocksSplit) holdOut(in *splitInput) ([]bool, error) {
	n := len(in.ratings)
	if n < s.k {
		return nil, fmt.Errorf("split blocks: %d ratings cannot make %d blocks", n, s.k)
	}
	isTest := make([]bool, n)
	for i := s.fold * n / s.k; i < (s.fold+1)*n/s.k; i++ {
		isTest[i] = true
	}
	return isTest, nil
}
