package arrowio

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/internal/testdata"
)

// streamFixture is n examples of 256 float32 features (1 KiB) and an
// int32 label, example i holding i in every slot.
func streamFixture(n int) data.Split {
	s := data.Split{X: data.Array{Schema: data.Schema{DType: data.Float32, Shape: []int{16, 16}}}, Y: data.Array{Schema: data.Schema{DType: data.Int32, Shape: []int{}, Classes: 7}}}
	for i := range n {
		for range 256 {
			s.X.Float = append(s.X.Float, float32(i))
		}
		s.Y.Int = append(s.Y.Int, int32(i%7))
	}
	return s
}

// TestSplitStream: a split written in record batches reads back whole
// (ReadSplit) and batch by batch (SplitStream), and the stream keeps
// resident only the batches it reads until they are released.
func TestSplitStream(t *testing.T) {
	const rows, per = 4000, 500 // 8 batches of 500 KiB
	want := streamFixture(rows)
	path := filepath.Join(t.TempDir(), "stream-train.arrow")
	w, err := NewSplitWriter(path, want.X.Schema, want.Y.Schema, rows)
	if err != nil {
		t.Fatal(err)
	}
	for from := 0; from < rows; from += per {
		b := want.Slice(from, from+per)
		if err := w.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	whole, closer, err := ReadSplit(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(whole.X.Float, want.X.Float) || !slices.Equal(whole.Y.Int, want.Y.Int) || whole.Y.Classes != 7 {
		t.Errorf("ReadSplit of a batched file differs")
	}
	closer.Close()

	s, err := OpenSplitStream(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != rows || s.Batches() != rows/per || s.BatchLen(3) != per {
		t.Fatalf("%d rows in %d batches", s.Len(), s.Batches())
	}
	if rss := testdata.MappedRSS(t, "stream-train.arrow"); rss != 0 {
		t.Errorf("%d KiB of the file resident after opening; want none", rss>>10)
	}
	// A batch maps only its own pages (plus the partial pages at its ends),
	// so reading it whole makes it resident and no more, whatever the page
	// cache's folio size; Release unmaps it.
	batchBytes := int64(per * 1024)
	page := int64(os.Getpagesize())
	for i := range s.Batches() {
		b, err := s.Batch(i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.X.Float, want.X.Float[i*per*256:(i+1)*per*256]) || !slices.Equal(b.Y.Int, want.Y.Int[i*per:(i+1)*per]) {
			t.Fatalf("batch %d differs", i)
		}
		if rss := testdata.MappedRSS(t, "stream-train.arrow"); rss < batchBytes || rss > batchBytes+4*page+8<<10 {
			t.Errorf("batch %d read: %d KiB resident; want the batch's %d KiB and its message's metadata", i, rss>>10, batchBytes>>10)
		}
		if err := s.Release(i); err != nil {
			t.Fatal(err)
		}
		if rss := testdata.MappedRSS(t, "stream-train.arrow"); rss != 0 {
			t.Errorf("batch %d released: %d KiB resident", i, rss>>10)
		}
	}
	// A batch kept is readable until Close, which unmaps it.
	b, err := s.Batch(5)
	if err != nil || b.Y.Int[0] != want.Y.Int[5*per] {
		t.Fatalf("batch 5 again: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rss := testdata.MappedRSS(t, "stream-train.arrow"); rss != 0 {
		t.Errorf("%d KiB resident after Close", rss>>10)
	}
}

// TestSplitWriterCounts: a writer that gets more or fewer rows than it
// announced fails and leaves no file.
func TestSplitWriterCounts(t *testing.T) {
	s := streamFixture(10)
	for _, rows := range []int{9, 11} {
		path := filepath.Join(t.TempDir(), "s.arrow")
		w, err := NewSplitWriter(path, s.X.Schema, s.Y.Schema, rows)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(&s)
		if err == nil {
			err = w.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "rows written to a split of") {
			t.Errorf("rows %d: err %v", rows, err)
		}
		if _, err := OpenSplitStream(path); err == nil {
			t.Errorf("rows %d: a file was left", rows)
		}
	}
	ragged := data.Schema{DType: data.Int32, Shape: []int{-1}}
	if _, err := NewSplitWriter(filepath.Join(t.TempDir(), "r.arrow"), ragged, s.Y.Schema, 1); err == nil || !strings.Contains(err.Error(), "fixed shape") {
		t.Errorf("ragged column: err %v", err)
	}
}

// TestSplitStreamCorrupt: a truncated split file, or one whose footer
// points a record batch outside the file, is refused when opened, naming
// the file, never a panic.
func TestSplitStreamCorrupt(t *testing.T) {
	s := streamFixture(300)
	path := filepath.Join(t.TempDir(), "s.arrow")
	w, err := NewSplitWriter(path, s.X.Schema, s.Y.Schema, 300)
	if err != nil {
		t.Fatal(err)
	}
	for from := 0; from < 300; from += 100 {
		b := s.Slice(from, from+100)
		if err := w.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"no footer", func(b []byte) []byte { return b[:len(b)-12] }},
		{"batches cut out", func(b []byte) []byte {
			// Keep the footer but drop 100 KB of batches before it: its
			// blocks point past the end.
			footer := 10 + int(binary.LittleEndian.Uint32(b[len(b)-10:]))
			return append(slices.Clone(b[:len(b)-footer-100<<10]), b[len(b)-footer:]...)
		}},
	} {
		bad := filepath.Join(t.TempDir(), "bad.arrow")
		if err := os.WriteFile(bad, c.edit(slices.Clone(whole)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenSplitStream(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: err %v", c.name, err)
		}
	}
}

// FuzzSplitStream: whatever the bytes, OpenSplitStream and Batch return
// an error or well-formed batches that add up to the announced rows; they
// never panic or crash (a batch is mapped on its own, so a bad offset must
// be caught before the mapping is read).
// Run with: go test ./arrowio/ -run '^$' -fuzz FuzzSplitStream
func FuzzSplitStream(f *testing.F) {
	s := streamFixture(60)
	path := filepath.Join(f.TempDir(), "seed.arrow")
	w, err := NewSplitWriter(path, s.X.Schema, s.Y.Schema, 60)
	if err != nil {
		f.Fatal(err)
	}
	for from := 0; from < 60; from += 25 {
		b := s.Slice(from, min(from+25, 60))
		if err := w.Write(&b); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "fuzz.arrow")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := OpenSplitStream(p)
		if err != nil {
			return
		}
		defer st.Close()
		rows := 0
		for i := range st.Batches() {
			split, err := st.Batch(i)
			if err != nil {
				return
			}
			if _, err := checkSplit(&split); err != nil {
				t.Errorf("batch %d read without an error but malformed: %v", i, err)
			}
			rows += split.Len()
			if err := st.Release(i); err != nil {
				t.Fatal(err)
			}
		}
		if rows != st.Len() {
			t.Errorf("batches hold %d rows, the stream announces %d", rows, st.Len())
		}
	})
}
