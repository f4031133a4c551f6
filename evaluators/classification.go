package evaluators

// The classification report of a classifier's test predictions: per-class
// precision, recall and F1, their averages, top-k accuracy, ROC AUC for two
// classes and the confusion matrix. It is computed in plain Go from the rows
// of predictions.arrow after training, not as a graph measure: it needs the
// whole test split at once (a confusion matrix, a ranking for the AUC),
// which per-batch means cannot give.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// ClassificationReport is report.json.
type ClassificationReport struct {
	// Classes are the class names, the dataset's where it names them,
	// otherwise the indices "0", "1", ...
	Classes  []string `json:"classes"`
	Examples int      `json:"examples"`
	Accuracy float64  `json:"accuracy"`
	// PerClass holds one entry per class, in class order.
	PerClass []ClassScores `json:"per_class"`
	// Macro is the unweighted mean over the classes that occur among the
	// labels or the predictions (as scikit-learn's classification_report
	// does): a class a short test subset never shows and the model never
	// predicts has no precision or recall to speak of.
	Macro ClassAverages `json:"macro_avg"`
	// Weighted is the mean weighted by each class's support.
	Weighted ClassAverages `json:"weighted_avg"`
	// TopK is the accuracy when the label is among the k most probable
	// classes, for k = 1, 3, 5 where there are more than k classes; keyed
	// by k.
	TopK map[string]float64 `json:"top_k_accuracy"`
	// ROCAUC is the area under the ROC curve of a two-class task, the
	// second class being the positive one; nil for more classes, or when
	// the test labels hold only one class (the area is then undefined).
	ROCAUC *float64 `json:"roc_auc,omitempty"`
	// Confusion counts examples by true class (row) and predicted class
	// (column).
	Confusion [][]int `json:"confusion_matrix"`
}

// ClassScores are one class's scores. A class with no predictions has
// precision 0, one with no examples recall 0, and F1 is 0 where both are
// (scikit-learn's zero_division=0).
type ClassScores struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // test examples of the class
}

// ClassAverages are averaged scores.
type ClassAverages struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// topKs are the k of the top-k accuracies, each reported when there are
// more than k classes.
var topKs = []int{1, 3, 5}

// Classify computes the report of a classifier's predictions. labels are
// the true classes, predicted the model's (nil: the most probable class,
// the lowest index among equals), probs each example's class
// probabilities, classes the class names (nil: their indices). predicted
// is given apart from probs because a single sigmoid output predicts
// class 1 at exactly 0.5, where its two probabilities tie; with it, the
// report's accuracy is the accuracy metric's.
func Classify(labels, predicted []int, probs [][]float32, classes []string) (*ClassificationReport, error) {
	n := len(labels)
	if n == 0 {
		return nil, fmt.Errorf("no test examples")
	}
	if len(probs) != n || predicted != nil && len(predicted) != n {
		return nil, fmt.Errorf("%d labels, %d rows of probabilities, %d predictions", n, len(probs), len(predicted))
	}
	k := len(probs[0])
	if classes != nil && len(classes) != k {
		return nil, fmt.Errorf("%d class names for %d probabilities", len(classes), k)
	}
	if k < 2 {
		return nil, fmt.Errorf("probabilities over %d class; a classifier has at least 2", k)
	}
	if classes == nil {
		classes = make([]string, k)
		for i := range classes {
			classes[i] = strconv.Itoa(i)
		}
	}
	if predicted == nil {
		predicted = make([]int, n)
		for i, p := range probs {
			predicted[i] = Argmax(p)
		}
	}
	r := &ClassificationReport{Classes: slices.Clone(classes), Examples: n, TopK: map[string]float64{}}
	r.Confusion = make([][]int, k)
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, k)
	}
	for i, p := range probs {
		if len(p) != k {
			return nil, fmt.Errorf("example %d has %d probabilities, example 0 has %d", i, len(p), k)
		}
		for c, v := range p {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("example %d: the probability of class %s is %v", i, classes[c], v)
			}
		}
		if labels[i] < 0 || labels[i] >= k {
			return nil, fmt.Errorf("example %d: label %d is not a class 0..%d", i, labels[i], k-1)
		}
		if predicted[i] < 0 || predicted[i] >= k {
			return nil, fmt.Errorf("example %d: prediction %d is not a class 0..%d", i, predicted[i], k-1)
		}
		r.Confusion[labels[i]][predicted[i]]++
	}
	r.scores()
	for _, top := range topKs {
		if k > top {
			hits := 0
			for i, p := range probs {
				if rank(p, labels[i], predicted[i]) < top {
					hits++
				}
			}
			r.TopK[strconv.Itoa(top)] = float64(hits) / float64(n)
		}
	}
	if k == 2 {
		scores := make([]float64, n)
		positive := make([]bool, n)
		for i, p := range probs {
			scores[i], positive[i] = float64(p[1]), labels[i] == 1
		}
		if auc, ok := ROCAUC(scores, positive); ok {
			r.ROCAUC = &auc
		}
	}
	return r, nil
}

