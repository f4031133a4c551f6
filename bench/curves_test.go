package bench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMovieLensShape: the releases' own shapes at their sizes, growth in
// between, and room for every rating below the smallest.
func TestMovieLensShape(t *testing.T) {
	for _, c := range []struct {
		n    int
		want Shape
	}{
		{100_000, Shape{943, 1682}},
		{1_000_209, Shape{6040, 3706}},
		{10_000_054, Shape{69_878, 10_677}},
	} {
		if got := MovieLensShape(c.n); got != c.want {
			t.Errorf("MovieLensShape(%d) = %+v, want %+v", c.n, got, c.want)
		}
	}
	prev := Shape{}
	for _, n := range []int{100, 2000, 50_000, 300_000, 3_000_000, 30_000_000} {
		s := MovieLensShape(n)
		if s.Users <= prev.Users || s.Items < prev.Items || int64(s.Users)*int64(s.Items/2) < int64(n) {
			t.Errorf("MovieLensShape(%d) = %+v after %+v", n, s, prev)
		}
		prev = s
	}
}

func TestSlope(t *testing.T) {
	xs := []float64{1e5, 1e6, 1e7}
	for _, c := range []struct {
		ys   []float64
		want float64
		name string
	}{
		{[]float64{2, 20, 200}, 1, "linear"},
		{[]float64{3, 300, 30000}, 2, "quadratic"},
		{[]float64{5, 5, 5}, 0, "flat"},
		{[]float64{1, 31.6, 1000}, 1.5, "between linear and quadratic"},
	} {
		k, ok := Slope(xs, c.ys)
		if !ok || math.Abs(k-c.want) > 0.01 || Growth(k) != c.name {
			t.Errorf("Slope(%v) = %.3f %v (%s), want %.2f (%s)", c.ys, k, ok, Growth(k), c.want, c.name)
		}
	}
	// n log n over 100k to 10M reads as linear.
	var ys []float64
	for _, x := range xs {
		ys = append(ys, x*math.Log(x))
	}
	if k, _ := Slope(xs, ys); Growth(k) != "linear" {
		t.Errorf("n log n: slope %.2f reads %s", k, Growth(k))
	}
	if _, ok := Slope([]float64{1, 2}, []float64{1, 0}); ok {
		t.Error("a slope from one positive point")
	}
}

// fakeCurves is a child that prints, for a training point, samples/s of
// 100 per batch example (32,000/L for a sequence of L tokens) and 1 MB a
// batch example; for a fit over n ratings, n/1000 s to fit, n²/10⁶ s to
// predict and n/100 MB above a 30 MB start.
const fakeCurves = `
b=; n=; l=; prev=
for a in "$@"; do
  [ "$prev" = --batch ] && b=$a
  case "$a" in data.ratings=*) n=${a#data.ratings=};; model.input.shape=*) l=${a#model.input.shape=[}; l=${l%]};; esac
  prev=$a
done
case "$*" in
  *--one-fit*) echo "{\"train\": $((n*7/10)), \"test\": $((n*3/10)), \"users\": 10, \"items\": 20, \"load_s\": 0.5, \"fit_s\": $((n/1000)), \"predict_s\": $((n*n/1000000)), \"base_rss_mb\": 30, \"peak_rss_mb\": $((30+n/100))}";;
  *) s=$((100*b)); [ -n "$l" ] && s=$((32000/l)); echo "{\"spec\": \"x\", \"batch\": $b, \"steps\": 2, \"samples_per_s\": $s, \"base_rss_mb\": 40, \"peak_rss_mb\": $((40+b))}";;
esac`

