package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/internal/testdata"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/sweep"
)

// TestCompareCVSeedsMeanStd: cv: {seeds: 3} runs the course's split (a
// user sample and a 70/30 hold-out) with split_seed 4, 5 and 6; pipe run
// prints their mean and std, and pipe compare puts the same mean ± std
// in the cell, reusing the three runs, the column's best in bold.
func TestCompareCVSeedsMeanStd(t *testing.T) {
	data := testdata.Dir(t, "movielense")
	runs := t.TempDir()
	base := []string{"--data-dir", data, "--runs-dir", runs, "--no-cache", "--set", "data.sample_users=100", "--set", "cv={seeds: 3, seed: 4}"}
	code, out, errOut := sweepCLI(t, append(append([]string{"run"}, base...), knnSpec)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	dirs := sweepDirs(t, runs, "movielense_knn")
	if len(dirs) != 3 {
		t.Fatalf("%d runs, want one per seed\n%s", len(dirs), out)
	}
	var seeds []string
	var rmse []float64
	for _, d := range dirs {
		spec, err := os.ReadFile(filepath.Join(d, rundir.SpecFile))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`split_seed: (\d+)`).FindSubmatch(spec)
		if m == nil || strings.Contains(string(spec), "cv:") {
			t.Fatalf("run %s: no split_seed, or cv: kept:\n%s", d, spec)
		}
		seeds = append(seeds, string(m[1]))
		test, err := (&rundir.Run{Dir: d}).TestMetrics()
		if err != nil {
			t.Fatal(err)
		}
		rmse = append(rmse, test["rmse"])
	}
	slices.Sort(seeds)
	if !slices.Equal(seeds, []string{"4", "5", "6"}) || rmse[0] == rmse[1] || rmse[1] == rmse[2] {
		t.Errorf("seeds %v gave rmse %v: want split_seed 4, 5, 6 and different splits", seeds, rmse)
	}
	mean, std := sweep.MeanStd(rmse)
	cell := fmt.Sprintf("%.4f ± %.4f", mean, std)
	if !strings.Contains(out, "rmse "+cell) {
		t.Errorf("pipe run: want rmse %s in\n%s", cell, out)
	}

	// compare: the cell is mean ± std of the same runs, reused; alone in
	// its column it is not marked best.
	code, out, errOut = sweepCLI(t, append(append([]string{"compare"}, base...), knnSpec)...)
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "| user-based neighbourhood | "+cell+" |") {
		t.Errorf("compare: want the cell %s in\n%s", cell, out)
	}
	if n := len(sweepDirs(t, runs, "movielense_knn")); n != 3 {
		t.Errorf("%d runs after compare, want the 3 reused", n)
	}

	// Two methods in one column (the second with k: 5): the lower mean
	// is bold, the other not.
	specB := filepath.Join(t.TempDir(), "knn_b.yaml")
	src, err := os.ReadFile(knnSpec)
	if err != nil {
		t.Fatal(err)
	}
	srcB := strings.Replace(string(src), "name: movielense_knn", "name: knn_b", 1)
	srcB = regexp.MustCompile(`method: [^,}]+`).ReplaceAllString(srcB, "method: other")
	srcB = regexp.MustCompile(`(?m)^  k: \d+$`).ReplaceAllString(srcB, "  k: 5")
	if err := os.WriteFile(specB, []byte(srcB), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = sweepCLI(t, append(append([]string{"compare"}, base...), knnSpec, specB)...)
	if code != 0 {
		t.Fatalf("compare of two: exit %d\n%s%s", code, out, errOut)
	}
	other := regexp.MustCompile(`\| other \| (\*\*)?([0-9.]+) ± `).FindStringSubmatch(out)
	if other == nil || other[2] == fmt.Sprintf("%.4f", mean) {
		t.Fatalf("no cell for k: 5, or the same as k's default:\n%s", out)
	}
	wantBold := "| user-based neighbourhood | **" + cell + "** |"
	if v := other[2]; v < fmt.Sprintf("%.4f", mean) {
		wantBold = "| other | **" + v
	}
	if strings.Count(out, "**") != 2 || !strings.Contains(out, wantBold) {
		t.Errorf("want only the lower mean in bold (%q):\n%s", wantBold, out)
	}
	code, _, errOut = sweepCLI(t, append(append([]string{"compare", "--rerun"}, base...), knnSpec)...)
	if code != exitUsage || !strings.Contains(errOut, "has cv:") {
		t.Errorf("compare --rerun of a cv: spec: exit %d, %s", code, errOut)
	}
}

// A spec whose split no seed changes (blocks, no user sample) cannot be
// repeated with seeds: every run would be the same.
func TestCVSeedsRefusesFixedSplit(t *testing.T) {
	data := testdata.Dir(t, "ml-100k")
	code, out, errOut := sweepCLI(t, "run", "--data-dir", data, "--runs-dir", t.TempDir(), "--no-cache", "../../specs/cf/ml100k_baseline_only.yaml",
		"--set", "data.split={kind: blocks, k: 5, fold: 0}", "--set", "cv={seeds: 3}")
	if code == 0 || !strings.Contains(errOut, "cv.seeds: split blocks takes no seed") {
		t.Errorf("exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}
