// Command streamtable writes a synthetic numeric table for measuring
// data.stream (never run by the tests): rows rows of cols features
// f0..f(cols-1), a regression target y (a noisy linear function of them)
// and a split column, every tenth row test. It goes outside the checkout:
//
//	go run ./pipeline/testdata/streamtable -rows 18000000 -cols 31 -out /work/stream-data/t/data.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	rows := flag.Int("rows", 1000, "rows")
	cols := flag.Int("cols", 31, "feature columns")
	out := flag.String("out", "", "the CSV file to write")
	flag.Parse()
	if *out == "" {
		log.Fatal("-out is required")
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for j := range *cols {
		fmt.Fprintf(w, "f%d,", j)
	}
	w.WriteString("y,split\n")
	rng := rand.New(rand.NewPCG(1, 2))
	var line []byte
	for i := range *rows {
		line = line[:0]
		y := 0.0
		for j := range *cols {
			v := rng.NormFloat64()*float64(1+j%3) + float64(j%5)
			y += v * float64(j%3-1)
			line = strconv.AppendFloat(line, v, 'f', 3, 64)
			line = append(line, ',')
		}
		line = strconv.AppendFloat(line, y+rng.NormFloat64()*0.1, 'f', 3, 64)
		if i%10 == 0 {
			line = append(line, ",test\n"...)
		} else {
			line = append(line, ",train\n"...)
		}
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