// scores fills the per-class scores, their averages and the accuracy from
// the confusion matrix.
func (r *ClassificationReport) scores() {
	k := len(r.Classes)
	correct, counted := 0, 0
	var macro, weighted ClassAverages
	for c := range k {
		tp, support, predictedAs := r.Confusion[c][c], 0, 0
		for j := range k {
			support += r.Confusion[c][j]
			predictedAs += r.Confusion[j][c]
		}
		s := ClassScores{Class: r.Classes[c], Support: support,
			Precision: ratio(tp, predictedAs), Recall: ratio(tp, support)}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		r.PerClass = append(r.PerClass, s)
		correct += tp
		if support > 0 || predictedAs > 0 {
			counted++
			macro.add(s, 1)
		}
		weighted.add(s, float64(support))
	}
	r.Accuracy = ratio(correct, r.Examples)
	r.Macro = macro.scaled(1 / float64(counted))
	r.Weighted = weighted.scaled(1 / float64(r.Examples))
}

func (a *ClassAverages) add(s ClassScores, w float64) {
	a.Precision += w * s.Precision
	a.Recall += w * s.Recall
	a.F1 += w * s.F1
}

func (a ClassAverages) scaled(f float64) ClassAverages {
	return ClassAverages{a.Precision * f, a.Recall * f, a.F1 * f}
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Argmax is the index of the largest value, the lowest among equals: the
// predicted class of a row of probabilities.
func Argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// rank is the place of class label in the ordering of the classes by
// probability, highest first (0: the most probable). Equal probabilities
// are ordered with the predicted class first, then by index, so that rank
// 0 is exactly a right prediction and top-1 accuracy is the accuracy.
func rank(p []float32, label, predicted int) int {
	before := func(j int) bool {
		switch {
		case p[j] != p[label]:
			return p[j] > p[label]
		case j == label:
			return false
		case j == predicted:
			return true
		case label == predicted:
			return false
		}
		return j < label
	}
	r := 0
	for j := range p {
		if before(j) {
			r++
		}
	}
	return r
}

// ROCAUC is the exact area under the ROC curve of scores against the
// positive flags: the probability that a random positive example scores
// above a random negative one, ties counting one half (the Mann-Whitney U
// statistic over the number of pairs, computed from the ranks of the
// scores, tied scores getting their average rank). ok is false when there
// are no positive or no negative examples, where the area is undefined,
// or when scores and positive differ in length.
func ROCAUC(scores []float64, positive []bool) (auc float64, ok bool) {
	if len(scores) != len(positive) {
		return 0, false
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var pos, neg int
	var rankSum float64 // sum of the positives' ranks, from 1
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && scores[order[j]] == scores[order[i]] {
			j++
		}
		avg := float64(i+1+j) / 2 // the mean of ranks i+1..j
		for _, e := range order[i:j] {
			if positive[e] {
				pos++
				rankSum += avg
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0, false
	}
	u := rankSum - float64(pos)*float64(pos+1)/2
	return u / (float64(pos) * float64(neg)), true
}
