package loaders

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/pipe-ml/pipe/data"
)

func init() {
	Loaders.Register("synthetic_ratings", "Seeded synthetic star ratings (1..5) of a MovieLens-like shape, generated in memory, for measuring how a rating model's cost grows with the data (pipe bench --curves): ratings by users of items, no user rating an item twice; how many each user rates and how often each item is rated both fall off as a power law of their rank (every user rates at least 20 items where the count allows, as in MovieLens); a rating is 3.5 plus a user and an item bias plus noise, rounded and clipped. MovieLens itself has 943 users and 1,682 items at 100k ratings, 6,040 and 3,706 at 1M, 69,878 and 10,677 at 10M. test_fraction of the ratings is held out at random, as by the other rating loaders.",
		func() Loader {
			return &SyntheticRatings{UserExponent: 0.05, ItemExponent: 0.82, Seed: 1, TestFraction: 0.3, SplitSeed: 1}
		})
}

// SyntheticRatings generates a rating dataset in memory. The exponents'
// defaults are fitted to MovieLens 100K's u.data: user_exponent 0.05
// gives ratings per user from 20 to 732, median 77 (u.data: 20, 737 and
// 64), and item_exponent 0.82 gives Σ_i n_i² = 16.8M, as u.data's (n_i
// the raters of item i: the work of every user-user similarity, and so of
// a neighbourhood model), with a more popular top item (903 ratings to
// u.data's 583). The ratings are built
// straight into the dataset's index arrays, never as strings, so that a
// 10M-rating dataset costs its 120 MB and little more.
type SyntheticRatings struct {
	Ratings      int     `pipe:"ratings,required,min=1" doc:"number of ratings"`
	Users        int     `pipe:"users,required,min=1" doc:"number of users"`
	Items        int     `pipe:"items,required,min=1" doc:"number of items"`
	UserExponent float64 `pipe:"user_exponent,min=0" doc:"beyond their first 20 ratings, the user of activity rank r of n rates in proportion to r^-user_exponent - n^-user_exponent, so the least active user rates 20 items (0: all alike)"`
	ItemExponent float64 `pipe:"item_exponent,min=0" doc:"the item of popularity rank r is drawn in proportion to r^-item_exponent (0: uniformly)"`
	Seed         uint64  `pipe:"seed" doc:"seed of the ratings"`
	TestFraction float64 `pipe:"test_fraction,min=0,max=0.99" doc:"fraction of the ratings held out at random as the test split"`
	SplitSeed    int     `pipe:"split_seed" doc:"seed of the hold-out"`
}

func (*SyntheticRatings) Schemas() (x, y data.Schema) { return data.RatingSchemas() }

// InputColumns are the user and item columns of the pairs.
func (*SyntheticRatings) InputColumns() []data.Columns { return data.RatingColumns() }

// Validate refuses a count that the users and items cannot hold: a user
// rates at most half the items, so that drawing distinct items stays fast.
func (l *SyntheticRatings) Validate() error {
	if l.Ratings < 1 || l.Users < 1 || l.Items < 2 {
		return fmt.Errorf("ratings, users and items must be positive (items at least 2), got %d, %d and %d", l.Ratings, l.Users, l.Items)
	}
	if most := int64(l.Users) * int64(l.Items/2); int64(l.Ratings) > most {
		return fmt.Errorf("%d ratings do not fit %d users rating at most half of %d items each (%d); give more users or items", l.Ratings, l.Users, l.Items, most)
	}
	return nil
}

// syntheticMinPerUser is MovieLens' least number of ratings per user.
const syntheticMinPerUser = 20

