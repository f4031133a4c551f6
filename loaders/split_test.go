package loaders_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// synthRating is one row of the synthetic ratings file.
type synthRating struct {
	user, item string
	value, ts  int
}

func (r synthRating) triple() string { return fmt.Sprintf("%s|%s|%d", r.user, r.item, r.value) }

// synthRatings writes a ratings file with timestamps to dir/s/r.csv: 30
// users with 1 to 13 ratings each, rows of different users interleaved,
// and timestamps drawn from few values so that a user's times tie.
func synthRatings(t *testing.T, dir string) []synthRating {
	rng := rand.New(rand.NewPCG(7, 7))
	var rs []synthRating
	for u := range 30 {
		for _, it := range rng.Perm(40)[:1+u*7%13] {
			rs = append(rs, synthRating{fmt.Sprintf("u%d", u), fmt.Sprintf("i%d", it), 1 + rng.IntN(5), rng.IntN(4)})
		}
	}
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	var b strings.Builder
	b.WriteString("user,item,rating,ts\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "%s,%s,%d,%d\n", r.user, r.item, r.value, r.ts)
	}
	writeData(t, dir, "s/r.csv", []byte(b.String()))
	return rs
}

// loadSynth loads the synthetic file with a split.
func loadSynth(t *testing.T, dir string, params ...string) *data.Dataset {
	t.Helper()
	return loadRatings(t, dir, append([]string{"loader: ratings", "path: s/r.csv", "timestamp: ts"}, params...)...)
}

// checkPartition checks that the splits hold every rating exactly once.
func checkPartition(t *testing.T, ds *data.Dataset, rs []synthRating) {
	t.Helper()
	want := make([]string, len(rs))
	for i, r := range rs {
		want[i] = r.triple()
	}
	slices.Sort(want)
	if got := allTriples(ds); !slices.Equal(got, want) {
		t.Errorf("the splits hold %d ratings, not the file's %d", len(got), len(want))
	}
	train := map[string]bool{}
	for _, tr := range triples(ds, &ds.Train) {
		train[tr] = true
	}
	for _, tr := range triples(ds, &ds.Test) {
		if train[tr] {
			t.Errorf("rating %s is in both splits", tr)
		}
	}
}

func testSet(ds *data.Dataset) []string {
	s := triples(ds, &ds.Test)
	slices.Sort(s)
	return s
}

// perUser counts each user's ratings in a split.
func perUser(ds *data.Dataset, s *data.Split) map[string]int {
	m := map[string]int{}
	for i := 0; i < len(s.X.Int); i += 2 {
		m[ds.Ratings.Users[s.X.Int[i]]]++
	}
	return m
}

func TestSplitRandom(t *testing.T) {
	dir := t.TempDir()
	rs := synthRatings(t, dir)
	a := loadSynth(t, dir, "split: {kind: random, fraction: 0.25, seed: 4}")
	checkPartition(t, a, rs)
	if want := int(float64(len(rs)) * 0.25); a.Test.Len() != want {
		t.Errorf("%d test ratings, want %d", a.Test.Len(), want)
	}
	b := loadSynth(t, dir, "split: {kind: random, fraction: 0.25, seed: 4}")
	c := loadSynth(t, dir, "split: {kind: random, fraction: 0.25, seed: 5}")
	if !slices.Equal(testSet(a), testSet(b)) {
		t.Error("the same seed held out different ratings")
	}
	if slices.Equal(testSet(a), testSet(c)) {
		t.Error("seeds 4 and 5 held out the same ratings")
	}
	// Written out with the default's params, random is the default split,
	// user sample included: both draw from split_seed's stream.
	for _, sample := range []string{"sample_users: 0", "sample_users: 12"} {
		def := loadSynth(t, dir, sample, "split_seed: 3")
		explicit := loadSynth(t, dir, sample, "split_seed: 3", "split: {kind: random, fraction: 0.3, seed: 3}")
		if fingerprint(def) != fingerprint(explicit) {
			t.Errorf("%s: split random with the default's params differs from the default split", sample)
		}
	}
}

