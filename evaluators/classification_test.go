package evaluators

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestClassificationReportHand checks every number of a report worked out
// by hand: 7 examples of classes A, B, C and a class D that no label and
// no prediction has.
//
//	confusion (rows true)   precision      recall      f1
//	A: 2 1 0 0  support 3   2/4 = 1/2      2/3         4/7
//	B: 1 1 0 0  support 2   1/2            1/2         1/2
//	C: 1 0 1 0  support 2   1/1            1/2         2/3
//	D: 0 0 0 0  support 0   0              0           0
//
// macro (A, B, C: D never occurs): P 2/3, R 5/9, F1 (4/7+1/2+2/3)/3 = 73/126;
// weighted by support: P 9/14, R 4/7, F1 85/147; accuracy 4/7; the label
// is among the 3 most probable classes in all but example 6: top-3 6/7.
func TestClassificationReportHand(t *testing.T) {
	labels := []int{0, 0, 1, 1, 2, 2, 0}
	probs := [][]float32{
		{0.7, 0.2, 0.05, 0.05}, // A -> A
		{0.2, 0.4, 0.3, 0.1},   // A -> B, A third
		{0.1, 0.8, 0.05, 0.05}, // B -> B
		{0.4, 0.3, 0.2, 0.1},   // B -> A
		{0.3, 0.3, 0.4, 0},     // C -> C (A and B tie below it)
		{0.5, 0.1, 0.05, 0.35}, // C -> A, C last: not in the top 3
		{0.5, 0.4, 0.1, 0},     // A -> A
	}
	r, err := Classify(labels, nil, probs, []string{"A", "B", "C", "D"})
	if err != nil {
		t.Fatal(err)
	}
	wantConf := [][]int{{2, 1, 0, 0}, {1, 1, 0, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}}
	for i := range wantConf {
		if !slices.Equal(r.Confusion[i], wantConf[i]) {
			t.Errorf("confusion row %d: %v, want %v", i, r.Confusion[i], wantConf[i])
		}
	}
	want := []ClassScores{
		{"A", 1.0 / 2, 2.0 / 3, 4.0 / 7, 3},
		{"B", 1.0 / 2, 1.0 / 2, 1.0 / 2, 2},
		{"C", 1, 1.0 / 2, 2.0 / 3, 2},
		{"D", 0, 0, 0, 0},
	}
	for i, w := range want {
		g := r.PerClass[i]
		if g.Class != w.Class || g.Support != w.Support || !near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) {
			t.Errorf("class %d: %+v, want %+v", i, g, w)
		}
	}
	checkAvg := func(name string, got, want ClassAverages) {
		if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	checkAvg("macro", r.Macro, ClassAverages{2.0 / 3, 5.0 / 9, 73.0 / 126})
	checkAvg("weighted", r.Weighted, ClassAverages{9.0 / 14, 4.0 / 7, 85.0 / 147})
	if !near(r.Accuracy, 4.0/7) || r.Examples != 7 {
		t.Errorf("accuracy %v of %d, want 4/7 of 7", r.Accuracy, r.Examples)
	}
	// 4 classes: top-1 and top-3, no top-5.
	if len(r.TopK) != 2 || !near(r.TopK["1"], 4.0/7) || !near(r.TopK["3"], 6.0/7) {
		t.Errorf("top-k %v, want 1: 4/7, 3: 6/7", r.TopK)
	}
	if r.ROCAUC != nil {
		t.Errorf("ROC AUC %v for 4 classes, want none", *r.ROCAUC)
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"Classification report: 7 test examples, 4 classes",
		"| A | 0.5000 | 0.6667 | 0.5714 | 3 |",
		"| D | 0.0000 | 0.0000 | 0.0000 | 0 |",
		"| macro avg | 0.6667 | 0.5556 | 0.5794 | 7 |",
		"| weighted avg | 0.6429 | 0.5714 | 0.5782 | 7 |",
		"| accuracy | 0.5714 |",
		"| top-3 accuracy | 0.8571 |",
		"| true \\ predicted | A | B | C | D |",
		"| C | 1 | 0 | 1 | 0 |",
	} {
		if !strings.Contains(md.String(), line+"\n") {
			t.Errorf("report.txt lacks the line %q:\n%s", line, md.String())
		}
	}
	if strings.Contains(md.String(), "top-5") || strings.Contains(md.String(), "ROC") {
		t.Errorf("report.txt has a top-5 or ROC line for 4 classes:\n%s", md.String())
	}
}

