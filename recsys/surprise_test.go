package recsys_test

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/recsys"
	"github.com/pipe-ml/pipe/spec"
)

// Tests shared by the models that follow Surprise: defaults, determinism,
// fallbacks, restoring, parameter counts and clipping.

// The registered defaults are Surprise's (checked against its docs and
// source: SVD, SVDpp and NMF's __init__, the bsl_options of
// optimize_baselines), decoded from a spec that names the model alone.
func TestSurpriseDefaults(t *testing.T) {
	for name, want := range map[string]recsys.Recommender{
		"normal_predictor": &recsys.NormalPredictor{},
		"baseline_only":    &recsys.BaselineOnly{Method: "als", NEpochs: 0, RegU: 15, RegI: 10, Reg: 0.02, LearningRate: 0.005},
		"svd":              &recsys.SVD{NFactors: 100, NEpochs: 20, Biased: true, InitMean: 0, InitStdDev: 0.1, LrAll: 0.005, RegAll: 0.02},
		"svdpp":            &recsys.SVDpp{NFactors: 20, NEpochs: 20, InitMean: 0, InitStdDev: 0.1, LrAll: 0.007, RegAll: 0.02},
		"nmf":              &recsys.NMF{NFactors: 15, NEpochs: 50, Biased: false, RegPU: 0.06, RegQI: 0.06, RegBU: 0.02, RegBI: 0.02, LrBU: 0.005, LrBI: 0.005, InitLow: 0, InitHigh: 1},
	} {
		s, err := spec.Parse("cf.yaml", []byte("name: x\ndata: {loader: ml100k}\nmodel: {name: "+name+"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Model.Name.Config; !reflect.DeepEqual(got, want) {
			t.Errorf("%s defaults %+v, want %+v", name, got, want)
		}
	}
	s, err := spec.Parse("bad.yaml", []byte("name: x\ndata: {loader: ml100k}\nmodel: {name: nmf, init_low: 2, init_high: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recsys.Models.Build(s.Model.Name); err == nil || !strings.Contains(err.Error(), "init_high") {
		t.Errorf("init_high below init_low: %v", err)
	}
}

// Every model: deterministic given the seed, predictions within the
// scale, unknown users and items counted as fallbacks, the saved state
// restoring the same model, and its parameter count.
func TestSurpriseModelsCommon(t *testing.T) {
	info := surpriseInfo()
	x := allPairs(6, 5)
	unknown := 0 // pairs of u4 or i4
	for k := 0; k < len(x.Int); k += 2 {
		if x.Int[k] == 4 || x.Int[k+1] == 4 {
			unknown++
		}
	}
	for _, tc := range []struct {
		name     string
		model    recsys.Recommender
		epochs   int  // history length
		seedFree bool // the fit draws nothing
	}{
		{"normal_predictor", &recsys.NormalPredictor{}, 0, false},
		{"baseline_only als", &recsys.BaselineOnly{Method: "als", RegU: 15, RegI: 10}, 10, true},
		{"baseline_only sgd", &recsys.BaselineOnly{Method: "sgd", Reg: 0.02, LearningRate: 0.005}, 20, true},
		{"svd", &recsys.SVD{NFactors: 4, NEpochs: 5, Biased: true, InitStdDev: 0.1, LrAll: 0.005, RegAll: 0.02}, 5, false},
		{"svd unbiased", &recsys.SVD{NFactors: 4, NEpochs: 20, InitStdDev: 0.1, LrAll: 0.05, RegAll: 0.02}, 20, false},
		{"svdpp", &recsys.SVDpp{NFactors: 4, NEpochs: 5, InitStdDev: 0.1, LrAll: 0.007, RegAll: 0.02}, 5, false},
		{"nmf", &recsys.NMF{NFactors: 3, NEpochs: 7, RegPU: 0.06, RegQI: 0.06, InitHigh: 1}, 7, false},
		{"nmf biased", &recsys.NMF{NFactors: 3, NEpochs: 7, Biased: true, RegPU: 0.06, RegQI: 0.06, RegBU: 0.02, RegBI: 0.02, LrBU: 0.005, LrBI: 0.005, InitHigh: 1}, 7, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f1, h := fitModel(t, tc.model, info, shuffledTiny, 1)
			f2, _ := fitModel(t, tc.model, info, shuffledTiny, 1)
			f3, _ := fitModel(t, tc.model, info, shuffledTiny, 2)
			p1, fb := predict(t, f1, x)
			p2, _ := predict(t, f2, x)
			p3, _ := predict(t, f3, x)
			if !slices.Equal(p1, p2) {
				t.Errorf("two fits with seed 1 differ:\n%v\n%v", p1, p2)
			}
			if again, _ := predict(t, f1, x); !slices.Equal(p1, again) {
				t.Errorf("Predict twice differs")
			}
			if slices.Equal(p1, p3) == !tc.seedFree {
				t.Errorf("seeds 1 and 2 give equal predictions: %v (the fit draws nothing: %v)", slices.Equal(p1, p3), tc.seedFree)
			}
			for k, v := range p1 {
				if v < 1 || v > 5 || math.IsNaN(float64(v)) {
					t.Errorf("prediction %d is %v, outside the scale", k, v)
				}
			}
			if fb != unknown {
				t.Errorf("%d fallbacks, want %d (the pairs of u4 or i4)", fb, unknown)
			}
			// A pair's prediction does not depend on the others asked with it.
			alone, _ := predict(t, f1, pairs([2]int32{3, 2}))
			if alone[0] != p1[3*5+2] {
				t.Errorf("(u3, i2) alone %v, in the batch %v", alone[0], p1[3*5+2])
			}
			if h != nil && len(h.Values) > 0 && len(h.Values[0]) != tc.epochs {
				t.Errorf("history %v, want %d epochs", h.Names, tc.epochs)
			} else if (h == nil || len(h.Values) == 0) && tc.epochs > 0 {
				t.Errorf("no history")
			}
			pc, ok := tc.model.(recsys.ParamCounter)
			if !ok {
				t.Fatalf("%T is no ParamCounter", tc.model)
			}
			if n, _ := pc.ParamCount(info); n != f1.(recsys.ParamCounted).TrainableParams() {
				t.Errorf("ParamCount %d, the fitted model has %d", n, f1.(recsys.ParamCounted).TrainableParams())
			}
			r, ok := tc.model.(recsys.Restorer)
			if !ok {
				return
			}
			ts, err := f1.(recsys.StateSaver).State()
			if err != nil {
				t.Fatal(err)
			}
			restored, err := r.Restore(info, shuffledTiny, ts)
			if err != nil {
				t.Fatal(err)
			}
			if got, fb2 := predict(t, restored, x); !slices.Equal(got, p1) || fb2 != fb {
				t.Errorf("restored model predicts %v (%d fallbacks), the fitted one %v (%d)", got, fb2, p1, fb)
			}
			if tc.model.NewUsers() == nil {
				u1, _, err1 := f1.PredictUser(map[int32]float32{0: 5, 2: 3})
				u2, _, err2 := restored.PredictUser(map[int32]float32{0: 5, 2: 3})
				if err1 != nil || err2 != nil || !slices.Equal(u1, u2) {
					t.Errorf("PredictUser: fitted %v %v, restored %v %v", u1, err1, u2, err2)
				}
			}
			delete(ts, "bi")
			if _, err := r.Restore(info, shuffledTiny, ts); err == nil {
				t.Errorf("a state without bi was restored")
			}
		})
	}
}

// ratingsOutside is a split whose predictions leave the scale 2..4 both
// ways: u0 rates everything 5, u1 everything 1.
var ratingsOutside = ratingSplit(
	[3]float32{0, 0, 5}, [3]float32{0, 1, 5}, [3]float32{0, 2, 5},
	[3]float32{1, 0, 1}, [3]float32{1, 1, 1}, [3]float32{1, 2, 1},
	[3]float32{2, 0, 3}, [3]float32{2, 1, 3},
)

// Predictions are clipped to the rating scale (2..4 here, though the
// ratings are 1..5): u0's reach 4 exactly and u1's 2.
func TestSurpriseClip(t *testing.T) {
	info := &data.RatingInfo{Users: names(3), Items: names(3), Scale: [2]float32{2, 4}}
	for _, m := range []recsys.Recommender{
		&recsys.BaselineOnly{Method: "als", NEpochs: 50},
		&recsys.SVD{NFactors: 2, NEpochs: 200, Biased: true, InitStdDev: 0.1, LrAll: 0.05},
		&recsys.SVDpp{NFactors: 2, NEpochs: 200, InitStdDev: 0.1, LrAll: 0.05},
		&recsys.NMF{NFactors: 2, NEpochs: 50, RegPU: 0.06, RegQI: 0.06, InitHigh: 1},
	} {
		f, _ := fitModel(t, m, info, ratingsOutside, 1)
		pred, _ := predict(t, f, pairs([2]int32{0, 2}, [2]int32{1, 2}))
		if pred[0] != 4 || pred[1] != 2 {
			t.Errorf("%T: u0 and u1 on i2 get %v, want [4 2]", m, pred)
		}
		if m.NewUsers() == nil {
			all, _, err := f.PredictUser(map[int32]float32{0: 5, 1: 5})
			if err != nil {
				t.Fatal(err)
			}
			if all[2] != 4 {
				t.Errorf("%T: a new user rating everything 5 gets %v for i2, want 4", m, all[2])
			}
		}
	}
}
