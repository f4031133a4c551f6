package loaders_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/loaders"
)

// fingerprint hashes everything a rating dataset holds: the external ids
// in dense order, the scale, and both splits element by element.
func fingerprint(ds *data.Dataset) string {
	h := sha256.New()
	var b [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	for _, ids := range [][]string{ds.Ratings.Users, ds.Ratings.Items} {
		word(uint64(len(ids)))
		for _, id := range ids {
			word(uint64(len(id)))
			h.Write([]byte(id))
		}
	}
	word(uint64(math.Float32bits(ds.Ratings.Scale[0])))
	word(uint64(math.Float32bits(ds.Ratings.Scale[1])))
	for _, s := range []*data.Split{&ds.Train, &ds.Test} {
		word(uint64(len(s.X.Int)))
		for _, v := range s.X.Int {
			word(uint64(uint32(v)))
		}
		word(uint64(len(s.Y.Float)))
		for _, v := range s.Y.Float {
			word(uint64(math.Float32bits(v)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRatingLoadersUnchanged checks that jester5k, movielense and ml100k,
// now configurations of the generic ratings reader, load exactly the
// datasets they loaded before it: the fingerprints (and sizes) below were
// produced by their own readers at commit 834ad7f, for the course's split
// and user samples under two seeds.
func TestRatingLoadersUnchanged(t *testing.T) {
	dir := testdata.Dir(t, "jester5k")
	for _, tc := range []struct {
		loader       string
		sample, seed int
		train, test  int
		fingerprint  string
	}{
		{"jester5k", 0, 1, 253475, 108631, "43dbe314213e98e6e0bde505ed7388ca9364342e8838318b4477339e996f2573"},
		{"jester5k", 0, 2, 253475, 108631, "90937efab2ba40db893761f3d8bae08159fb92bf2e11b20f006b61ba8751fa34"},
		{"jester5k", 900, 1, 45883, 19663, "e5eb8397c5e5256309c4e12a8bc4ddc3712810c0923d4ed9a98e20f859fc19ff"},
		{"jester5k", 900, 2, 46041, 19731, "aaf62594252ac1bad9922d1da1f116be4938d8a042ec96e8029de7d2849443c4"},
		{"jester5k", 300, 1, 15351, 6578, "92c0b9a41113d3fdc0a0cd68a36354b116aeb829d7428aa65edb5b0726933b97"},
		{"jester5k", 300, 2, 15264, 6541, "6a1a5f93dd514dfba269aba3008910c2a3a36dee16e6d778f18fdbae7b76660f"},
		{"movielense", 0, 1, 69575, 29817, "3bef9bc0c95e54eac0060bae3727bd8b22356f703655d524d7bc64bc3332967c"},
		{"movielense", 0, 2, 69575, 29817, "226e0f1ff955e44c2644376cf82afe8feee032d5ae38be63cfaa5eda8a8a83ac"},
		{"movielense", 900, 1, 66020, 28293, "57a5fb030a4bf0608512e5b42fceb7846b70befe9c1d6b1a68f520c4ba3cf091"},
		{"movielense", 900, 2, 67094, 28754, "958443b8454767e9e046a3c742ae437c0f638dedf214cc190ed92bca987cc425"},
		{"movielense", 300, 1, 21159, 9067, "4b241412b36d1c15983633f861080032d52504b6fec6e4d0cb448b50fb9f9322"},
		{"movielense", 300, 2, 23707, 10159, "2bd70511c022ab9ce56a2ea542253b5e88ff536f502c6590d3f5249ae3de9d4c"},
		{"ml100k", 0, 1, 70000, 30000, "bc447afb60f4883c6977713b90ff147303c471bd3cd5cdce0d6f8d8ff988c25b"},
		{"ml100k", 0, 2, 70000, 30000, "c32a08b0769c90b383aef6cb3d4ddd7f2ea0deb6451080b75b0dc698d6b53e12"},
		{"ml100k", 900, 1, 66800, 28628, "1e8d8ca83571d65526662d8fe95ca7075caba45214c40b1682ee19b85bf00c22"},
		{"ml100k", 900, 2, 67337, 28858, "331220004d7e28c940bad83c58ce351fa0f3dfef55f553cecbbef854c1d3bd7c"},
		{"ml100k", 300, 1, 22046, 9447, "7786d9bc6eadacbba25b781aec7ca9ff32558709a654fd2d15320232165c636d"},
		{"ml100k", 300, 2, 23636, 10129, "eb6b7033f1c7484b3bd3099a33cf11a350b9ea52c2307d7e7b4e9c163f8aee46"},
	} {
		s := loaders.DefaultRatingSplit()
		s.SampleUsers, s.SplitSeed = tc.sample, tc.seed
		ds, err := newRatingLoader(t, tc.loader, s).Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Train.Len() != tc.train || ds.Test.Len() != tc.test || fingerprint(ds) != tc.fingerprint {
			t.Errorf("%s sample_users %d split_seed %d: %d/%d ratings, fingerprint %s; want %d/%d, %s",
				tc.loader, tc.sample, tc.seed, ds.Train.Len(), ds.Test.Len(), fingerprint(ds), tc.train, tc.test, tc.fingerprint)
		}
	}
}

// The generic ratings loader, pointed at the named loaders' files with
// their columns, loads the same datasets as they do.
func TestRatingsFileAsNamedLoaders(t *testing.T) {
	dir := testdata.Dir(t, "ml-100k")
	for _, tc := range []struct {
		named, generic []string
	}{
		{[]string{"loader: ml100k"}, []string{"path: ml-100k/u.data", "header: false", "quotes: false", "delimiter: tab", "user: 0", "item: 1", "rating: 2", "timestamp: 3", "scale: [1, 5]"}},
		{[]string{"loader: movielense"}, []string{"path: movielense/ratings.csv", "scale: [1, 5]"}},
		{[]string{"loader: jester5k", "sample_users: 1000"}, []string{"path: jester5k/ratings.csv", "scale: [-10, 10]", "sample_users: 1000"}},
	} {
		named := loadRatings(t, dir, tc.named...)
		generic := loadRatings(t, dir, append([]string{"loader: ratings"}, tc.generic...)...)
		if fingerprint(named) != fingerprint(generic) {
			t.Errorf("ratings configured as %s loads another dataset", tc.named[0])
		}
	}
}