// TestClassificationReportAUCTies: the ROC AUC of a binary task with tied
// scores, counted by hand over the 16 positive-negative pairs: the
// positive at 0.9 beats all 4 negatives (4); at 0.8 it ties one and beats
// 3 (3.5); at 0.6 it ties two and beats one (2); at 0.1 none (0):
// 9.5/16 = 0.59375.
func TestClassificationReportAUCTies(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.8, 0.6, 0.6, 0.6, 0.3, 0.1}
	positive := []bool{true, false, true, true, false, false, false, true}
	auc, ok := ROCAUC(scores, positive)
	if !ok || !near(auc, 9.5/16) {
		t.Errorf("ROC AUC %v (%v), want 0.59375", auc, ok)
	}
	// The same through Classify, as a sigmoid's two probabilities.
	labels := make([]int, len(scores))
	probs := make([][]float32, len(scores))
	for i, s := range scores {
		if positive[i] {
			labels[i] = 1
		}
		probs[i] = []float32{float32(1 - s), float32(s)}
	}
	r, err := Classify(labels, nil, probs, []string{"neg", "pos"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ROCAUC == nil || math.Abs(*r.ROCAUC-9.5/16) > 1e-12 {
		t.Errorf("report's ROC AUC %v, want 0.59375", r.ROCAUC)
	}
	if len(r.TopK) != 1 || r.TopK["1"] != r.Accuracy {
		t.Errorf("top-k %v for 2 classes, want only top-1, equal to the accuracy %v", r.TopK, r.Accuracy)
	}
	var md strings.Builder
	r.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "| ROC AUC (positive: pos) | 0.5938 |\n") {
		t.Errorf("report.txt lacks the AUC line:\n%s", md.String())
	}
	// All tied: every pair counts one half.
	if auc, ok := ROCAUC([]float64{0.5, 0.5, 0.5}, []bool{true, false, false}); !ok || auc != 0.5 {
		t.Errorf("all tied: %v %v, want 0.5", auc, ok)
	}
	// Perfectly separated, and reversed.
	if auc, _ := ROCAUC([]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}); auc != 1 {
		t.Errorf("separated: %v, want 1", auc)
	}
	if auc, _ := ROCAUC([]float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}); auc != 0 {
		t.Errorf("reversed: %v, want 0", auc)
	}
}

// TestClassificationReportSigmoidTie: a sigmoid output of exactly 0.5
// predicts class 1 (the accuracy metric's threshold), though its two
// probabilities tie; given that prediction, the report counts it right and
// top-1 stays the accuracy.
func TestClassificationReportSigmoidTie(t *testing.T) {
	probs := [][]float32{{0.5, 0.5}, {0.9, 0.1}}
	r, err := Classify([]int{1, 0}, []int{1, 0}, probs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accuracy != 1 || r.TopK["1"] != 1 || r.Confusion[1][1] != 1 {
		t.Errorf("accuracy %v, top-1 %v, confusion %v; want 1, 1 and the tie counted as class 1", r.Accuracy, r.TopK["1"], r.Confusion)
	}
	if !slices.Equal(r.Classes, []string{"0", "1"}) {
		t.Errorf("classes without names: %q, want the indices", r.Classes)
	}
	// One class among the labels: no AUC, and the text says why.
	r, err = Classify([]int{1, 1}, nil, [][]float32{{0.2, 0.8}, {0.6, 0.4}}, nil)
	if err != nil || r.ROCAUC != nil {
		t.Fatalf("one class: %v, AUC %v; want no AUC", err, r.ROCAUC)
	}
	var md strings.Builder
	r.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "| ROC AUC | undefined: the test labels hold one class |") {
		t.Errorf("report.txt of one class:\n%s", md.String())
	}
}

// TestClassificationReportErrors: inputs the report cannot score are
// errors that say what is wrong, never a panic.
func TestClassificationReportErrors(t *testing.T) {
	p := [][]float32{{0.2, 0.8}}
	for _, c := range []struct {
		name      string
		labels    []int
		predicted []int
		probs     [][]float32
		classes   []string
		want      string
	}{
		{"empty", nil, nil, nil, nil, "no test examples"},
		{"lengths", []int{0, 1}, nil, p, nil, "2 labels, 1 rows of probabilities"},
		{"label", []int{2}, nil, p, nil, "label 2 is not a class 0..1"},
		{"prediction", []int{1}, []int{-1}, p, nil, "prediction -1 is not a class"},
		{"names", []int{1}, nil, p, []string{"a"}, "1 class names for 2 probabilities"},
		{"one class", []int{0}, nil, [][]float32{{1}}, nil, "at least 2"},
		{"ragged", []int{0, 0}, nil, [][]float32{{0.5, 0.5}, {1}}, nil, "example 1 has 1 probabilities"},
		{"nan", []int{0}, nil, [][]float32{{float32(math.NaN()), 1}}, []string{"cat", "dog"}, "the probability of class cat is NaN"},
	} {
		_, err := Classify(c.labels, c.predicted, c.probs, c.classes)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, ok := ROCAUC([]float64{1}, nil); ok {
		t.Error("ROCAUC of mismatched lengths: ok")
	}
}
