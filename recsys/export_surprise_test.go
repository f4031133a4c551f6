package recsys

// Hooks into the Surprise models for the package's external tests.

// KNNSimilarityRow returns the similarities of row x (a user when
// user-based, else an item) of a fitted k-NN model to every row.
func KNNSimilarityRow(f Fitted, x int32) []float64 {
	m := f.(*knnFitted)
	if m.dense != nil {
		return append([]float64(nil), m.dense[int(x)*m.nx:(int(x)+1)*m.nx]...)
	}
	out := make([]float64, m.nx)
	m.xRow(newSimScratch(m.nx), x, out)
	return out
}

// KNNDense says whether a fitted k-NN model stores its similarity matrix.
func KNNDense(f Fitted) bool { return f.(*knnFitted).dense != nil }

// SetKNNDenseLimit sets the largest similarity matrix Fit stores and
// returns a function that restores the previous limit.
func SetKNNDenseLimit(n int) (restore func()) {
	prev := knnDenseLimit
	knnDenseLimit = n
	return func() { knnDenseLimit = prev }
}

// CoClusters returns the user and item clusters of a fitted co-clustering.
func CoClusters(f Fitted) (users, items []int) {
	m := f.(*coClusterModel)
	return m.userCl, m.itemCl
}
