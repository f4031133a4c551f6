package loaders_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
)

// TestReadUserRatings reads Jester-style ids with a BOM, spaces and no
// header, and rejects each kind of mistake with a DataError naming
// file:line.
func TestReadUserRatings(t *testing.T) {
	info := &data.RatingInfo{Items: []string{"j1", "j2", "j3", "j10"}, Scale: [2]float32{-10, 10}}
	read := func(text string) (map[int32]float32, error) {
		path := filepath.Join(t.TempDir(), "me.csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return loaders.ReadUserRatings(path, info)
	}
	got, err := read("\ufeffj1, 7.5\r\n j10 ,-2\n")
	if want := map[int32]float32{0: 7.5, 3: -2}; err != nil || !maps.Equal(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct{ text, want string }{
		{"Item,Rating\nj2,3\nj4,1\n", `me.csv:3: item "j4" is not an item of the dataset (did you mean "j1"?)`},
		{"x2,1\n", `me.csv:1: item "x2" is not an item of the dataset (did you mean "j2"?)`},
		{"j1,10.5\n", "me.csv:1: rating 10.5 of item \"j1\" is outside the scale [-10, 10]"},
		{"j1,NaN\n", `me.csv:1: rating "NaN" of item "j1" is not a finite number`},
		{"j1,1\nj3,2\nj1,3\n", `me.csv:3: item "j1" is rated twice (first on line 1)`},
		{"j1,1,2\n", "me.csv:1: 3 fields, want 2 (item,rating)"},
		{"j1,1\n\"j2,2\n", `me.csv:2: extraneous or missing " in quoted-field`},
		{"", "me.csv: no ratings"},
		{"j1,1\nj2,1\nj3,1\nj10,1\n", "me.csv: every item of the dataset is rated"},
	} {
		_, err := read(c.text)
		var de *data.DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a DataError with %q", c.text, err, c.want)
		}
	}
}
