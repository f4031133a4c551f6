package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/evaluators"
	"github.com/pipe-ml/pipe/internal/testdata"
)

// readJSON decodes the run's file into v.
func readJSON(t *testing.T, dir, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestReportMNISTRun: a short real MNIST run writes report.json,
// report.txt and confusion.png, whose numbers agree with each other and
// with metrics.json's test accuracy, and records MNIST's class names.
func TestReportMNISTRun(t *testing.T) {
	data := testdata.Dir(t, "mnist")
	dir, _ := trainedRun(t, data, "testdata/good.yaml", "--set", "data.train_limit=300", "--set", "data.test_limit=200")
	var metrics struct {
		Test     map[string]float64 `json:"test"`
		Examples int                `json:"test_examples"`
		Classes  []string           `json:"classes"`
	}
	readJSON(t, dir, "metrics.json", &metrics)
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if !slices.Equal(metrics.Classes, digits) || metrics.Examples != 200 {
		t.Errorf("metrics.json: classes %q, %d test examples; want the digits and 200", metrics.Classes, metrics.Examples)
	}
	var r evaluators.ClassificationReport
	readJSON(t, dir, "report.json", &r)
	// The graph's accuracy is a float32 mean; the report counts exactly.
	if r.Examples != 200 || math.Abs(r.Accuracy-metrics.Test["accuracy"]) > 1e-6 {
		t.Errorf("report.json: accuracy %v of %d examples; metrics.json: %v of 200", r.Accuracy, r.Examples, metrics.Test["accuracy"])
	}
	if !slices.Equal(r.Classes, digits) || len(r.PerClass) != 10 || len(r.Confusion) != 10 {
		t.Fatalf("report.json: classes %q, %d scores, %d rows", r.Classes, len(r.PerClass), len(r.Confusion))
	}
	total, diagonal, supports := 0, 0, 0
	for i, row := range r.Confusion {
		rowSum := 0
		for j, v := range row {
			rowSum += v
			if i == j {
				diagonal += v
			}
		}
		total += rowSum
		supports += r.PerClass[i].Support
		if r.PerClass[i].Support != rowSum {
			t.Errorf("class %d: support %d, its confusion row holds %d", i, r.PerClass[i].Support, rowSum)
		}
	}
	if total != 200 || supports != 200 || float64(diagonal)/200 != r.Accuracy {
		t.Errorf("confusion: %d examples, %d support, %d on the diagonal; accuracy %v", total, supports, diagonal, r.Accuracy)
	}
	// Weighted recall is the accuracy; top-k grows with k from it.
	if math.Abs(r.Weighted.Recall-r.Accuracy) > 1e-12 || r.TopK["1"] != r.Accuracy || r.TopK["3"] < r.TopK["1"] || r.TopK["5"] < r.TopK["3"] || r.ROCAUC != nil {
		t.Errorf("weighted recall %v, top-k %v, ROC AUC %v; accuracy %v", r.Weighted.Recall, r.TopK, r.ROCAUC, r.Accuracy)
	}
	text, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s7 := r.PerClass[7]
	for _, line := range []string{
		"Classification report: 200 test examples, 10 classes\n",
		fmt.Sprintf("| 7 | %.4f | %.4f | %.4f | %d |\n", s7.Precision, s7.Recall, s7.F1, s7.Support),
		fmt.Sprintf("| accuracy | %.4f |\n", metrics.Test["accuracy"]),
		fmt.Sprintf("| top-5 accuracy | %.4f |\n", r.TopK["5"]),
	} {
		if !strings.Contains(string(text), line) {
			t.Errorf("report.txt lacks %q:\n%s", line, text)
		}
	}
	f, err := os.Open(filepath.Join(dir, "confusion.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("confusion.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 720 || b.Dy() != 720 { // 10 cells of 0.55 inch and 2 inches of labels, at 96 dpi
		t.Errorf("confusion.png is %dx%d, want 720x720", b.Dx(), b.Dy())
	}
}
