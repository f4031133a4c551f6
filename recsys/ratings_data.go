package recsys

import (
	"fmt"
	"math"
	"slices"

	"github.com/pipe-ml/pipe/data"
)

// Shared plumbing of the plain-Go rating models (user_knn, rbm_cf): the
// training ratings indexed both by user and by item, the means the
// documented fallbacks use, and checks on the (user, item) pairs.

// sparseRows is a compressed sparse row matrix: row r holds the columns
// col[start[r]:start[r+1]] (ascending) with values val[...].
type sparseRows struct {
	start []int
	col   []int32
	val   []float32
}

func (s *sparseRows) row(r int) ([]int32, []float32) {
	return s.col[s.start[r]:s.start[r+1]], s.val[s.start[r]:s.start[r+1]]
}

func (s *sparseRows) rowLen(r int) int { return s.start[r+1] - s.start[r] }

// buildSparseRows indexes (rows[i], cols[i], vals[i]) by row, columns
// ascending within a row, whatever the input order. A repeated
// (row, col) is an error.
func buildSparseRows(nRows int, rows, cols []int32, vals []float32) (sparseRows, error) {
	s := sparseRows{start: make([]int, nRows+1), col: make([]int32, len(rows)), val: make([]float32, len(rows))}
	for _, r := range rows {
		s.start[r+1]++
	}
	for r := range nRows {
		s.start[r+1] += s.start[r]
	}
	next := slices.Clone(s.start[:nRows])
	for i, r := range rows {
		s.col[next[r]] = cols[i]
		s.val[next[r]] = vals[i]
		next[r]++
	}
	type cv struct {
		c int32
		v float32
	}
	var buf []cv
	for r := range nRows {
		lo, hi := s.start[r], s.start[r+1]
		if slices.IsSorted(s.col[lo:hi]) {
			continue
		}
		buf = buf[:0]
		for j := lo; j < hi; j++ {
			buf = append(buf, cv{s.col[j], s.val[j]})
		}
		slices.SortStableFunc(buf, func(a, b cv) int { return int(a.c) - int(b.c) })
		for j, e := range buf {
			s.col[lo+j], s.val[lo+j] = e.c, e.v
		}
	}
	for r := range nRows {
		for j := s.start[r] + 1; j < s.start[r+1]; j++ {
			if s.col[j] == s.col[j-1] {
				return s, fmt.Errorf("two training ratings for the pair (%d, %d)", r, s.col[j])
			}
		}
	}
	return s, nil
}

// ratingData is a training split indexed for the plain-Go models.
type ratingData struct {
	nUsers, nItems     int
	scale              [2]float32
	byUser, byItem     sparseRows // byUser: items of each user; byItem: users of each item
	userMean, itemMean []float64
	global             float64
}

// checkPairs validates the X column of a rating split against info.
func checkPairs(info *data.RatingInfo, x *data.Array) error {
	return checkPairCounts(len(info.Users), len(info.Items), x)
}

// checkPairCounts validates the X column of a rating split: (user, item)
// index pairs within nUsers x nItems.
func checkPairCounts(nUsers, nItems int, x *data.Array) error {
	if x.DType != data.Int32 || x.Size() != 2 || len(x.Int)%2 != 0 {
		return fmt.Errorf("want (user, item) pairs as int32[2], got %s with %d values", x.Schema, len(x.Int))
	}
	nu, ni := int32(nUsers), int32(nItems)
	for p := 0; p < len(x.Int); p += 2 {
		if u, i := x.Int[p], x.Int[p+1]; u < 0 || u >= nu || i < 0 || i >= ni {
			return fmt.Errorf("pair %d is (%d, %d), outside %d users x %d items", p/2, u, i, nu, ni)
		}
	}
	return nil
}

func newRatingData(info *data.RatingInfo, train *data.Split) (*ratingData, error) {
	if info == nil {
		return nil, fmt.Errorf("not a rating dataset (no RatingInfo)")
	}
	if err := checkPairs(info, &train.X); err != nil {
		return nil, fmt.Errorf("training ratings: %w", err)
	}
	n := len(train.X.Int) / 2
	if len(train.Y.Float) != n {
		return nil, fmt.Errorf("training ratings: %d ratings for %d pairs", len(train.Y.Float), n)
	}
	if n == 0 {
		return nil, fmt.Errorf("no training ratings")
	}
	d := &ratingData{nUsers: len(info.Users), nItems: len(info.Items), scale: info.Scale}
	users, items := make([]int32, n), make([]int32, n)
	var sum float64
	for k := range n {
		users[k], items[k] = train.X.Int[2*k], train.X.Int[2*k+1]
		v := train.Y.Float[k]
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("training rating %d is %v", k, v)
		}
		sum += float64(v)
	}
	d.global = sum / float64(n)
	var err error
	if d.byUser, err = buildSparseRows(d.nUsers, users, items, train.Y.Float); err != nil {
		return nil, err
	}
	if d.byItem, err = buildSparseRows(d.nItems, items, users, train.Y.Float); err != nil {
		return nil, err
	}
	d.userMean, d.itemMean = rowMeans(&d.byUser), rowMeans(&d.byItem)
	return d, nil
}

// rowMeans is the mean of each row's values (0 for an empty row).
func rowMeans(s *sparseRows) []float64 {
	out := make([]float64, len(s.start)-1)
	for r := range out {
		_, vals := s.row(r)
		var sum float64
		for _, v := range vals {
			sum += float64(v)
		}
		if len(vals) > 0 {
			out[r] = sum / float64(len(vals))
		}
	}
	return out
}

// fallback is the documented prediction for a pair the model cannot
// score: the user's mean training rating, else the item's, else the
// global mean.
func (d *ratingData) fallback(u, i int32) float64 {
	switch {
	case d.byUser.rowLen(int(u)) > 0:
		return d.userMean[u]
	case d.byItem.rowLen(int(i)) > 0:
		return d.itemMean[i]
	}
	return d.global
}

func (d *ratingData) clip(v float64) float32 { return clipTo(d.scale, v) }

// clipTo clips a rating to scale.
func clipTo(scale [2]float32, v float64) float32 {
	return float32(min(max(v, float64(scale[0])), float64(scale[1])))
}

// checkItems validates the item indices of a new user's ratings.
func checkItems(nItems int, ratings map[int32]float32) error {
	if len(ratings) == 0 {
		return fmt.Errorf("no ratings")
	}
	for i, r := range ratings {
		if i < 0 || int(i) >= nItems {
			return fmt.Errorf("item %d is outside the %d items", i, nItems)
		}
		if math.IsNaN(float64(r)) || math.IsInf(float64(r), 0) {
			return fmt.Errorf("the rating of item %d is %v", i, r)
		}
	}
	return nil
}