func TestRunCurves(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	self := fake(t, `echo "$*" >> `+calls+"\n"+fakeCurves)
	o := Options{Self: []string{self, "bench"}, MinSteps: 2}
	curves := []Curve{
		{Name: "cnn_batch", Spec: "cnn.yaml", Axis: AxisBatch, X: []int{16, 32, 64}},
		{Name: "rnn_length", Spec: "rnn.yaml", Axis: AxisLength, X: []int{100, 200, 400}, Batch: 32},
		{Name: "knn_ratings", Spec: "knn.yaml", Axis: AxisRatings, X: []int{2000, 4000, 8000}},
	}
	// 8,000 ratings would peak at 30 + 80 MB.
	res := RunCurves(o, curves, Limits{MaxMB: 100})
	var buf bytes.Buffer
	WriteCurveTables(&buf, "header", res)
	out := buf.String()
	for _, want := range []string{
		"### cnn_batch: training samples/s and peak RSS against batch size (cnn.yaml)",
		"| 32 | 3,200 | 72 MB | 32 MB |",
		"- peak RSS above the start grows as batch size^1.00 (linear)",
		"| 400 | 32 | 0.4 s | 80 | 72 MB | 32 MB |",
		"- time per training step grows as sequence length^1.00 (linear)",
		"| 4,000 | 10 | 20 | 2,800 | 0.50 s | 4.00 s | 16.0 s | 70 MB | 40 MB |",
		"| 8,000 | 123 | 707 | – | – | _~8.00 s_ | _~64.0 s_ | _~110 MB_ | _~80 MB_ |",
		"- fit time grows as ratings^1.00 (linear)",
		"- test prediction time grows as ratings^2.00 (quadratic)",
		"- ratings 8,000: not run, its peak RSS would be about 110 MB, over the limit of 100 MB",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the tables have no %q:\n%s", want, out)
		}
	}
	b, _ := os.ReadFile(calls)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d children, want 8 (the last point over ratings is not run):\n%s", len(lines), b)
	}
	for _, want := range []string{
		"bench --one cnn.yaml --batch 64 --steps 0 --min-steps 2",
		"bench --one rnn.yaml --batch 32 --steps 0 --min-steps 2 --min-time 0s --set model.input.shape=[200] --set data.transforms[0].pad_sequences.maxlen=200",
		"bench --one knn.yaml --one-fit --set data.loader=synthetic_ratings --set data.ratings=4000 --set data.users=",
	} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no child was run with %q:\n%s", want, b)
		}
	}

	// A failed point: the larger ones are not run, and say why.
	broken := fake(t, `case "$*" in *ratings=4000*) echo "out of memory" >&2; exit 2;; esac`+"\n"+fakeCurves)
	res = RunCurves(Options{Self: []string{broken, "bench"}}, curves[2:], Limits{})
	buf.Reset()
	WriteCurveTables(&buf, "header", res)
	for _, want := range []string{"- ratings 4,000: failed: out of memory", "- ratings 8,000: not run, a smaller point failed"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the tables have no %q:\n%s", want, buf.String())
		}
	}

	// The files: the tables and a chart per curve with a measured point;
	// a second run into the same folder refuses before measuring.
	out2 := filepath.Join(dir, "curves")
	if err := PrepareCurveDir(out2, curves); err != nil {
		t.Fatal(err)
	}
	all := RunCurves(o, curves, Limits{MaxMB: 100})
	paths, err := WriteCurves(out2, "header", all)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths, CurveFiles(out2, curves)) {
		t.Errorf("wrote %v", paths)
	}
	csv, _ := os.ReadFile(filepath.Join(out2, "curves.csv"))
	for _, want := range []string{
		"curve,spec,axis,x,status,samples_per_s,step_s,batch,users,items,train,test,load_s,fit_s,predict_s,peak_rss_mb,base_rss_mb,note\n",
		"cnn_batch,cnn.yaml,batch size,16,measured,1600,,16,,,,,,,,56,40,\n",
		"knn_ratings,knn.yaml,ratings,8000,extrapolated,,,,123,707,,,,8,64,110,30,\"its peak RSS would be about 110 MB, over the limit of 100 MB\"\n",
	} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("curves.csv has no %q:\n%s", want, csv)
		}
	}
	if err := PrepareCurveDir(out2, curves); err == nil || !strings.Contains(err.Error(), "curves.md") {
		t.Errorf("a second run into the same folder: %v", err)
	}
	if _, err := WriteCurves(out2, "header", all); err == nil {
		t.Error("WriteCurves overwrote its files")
	}
}

// TestDefaultCurves: I-AutoRec's input is as wide as the users are many,
// and --fit-epochs reaches every fit that has epochs.
func TestDefaultCurves(t *testing.T) {
	cs := DefaultCurves(CurveOptions{Ratings: []int{100_000}, FitEpochs: 2})
	sets := map[string][]string{}
	for _, c := range cs {
		sets[c.Name] = c.pointSets(100_000)
	}
	for name, want := range map[string][]string{
		"i_autorec_ratings":            {"data.users=943", "data.items=1682", "model.input.shape=[943]", "model.layers[1].dense.units=943", "train.epochs=2"},
		"matrix_factorization_ratings": {"data.loader=synthetic_ratings", "model.epochs=2"},
		"user_knn_ratings":             {"data.ratings=100000"},
	} {
		for _, w := range want {
			if !slices.Contains(sets[name], w) {
				t.Errorf("%s: sets %v lack %s", name, sets[name], w)
			}
		}
	}
	if slices.ContainsFunc(sets["user_knn_ratings"], func(s string) bool { return strings.Contains(s, "epochs") }) {
		t.Errorf("user_knn has no epochs: %v", sets["user_knn_ratings"])
	}
	for _, c := range cs {
		if _, err := os.Stat(filepath.Join("..", c.Spec)); err != nil {
			t.Errorf("curve %s: %v", c.Name, err)
		}
	}
}