// Load generates the ratings, user by user, and holds out the test ratings
// as the course's random split does (a permutation from split_seed).
func (l *SyntheticRatings) Load(string) (*data.Dataset, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	n := l.Ratings
	isTest := make([]bool, n)
	for _, k := range splitRand(l.SplitSeed).Perm(n)[:int(float64(n)*l.TestFraction)] {
		isTest[k] = true
	}
	rng := rand.New(rand.NewPCG(l.Seed, 0x5a7))
	counts := l.userCounts()
	items := newAlias(powerWeights(l.Items, l.ItemExponent), rng)
	// Popularity rank is not item index: the ranks are dealt at random.
	itemOf := rng.Perm(l.Items)
	userBias, itemBias := make([]float64, l.Users), make([]float64, l.Items)
	for u := range userBias {
		userBias[u] = 0.45 * rng.NormFloat64()
	}
	for i := range itemBias {
		itemBias[i] = 0.5 * rng.NormFloat64()
	}

	info := &data.RatingInfo{Scale: MovieLensScale, Users: make([]string, l.Users), Items: make([]string, l.Items)}
	for u := range info.Users {
		info.Users[u] = "u" + strconv.Itoa(u+1)
	}
	for i := range info.Items {
		info.Items[i] = "i" + strconv.Itoa(i+1)
	}
	nTest := int(float64(n) * l.TestFraction)
	xs, ys := data.RatingSchemas()
	ds := &data.Dataset{Ratings: info,
		Train: data.Split{X: data.Array{Schema: xs, Int: make([]int32, 0, 2*(n-nTest))}, Y: data.Array{Schema: ys, Float: make([]float32, 0, n-nTest)}},
		Test:  data.Split{X: data.Array{Schema: xs, Int: make([]int32, 0, 2*nTest)}, Y: data.Array{Schema: ys, Float: make([]float32, 0, nTest)}}}
	seen := make([]bool, l.Items)
	var mine []int32
	k := 0
	for u, c := range counts {
		mine = mine[:0]
		for len(mine) < c {
			i := int32(itemOf[items.draw()])
			if !seen[i] {
				seen[i] = true
				mine = append(mine, i)
			}
		}
		for _, i := range mine {
			seen[i] = false
			r := math.Round(3.5 + userBias[u] + itemBias[i] + 0.95*rng.NormFloat64())
			split := &ds.Train
			if isTest[k] {
				split = &ds.Test
			}
			split.X.Int = append(split.X.Int, int32(u), i)
			split.Y.Float = append(split.Y.Float, float32(min(max(r, 1), 5)))
			k++
		}
	}
	return ds, nil
}

// userCounts deals the ratings to users: each at least
// syntheticMinPerUser (fewer when there are not enough ratings), the rest
// in proportion to the power weights, and at most half the items.
func (l *SyntheticRatings) userCounts() []int {
	least := min(syntheticMinPerUser, l.Ratings/l.Users, l.Items/2)
	most := l.Items / 2
	counts := make([]int, l.Users)
	left := l.Ratings
	for u := range counts {
		counts[u] = least
		left -= least
	}
	// Shifted so that the least active user gets nothing beyond the
	// least: MovieLens has many users near its 20 (ml-100k's median is 65).
	w := powerWeights(l.Users, l.UserExponent)
	for u := range w {
		w[u] -= w[len(w)-1]
	}
	// Each pass deals what is left in proportion to the weights of the
	// users below the cap; what rounding leaves goes one each, heaviest
	// first. Validate made sure that the caps hold every rating.
	for left > 0 {
		var total float64
		for u, c := range counts {
			if c < most {
				total += w[u]
			}
		}
		dealt := 0
		for u, c := range counts {
			if c < most && total > 0 {
				add := min(int(float64(left)*w[u]/total), most-c)
				counts[u] += add
				dealt += add
			}
		}
		left -= dealt
		if dealt == 0 {
			for u := 0; u < len(counts) && left > 0; u++ {
				if counts[u] < most {
					counts[u]++
					left--
				}
			}
		}
	}
	return counts
}

// powerWeights are r^-exponent for ranks r = 1..n.
func powerWeights(n int, exponent float64) []float64 {
	w := make([]float64, n)
	for r := range w {
		w[r] = math.Pow(float64(r+1), -exponent)
	}
	return w
}

// alias draws indices in proportion to weights in constant time (Vose's
// alias method).
type alias struct {
	prob  []float64
	other []int
	rng   *rand.Rand
}

func newAlias(w []float64, rng *rand.Rand) *alias {
	n := len(w)
	var total float64
	for _, v := range w {
		total += v
	}
	a := &alias{prob: make([]float64, n), other: make([]int, n), rng: rng}
	scaled := make([]float64, n)
	var small, large []int
	for i, v := range w {
		scaled[i] = v * float64(n) / total
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, g := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s], a.other[s] = scaled[s], g
		scaled[g] -= 1 - scaled[s]
		if scaled[g] < 1 {
			large, small = large[:len(large)-1], append(small, g)
		}
	}
	for _, i := range append(small, large...) {
		a.prob[i], a.other[i] = 1, i // rounding leaves these at about 1
	}
	return a
}

func (a *alias) draw() int {
	i := a.rng.IntN(len(a.prob))
	if a.rng.Float64() < a.prob[i] {
		return i
	}
	return a.other[i]
}