func TestSplitPerUser(t *testing.T) {
	dir := t.TempDir()
	rs := synthRatings(t, dir)
	counts := map[string]int{}
	for _, r := range rs {
		counts[r.user]++
	}
	ds := loadSynth(t, dir, "split: {kind: per_user, fraction: 0.3, seed: 2, min_ratings: 4}")
	checkPartition(t, ds, rs)
	test := perUser(ds, &ds.Test)
	train := perUser(ds, &ds.Train)
	for u, c := range counts {
		want := min(int(math.Round(0.3*float64(c))), c-1)
		if c < 4 {
			want = 0 // too few ratings: all in train
		}
		if test[u] != want || train[u] != c-want {
			t.Errorf("user %s with %d ratings: %d test, %d train; want %d test", u, c, test[u], train[u], want)
		}
	}
	again := loadSynth(t, dir, "split: {kind: per_user, fraction: 0.3, seed: 2, min_ratings: 4}")
	other := loadSynth(t, dir, "split: {kind: per_user, fraction: 0.3, seed: 9, min_ratings: 4}")
	if !slices.Equal(testSet(ds), testSet(again)) {
		t.Error("the same seed held out different ratings")
	}
	if slices.Equal(testSet(ds), testSet(other)) {
		t.Error("seeds 2 and 9 held out the same ratings")
	}
}

func TestSplitLeaveLastOut(t *testing.T) {
	dir := t.TempDir()
	rs := synthRatings(t, dir)
	for _, n := range []int{1, 3} {
		ds := loadSynth(t, dir, fmt.Sprintf("split: {kind: leave_last_out, n: %d, min_ratings: 3}", n))
		checkPartition(t, ds, rs)
		// Expected from the rows directly: each user's rows in file order,
		// sorted by time with ties in file order, the last n held out.
		byUser := map[string][]synthRating{}
		for _, r := range rs {
			byUser[r.user] = append(byUser[r.user], r)
		}
		var want []string
		ties := 0
		for _, mine := range byUser {
			if len(mine) < 3 {
				continue
			}
			slices.SortStableFunc(mine, func(a, b synthRating) int { return a.ts - b.ts })
			last := mine[len(mine)-min(n, len(mine)-1):]
			for _, r := range last {
				want = append(want, r.triple())
			}
			if first := mine[len(mine)-len(last)]; len(last) < len(mine) && mine[len(mine)-len(last)-1].ts == first.ts {
				ties++ // the cut falls inside a run of equal times
			}
		}
		slices.Sort(want)
		if got := testSet(ds); !slices.Equal(got, want) {
			t.Errorf("n=%d: held out %q, want %q", n, got, want)
		}
		if ties == 0 {
			t.Errorf("n=%d: no user's cut falls among equal timestamps; the data does not test the tie rule", n)
		}
	}
	// Without a timestamp column there is no order to leave out by.
	_, err := buildLoader(dataSection("loader: ratings", "path: s/r.csv", "split: {kind: leave_last_out}"))
	if err == nil || !strings.Contains(err.Error(), "needs a timestamp column") {
		t.Errorf("leave_last_out without timestamps: %v", err)
	}
}

