package recsys

import (
	"runtime"
	"sync"
)

// parallel runs f(0), ..., f(n-1) on up to GOMAXPROCS goroutines, worker w
// taking w, w+workers, w+2·workers, ...; on the calling goroutine when one
// worker suffices. Callers get a result independent of GOMAXPROCS by
// making what f(i) computes depend on i only (rbm_cf's fixed gradient
// shards, one row per call in perRow).
func parallel(n int, f func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// perRow groups the (user, item) pairs xs (flat, two values a pair) by
// their row, the value at position at of each pair (0: user, 1: item; rows
// in [0, nRows)), and calls visit(r, pairs) once for every row r that has
// pairs, pairs their indices in ascending order. The rows are spread over
// up to GOMAXPROCS workers; each worker gets its own visit from newVisit,
// so that a visit may keep scratch space across the rows it is given. A
// visit must compute each row's predictions from the row alone, so that
// they do not depend on the number of workers. perRow returns the sum of
// what the visits return (the fallbacks).
func perRow(xs []int32, at, nRows int, newVisit func() func(r int32, pairs []int32) int) int {
	n := len(xs) / 2
	start := make([]int, nRows+1)
	for p := range n {
		start[xs[2*p+at]+1]++
	}
	for r := range nRows {
		start[r+1] += start[r]
	}
	order, next := make([]int32, n), append([]int(nil), start[:nRows]...)
	for p := range n {
		r := xs[2*p+at]
		order[next[r]] = int32(p)
		next[r]++
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), nRows))
	counts := make([]int, workers)
	parallel(workers, func(w int) {
		visit := newVisit()
		for r := w; r < nRows; r += workers {
			if start[r] < start[r+1] {
				counts[w] += visit(int32(r), order[start[r]:start[r+1]])
			}
		}
	})
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}
