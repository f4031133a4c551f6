package loaders_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// newRatingLoader builds a registered ratings loader with its defaults and
// the given split params.
func newRatingLoader(t *testing.T, name string, split loaders.RatingSplit) loaders.Loader {
	t.Helper()
	e, ok := loaders.Loaders.Lookup(name)
	if !ok {
		t.Fatalf("loader %q is not registered", name)
	}
	cfg := e.New()
	switch l := cfg.(type) {
	case *loaders.Jester5k:
		if l.RatingSplit != loaders.DefaultRatingSplit() {
			t.Errorf("%s default split %+v", name, l.RatingSplit)
		}
		l.RatingSplit = split
	case *loaders.MovieLense:
		l.RatingSplit = split
	case *loaders.ML100k:
		l.RatingSplit = split
	default:
		t.Fatalf("%s: unexpected config %T", name, cfg)
	}
	return cfg.(loaders.Loader)
}

func distinct(split *data.Split, col int) map[int32]bool {
	m := map[int32]bool{}
	for i := col; i < len(split.X.Int); i += 2 {
		m[split.X.Int[i]] = true
	}
	return m
}

func TestRatingLoadersReal(t *testing.T) {
	dir := testdata.Dir(t, "jester5k")
	for _, tc := range []struct {
		name                  string
		ratings, users, items int
		lo, hi                float32 // observed range
		scale                 [2]float32
	}{
		{"jester5k", 362106, 5000, 100, -9.95, 9.9, [2]float32{-10, 10}},
		{"movielense", 99392, 943, 1664, 1, 5, [2]float32{1, 5}},
		{"ml100k", 100000, 943, 1682, 1, 5, [2]float32{1, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newRatingLoader(t, tc.name, loaders.DefaultRatingSplit())
			x, y := l.Schemas()
			if x.DType != data.Int32 || !slices.Equal(x.Shape, []int{2}) || y.DType != data.Float32 || len(y.Shape) != 0 {
				t.Errorf("schemas %v %v", x, y)
			}
			ds, err := l.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			info := ds.Ratings
			if info == nil {
				t.Fatal("no RatingInfo")
			}
			n := ds.Train.Len() + ds.Test.Len()
			if n != tc.ratings || len(info.Users) != tc.users || len(info.Items) != tc.items {
				t.Errorf("%d ratings, %d users, %d items; want %d, %d, %d", n, len(info.Users), len(info.Items), tc.ratings, tc.users, tc.items)
			}
			if info.Scale != tc.scale {
				t.Errorf("scale %v, want %v", info.Scale, tc.scale)
			}
			if want := int(float64(tc.ratings) * 0.3); ds.Test.Len() != want {
				t.Errorf("test split %d ratings, want %d", ds.Test.Len(), want)
			}
			lo, hi := float32(1e9), float32(-1e9)
			for _, s := range []*data.Split{&ds.Train, &ds.Test} {
				if len(s.Y.Float) != s.Len() {
					t.Fatalf("%d labels for %d pairs", len(s.Y.Float), s.Len())
				}
				for _, v := range s.Y.Float {
					lo, hi = min(lo, v), max(hi, v)
				}
				for i, id := range s.X.Int {
					if lim := []int{tc.users, tc.items}[i%2]; id < 0 || int(id) >= lim {
						t.Fatalf("index %d out of range %d", id, lim)
					}
				}
			}
			if lo != tc.lo || hi != tc.hi {
				t.Errorf("ratings range [%v, %v], want [%v, %v]", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

func TestRatingSplitSeedsAndSample(t *testing.T) {
	dir := testdata.Dir(t, "movielense")
	load := func(name string, split loaders.RatingSplit) *data.Dataset {
		t.Helper()
		ds, err := newRatingLoader(t, name, split).Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	a := load("movielense", loaders.DefaultRatingSplit())
	b := load("movielense", loaders.DefaultRatingSplit())
	other := loaders.DefaultRatingSplit()
	other.SplitSeed = 2
	c := load("movielense", other)
	if !slices.Equal(a.Test.X.Int, b.Test.X.Int) || !slices.Equal(a.Test.Y.Float, b.Test.Y.Float) {
		t.Error("the same split_seed gave different test splits")
	}
	if slices.Equal(a.Test.X.Int, c.Test.X.Int) {
		t.Error("split_seed 1 and 2 gave the same test split")
	}
	if a.Test.Len() != c.Test.Len() {
		t.Errorf("test sizes %d and %d differ", a.Test.Len(), c.Test.Len())
	}
	// The course's Jester protocol: a 1,000-user sample, then 30% held out.
	sample := loaders.DefaultRatingSplit()
	sample.SampleUsers = 1000
	j := load("jester5k", sample)
	if len(j.Ratings.Users) != 1000 {
		t.Errorf("sample_users 1000 kept %d users", len(j.Ratings.Users))
	}
	users := distinct(&j.Train, 0)
	for u := range distinct(&j.Test, 0) {
		users[u] = true
	}
	if len(users) != 1000 {
		t.Errorf("the splits hold %d distinct users, want 1000", len(users))
	}
	n := j.Train.Len() + j.Test.Len()
	if j.Test.Len() != int(float64(n)*0.3) || n < 60000 || n > 85000 {
		t.Errorf("sample has %d ratings, %d held out", n, j.Test.Len())
	}
	j2 := load("jester5k", sample)
	if !slices.Equal(j.Ratings.Users, j2.Ratings.Users) {
		t.Error("the same seed sampled different users")
	}
	sample.SplitSeed = 7
	j3 := load("jester5k", sample)
	if slices.Equal(j.Ratings.Users, j3.Ratings.Users) {
		t.Error("seeds 1 and 7 sampled the same users")
	}
}

func TestRatingLoadersCorrupt(t *testing.T) {
	csvHead := "user,item,rating\n"
	for _, tc := range []struct {
		loader, folder, file, body string
		line                       int // 0: no line in the error
		want                       string
	}{
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,j1,1.5\nu1,j2\n", 3, "2 comma-separated fields, want 3"},
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,j1,1.5\nu2,j1,abc\n", 3, "not a finite number"},
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,j1,1.5\nu2,j1,NaN\n", 3, "not a finite number"},
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,j1,1.5\nu2,j1,10.5\n", 3, "outside the scale"},
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,j1,1.5\nu2,j1,2\nu1,j1,3\n", 4, "duplicate rating"},
		{"jester5k", "jester5k", "ratings.csv", "user,joke,rating\nu1,j1,1\n", 1, `header is ["user" "joke" "rating"], want user,item,rating`},
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,,1\n", 2, "empty item"},
		{"jester5k", "jester5k", "ratings.csv", csvHead, 0, "no ratings"},
		{"jester5k", "jester5k", "ratings.csv", csvHead + "u1,j1,1\nu2,j1," + strings.Repeat("9", 70000) + "\n", 3, "line too long"},
		{"movielense", "movielense", "ratings.csv", csvHead + "1,\"Miserables, Les (1995)\",5\n1,\"Heat (1995),4\n", 3, "quote"},
		{"movielense", "movielense", "ratings.csv", csvHead + "1,\"Miserables, Les (1995)\",5\n2,Heat (1995),0\n", 3, "outside the scale"},
		{"movielense", "movielense", "ratings.csv", csvHead + "1,\"Miserables, Les (1995)\",5\n1,\"Miserables, Les (1995)\",4\n", 3, "duplicate"},
		{"ml100k", "ml-100k", "u.data", "1\t2\t3\t881250949\n1\t3\t4\n", 2, "3 tab-separated fields, want 4"},
		{"ml100k", "ml-100k", "u.data", "1\t2\t3\t881250949\n1\t3\t4.5\t881250949\n", 2, "not an integer"},
		{"ml100k", "ml-100k", "u.data", "1\t2\t3\t881250949\n1\t3\t6\t881250949\n", 2, "outside the scale"},
		{"ml100k", "ml-100k", "u.data", "1\t2\t3\t881250949\nx\t3\t4\t881250949\n", 2, `user id "x" is not a positive integer (column "user_id")`},
		{"ml100k", "ml-100k", "u.data", "1\t2\t3\t881250949\n2\t2\t3\t1\n1\t2\t5\t2\n", 3, "duplicate"},
		{"ml100k", "ml-100k", "u.data", "1\t2\t3\t881250949\n1\t3\t4\tnow\n", 2, "timestamp"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, tc.folder, tc.file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := newRatingLoader(t, tc.loader, loaders.DefaultRatingSplit()).Load(dir)
		var de *data.DataError
		if !errors.As(err, &de) {
			t.Errorf("%s %q: got %v, want a DataError", tc.loader, tc.body, err)
			continue
		}
		wantPath := path
		if tc.line > 0 {
			wantPath = path + ":" + strconv.Itoa(tc.line)
		}
		if de.Path != wantPath || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %.60q:\n got  %v\n want %s: ...%s...", tc.loader, tc.body, err, wantPath, tc.want)
		}
	}
	// A missing folder names where pipe looked.
	_, err := newRatingLoader(t, "movielense", loaders.DefaultRatingSplit()).Load(t.TempDir())
	var de *data.DataError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "movielense") {
		t.Errorf("missing folder: %v", err)
	}
}