func TestSplitKFold(t *testing.T) {
	dir := t.TempDir()
	rs := synthRatings(t, dir)
	const k = 5
	seen := map[string]int{}
	var sizes []int
	for fold := range k {
		ds := loadSynth(t, dir, fmt.Sprintf("split: {kind: kfold, k: %d, fold: %d, seed: 6}", k, fold))
		checkPartition(t, ds, rs)
		for _, tr := range triples(ds, &ds.Test) {
			seen[tr]++
		}
		sizes = append(sizes, ds.Test.Len())
		again := loadSynth(t, dir, fmt.Sprintf("split: {kind: kfold, k: %d, fold: %d, seed: 6}", k, fold))
		if !slices.Equal(testSet(ds), testSet(again)) {
			t.Errorf("fold %d: the same seed held out different ratings", fold)
		}
	}
	// Every rating is in exactly one fold's test split.
	if len(seen) != len(rs) {
		t.Errorf("the folds' test splits hold %d of %d ratings", len(seen), len(rs))
	}
	for tr, n := range seen {
		if n != 1 {
			t.Errorf("rating %s is in %d folds' test splits", tr, n)
		}
	}
	if slices.Max(sizes)-slices.Min(sizes) > 1 {
		t.Errorf("fold sizes %v differ by more than one", sizes)
	}
	a := loadSynth(t, dir, "split: {kind: kfold, k: 5, fold: 0, seed: 6}")
	b := loadSynth(t, dir, "split: {kind: kfold, k: 5, fold: 0, seed: 7}")
	if slices.Equal(testSet(a), testSet(b)) {
		t.Error("seeds 6 and 7 made the same fold 0")
	}
	// More folds than ratings is a data error naming the file.
	writeData(t, dir, "tiny/r.csv", []byte("user,item,rating\nu1,i1,1\nu1,i2,2\n"))
	l, err := buildLoader(dataSection("loader: ratings", "path: tiny/r.csv", "split: {kind: kfold, k: 3}"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(dir)
	var de *data.DataError
	if !errors.As(err, &de) || de.Path != filepath.Join(dir, "tiny/r.csv") || !strings.Contains(err.Error(), "2 ratings cannot make 3 folds") {
		t.Errorf("k > ratings: %v", err)
	}
}

// ml100k's u1..u5 files are not in the shared data, so this test writes
// small ones in u.data's format.
func TestSplitGiven(t *testing.T) {
	dir := t.TempDir()
	base := "1\t10\t3\t881250949\n2\t10\t4\t881250950\n1\t20\t5\t881250951\n"
	test := "2\t20\t1\t881250952\n3\t10\t2\t881250953\n"
	writeData(t, dir, "ml-100k/u.data", []byte(base+test))
	writeData(t, dir, "ml-100k/u1.base", []byte(base))
	writeData(t, dir, "ml-100k/u1.test", []byte(test))
	wantTrain := []string{"1|10|3", "2|10|4", "1|20|5"}
	wantTest := []string{"2|20|1", "3|10|2"}
	for _, params := range [][]string{
		{"loader: ml100k", "split: {kind: given, train: u1.base, test: u1.test}"},
		{"loader: ratings", "path: ml-100k/u1.base", "header: false", "quotes: false", `delimiter: "\t"`, "user: 0", "item: 1", "rating: 2", "timestamp: 3", "split: {kind: given, test: u1.test}"},
	} {
		ds := loadRatings(t, dir, params...)
		if got := triples(ds, &ds.Train); !slices.Equal(got, wantTrain) {
			t.Errorf("%s: train %q, want %q", params[0], got, wantTrain)
		}
		if got := triples(ds, &ds.Test); !slices.Equal(got, wantTest) {
			t.Errorf("%s: test %q, want %q", params[0], got, wantTest)
		}
		// Dense ids in order of appearance, the train file first.
		if !slices.Equal(ds.Ratings.Users, []string{"1", "2", "3"}) || !slices.Equal(ds.Ratings.Items, []string{"10", "20"}) {
			t.Errorf("%s: users %q, items %q", params[0], ds.Ratings.Users, ds.Ratings.Items)
		}
	}
	// A pair rated in both files, and a missing file, are data errors
	// naming the file and line.
	writeData(t, dir, "ml-100k/u2.base", []byte(base))
	writeData(t, dir, "ml-100k/u2.test", []byte(test+"1\t20\t2\t881250954\n"))
	for _, tc := range []struct{ split, path, want string }{
		{"{kind: given, train: u2.base, test: u2.test}", "ml-100k/u2.test:3", "duplicate rating of item \"20\" by user \"1\" (first on " + filepath.Join(dir, "ml-100k/u2.base") + " line 3)"},
		{"{kind: given, train: u1.base, test: u9.test}", "ml-100k/u9.test", "file not found"},
	} {
		l, err := buildLoader(dataSection("loader: ml100k", "split: "+tc.split))
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Load(dir)
		var de *data.DataError
		if !errors.As(err, &de) || de.Path != filepath.Join(dir, tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got  %v\n want %s: ...%s...", tc.split, err, filepath.Join(dir, tc.path), tc.want)
		}
	}
}

// The named loaders take split: too; a split needing timestamps is refused
// where the file has none.
func TestSplitNamedLoaders(t *testing.T) {
	for _, name := range []string{"jester5k", "movielense"} {
		_, err := buildLoader(dataSection("loader: "+name, "split: {kind: leave_last_out, n: 1}"))
		if err == nil || !strings.Contains(err.Error(), "x.yaml:3:11: data.loader: "+name+": split leave_last_out needs a timestamp column") {
			t.Errorf("%s with leave_last_out: %v", name, err)
		}
	}
	dir := testdata.Dir(t, "ml-100k")
	// GroupLens' users have at least 20 ratings: each leaves exactly one out.
	ds := loadRatings(t, dir, "loader: ml100k", "split: {kind: leave_last_out}")
	if test := perUser(ds, &ds.Test); ds.Test.Len() != 943 || len(test) != 943 {
		t.Errorf("leave_last_out held out %d ratings of %d users, want one of each of 943", ds.Test.Len(), len(test))
	}
	seen := map[string]bool{}
	for fold := range 5 {
		ds := loadRatings(t, dir, "loader: ml100k", fmt.Sprintf("split: {kind: kfold, k: 5, fold: %d}", fold))
		if ds.Test.Len() != 20000 || ds.Train.Len() != 80000 {
			t.Errorf("fold %d: %d train, %d test ratings; want 80,000 and 20,000", fold, ds.Train.Len(), ds.Test.Len())
		}
		for _, tr := range triples(ds, &ds.Test) {
			if seen[tr] {
				t.Errorf("fold %d holds out %s again", fold, tr)
			}
			seen[tr] = true
		}
	}
	if len(seen) != 100000 {
		t.Errorf("the 5 folds held out %d distinct ratings, want 100,000", len(seen))
	}
}

// A program that fills the params itself, without a spec, gets the same
// checks when it loads.
func TestSplitCheckedWithoutSpec(t *testing.T) {
	k, fold := 5, 7
	split := loaders.DefaultRatingSplit()
	split.Split = &loaders.SplitSpec{Kind: "kfold", K: &k, Fold: &fold}
	_, err := (&loaders.ML100k{RatingSplit: split}).Load(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "split kfold: fold 7 is out of range: with k = 5, fold is 0..4") {
		t.Errorf("kfold with fold 7 of 5: %v", err)
	}
}

// ml-100k's u1..u5 as its mku.sh makes them: u<i>.test is lines
// (i-1)*20,000+1 .. i*20,000 of u.data and u<i>.base the rest. The test
// reads u.data itself to know which ratings those lines are.
func TestSplitBlocksAreML100kUFolds(t *testing.T) {
	dir := testdata.Dir(t, "ml-100k")
	raw, err := os.ReadFile(filepath.Join(dir, "ml-100k", "u.data"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		f := strings.Split(l, "\t")
		lines = append(lines, f[0]+"|"+f[1]+"|"+f[2])
	}
	if len(lines) != 100000 {
		t.Fatalf("u.data has %d lines, want 100,000", len(lines))
	}
	seen := map[string]bool{}
	for fold := range 5 {
		ds := loadRatings(t, dir, "loader: ml100k", fmt.Sprintf("split: {kind: blocks, k: 5, fold: %d}", fold))
		if ds.Train.Len() != 80000 || ds.Test.Len() != 20000 {
			t.Errorf("u%d: %d base, %d test ratings; want 80,000 and 20,000", fold+1, ds.Train.Len(), ds.Test.Len())
		}
		want := slices.Clone(lines[fold*20000 : (fold+1)*20000])
		slices.Sort(want)
		if got := testSet(ds); !slices.Equal(got, want) {
			t.Errorf("u%d.test is not lines %d..%d of u.data", fold+1, fold*20000+1, (fold+1)*20000)
		}
		for _, tr := range triples(ds, &ds.Test) {
			if seen[tr] {
				t.Errorf("u%d.test holds %s, already in an earlier fold's test", fold+1, tr)
			}
			seen[tr] = true
		}
	}
	if len(seen) != 100000 {
		t.Errorf("u1..u5.test hold %d distinct ratings, want all 100,000", len(seen))
	}
}

// On a file whose length k does not divide, the blocks still partition
// it, their sizes differing by at most one, and a seed is refused.
func TestSplitBlocksPartition(t *testing.T) {
	dir := t.TempDir()
	rs := synthRatings(t, dir)
	sizes := map[int]bool{}
	total := 0
	for fold := range 4 {
		ds := loadSynth(t, dir, fmt.Sprintf("split: {kind: blocks, k: 4, fold: %d}", fold))
		checkPartition(t, ds, rs)
		sizes[ds.Test.Len()] = true
		total += ds.Test.Len()
		var want []string
		for _, r := range rs[fold*len(rs)/4 : (fold+1)*len(rs)/4] {
			want = append(want, r.triple())
		}
		slices.Sort(want)
		if got := testSet(ds); !slices.Equal(got, want) {
			t.Errorf("fold %d holds out %d ratings that are not the file's block %d", fold, len(got), fold)
		}
	}
	if total != len(rs) || len(sizes) > 2 {
		t.Errorf("4 blocks of %d ratings held out %d in all, sizes %v", len(rs), total, sizes)
	}
	_, err := buildLoader(dataSection("loader: ratings", "path: s/r.csv", "split: {kind: blocks, k: 4, seed: 2}"))
	if err == nil || !strings.Contains(err.Error(), "split blocks takes k, fold; seed does not apply") {
		t.Errorf("blocks with a seed: %v", err)
	}
}
