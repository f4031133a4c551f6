package loaders

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/pipe-ml/pipe/data"
)

// UserRatings checks one user's ratings given as item -> rating (a JSON
// object in a request to `pipe serve`) against the dataset, with the rules
// of ReadUserRatings, and returns them by dense item index. An error is a
// DataError whose path is name (the request field); when several ratings
// are wrong, the first item in sorted order is named, so that the same
// request always gets the same answer.
func UserRatings(name string, in map[string]float64, info *data.RatingInfo) (map[int32]float32, error) {
	if len(in) == 0 {
		return nil, dataErr(name, "no ratings (want an object of item: rating)")
	}
	index := itemIndex(info)
	out := make(map[int32]float32, len(in))
	for _, id := range slices.Sorted(maps.Keys(in)) {
		v := in[id]
		item, err := checkUserRating(index, info, id, strconv.FormatFloat(v, 'g', -1, 64), v, nil)
		if err != nil {
			return nil, &data.DataError{Path: name, Err: err}
		}
		out[item] = float32(v)
	}
	if err := checkLeftToPredict(out, info); err != nil {
		return nil, &data.DataError{Path: name, Err: err}
	}
	return out, nil
}

// itemIndex maps the dataset's item ids to their dense indices.
func itemIndex(info *data.RatingInfo) map[string]int32 {
	index := make(map[string]int32, len(info.Items))
	for i, id := range info.Items {
		index[id] = int32(i)
	}
	return index
}

// checkUserRating checks one rating of a user's: a known item (else the
// closest ids are suggested), a finite number (numErr: it did not parse;
// raw is the rating as given) on the dataset's scale. It returns the
// item's dense index.
func checkUserRating(index map[string]int32, info *data.RatingInfo, id, raw string, v float64, numErr error) (int32, error) {
	if id == "" {
		return 0, errors.New("item: empty")
	}
	item, ok := index[id]
	if !ok {
		return 0, fmt.Errorf("item %q is not an item of the dataset%s", id, suggestItems(id, info.Items))
	}
	if numErr != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rating %q of item %q is not a finite number", raw, id)
	}
	if v < float64(info.Scale[0]) || v > float64(info.Scale[1]) {
		return 0, fmt.Errorf("rating %s of item %q is outside the scale [%g, %g]", raw, id, info.Scale[0], info.Scale[1])
	}
	return item, nil
}

// checkLeftToPredict refuses ratings of every item: there would be no
// item left to recommend.
func checkLeftToPredict(ratings map[int32]float32, info *data.RatingInfo) error {
	if len(ratings) == len(info.Items) {
		return errors.New("every item of the dataset is rated: nothing is left to predict")
	}
	return nil
}
