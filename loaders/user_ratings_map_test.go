package loaders_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// TestUserRatingsMap checks a user's ratings given as an object with the
// rules of the CSV file, the request field named in every error.
func TestUserRatingsMap(t *testing.T) {
	info := &data.RatingInfo{Items: []string{"j1", "j2", "j3", "j10"}, Scale: [2]float32{-10, 10}}
	got, err := loaders.UserRatings("instances[0].ratings", map[string]float64{"j1": 7.5, "j10": -2}, info)
	if want := map[int32]float32{0: 7.5, 3: -2}; err != nil || !maps.Equal(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct {
		in   map[string]float64
		want string
	}{
		{map[string]float64{"j2": 3, "x2": 1, "j4": 1}, `instances[0].ratings: item "j4" is not an item of the dataset (did you mean "j1"?)`}, // the first in sorted order
		{map[string]float64{"j1": 10.5}, `instances[0].ratings: rating 10.5 of item "j1" is outside the scale [-10, 10]`},
		{map[string]float64{"": 1}, "instances[0].ratings: item: empty"},
		{map[string]float64{}, "instances[0].ratings: no ratings"},
		{map[string]float64{"j1": 1, "j2": 1, "j3": 1, "j10": 1}, "instances[0].ratings: every item of the dataset is rated"},
	} {
		_, err := loaders.UserRatings("instances[0].ratings", c.in, info)
		var de *data.DataError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: got %v, want a DataError starting %q", c.in, err, c.want)
		}
	}
}
