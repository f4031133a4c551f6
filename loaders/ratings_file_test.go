package loaders_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/spec"
)

// writeData writes body to dir/name, making folders, and returns its path.
func writeData(t *testing.T, dir, name string, body []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildLoader decodes a spec whose data section is dataYAML and builds its
// loader as the pipeline does (Registry.Build runs Validate).
func buildLoader(dataYAML string) (loaders.Loader, error) {
	s, err := spec.Parse("x.yaml", []byte("name: x\ndata:\n"+dataYAML+"model: {input: {shape: [2]}}\n"))
	if err != nil {
		return nil, err
	}
	l, serr := loaders.Loaders.Build(s.Data.Loader)
	if serr != nil {
		return nil, serr
	}
	return l, nil
}

// indent turns a flow of params into the data section's lines.
func dataSection(params ...string) string {
	var b strings.Builder
	for _, p := range params {
		b.WriteString("  " + p + "\n")
	}
	return b.String()
}

// loadRatings builds the loader of the given data params and loads dir.
func loadRatings(t *testing.T, dir string, params ...string) *data.Dataset {
	t.Helper()
	l, err := buildLoader(dataSection(params...))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := l.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// triples lists a split's ratings as "user|item|rating", in split order.
func triples(ds *data.Dataset, s *data.Split) []string {
	out := make([]string, s.Len())
	for i := range out {
		out[i] = fmt.Sprintf("%s|%s|%g", ds.Ratings.Users[s.X.Int[2*i]], ds.Ratings.Items[s.X.Int[2*i+1]], s.Y.Float[i])
	}
	return out
}

// allTriples lists both splits' ratings, sorted.
func allTriples(ds *data.Dataset) []string {
	all := append(triples(ds, &ds.Train), triples(ds, &ds.Test)...)
	slices.Sort(all)
	return all
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The same four ratings written the ways a user's file may be: columns in
// any order and with extras, quoted fields holding the delimiter, other
// delimiters, no header, no quoting, gzip, an absolute path.
func TestRatingsFileText(t *testing.T) {
	want := []string{`u1|12" Single|2`, "u1|Heat, The (1995)|4", "u1|i2|3.5", "u2|i2|5"}
	dir := t.TempDir()
	csvBody := "rating,time,item,user,extra\n" +
		"4,10,\"Heat, The (1995)\",u1,x\n" +
		"3.5,11,i2,u1,\n" +
		"5,9,i2,u2,\"y\"\"z\"\n" +
		"2,12,\"12\"\" Single\",u1,\n"
	writeData(t, dir, "r/a.csv", []byte(csvBody))
	writeData(t, dir, "r/a.csv.gz", gzipped(t, []byte(csvBody)))
	writeData(t, dir, "r/semi.txt", []byte("\ufeffuser;item;rating\r\nu1;\"Heat, The (1995)\";4\r\nu1;i2;3.5\r\n\r\nu2;i2;5\r\nu1;\"12\"\" Single\";2\r\n"))
	plain := "u1\tHeat, The (1995)\t4\t10\nu1\ti2\t3.5\t11\nu2\ti2\t5\t9\nu1\t12\" Single\t2\t12\n"
	writeData(t, dir, "r/plain.tsv", []byte(plain))
	abs := writeData(t, t.TempDir(), "elsewhere.data", []byte(plain))
	for _, tc := range []struct {
		name   string
		params []string
	}{
		{"header, any column order", []string{"loader: ratings", "path: r/a.csv", "timestamp: time"}},
		{"gzip", []string{"loader: ratings", "path: r/a.csv.gz"}},
		{"delimiter and CRLF", []string{"loader: ratings", "path: r/semi.txt", `delimiter: ";"`}},
		{"tsv by extension, no quoting, indices", []string{"loader: ratings", "path: r/plain.tsv", "header: false", "quotes: false", "user: 0", "item: 1", "rating: 2", "timestamp: 3"}},
		{"absolute path, tab delimiter", []string{"loader: ratings", "path: " + abs, `delimiter: "\t"`, "header: false", "quotes: false", "user: 0", "item: 1", "rating: 2"}},
		{"tab spelt out", []string{"loader: ratings", "path: r/plain.tsv", "format: csv", "delimiter: tab", "header: false", "quotes: false", "user: 0", "item: 1", "rating: 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := loadRatings(t, dir, append(tc.params, "split: {kind: random, fraction: 0.25, seed: 3}")...)
			if got := allTriples(ds); !slices.Equal(got, want) {
				t.Errorf("ratings %q, want %q", got, want)
			}
			if ds.Test.Len() != 1 || ds.Train.Len() != 3 {
				t.Errorf("%d train, %d test ratings; want 3 and 1", ds.Train.Len(), ds.Test.Len())
			}
			if ds.Ratings.Scale != [2]float32{2, 5} {
				t.Errorf("scale %v, want the data's [2, 5]", ds.Ratings.Scale)
			}
		})
	}
	// A given scale is the dataset's, whatever the data's range.
	ds := loadRatings(t, dir, "loader: ratings", "path: r/a.csv", "scale: [1, 5]")
	if ds.Ratings.Scale != [2]float32{1, 5} {
		t.Errorf("scale %v, want [1, 5]", ds.Ratings.Scale)
	}
}

// Every mistake in a file is a DataError naming the file, the line (or
// row) and the column.
func TestRatingsFileErrors(t *testing.T) {
	head := "user,item,rating,time\n"
	for _, tc := range []struct {
		body   string
		params []string
		line   int // 0: the error names no line
		want   string
	}{
		{head + "u1,i1,4,1\n", []string{"rating: ratng"}, 1, `rating column "ratng" is not in the header (its columns: "user", "item", "rating", "time"; did you mean "rating"?)`},
		{head + "u1,i1,4,1\n", []string{"user: User_ID"}, 1, `user column "User_ID" is not in the header`},
		{head + "u1,i1,4,1\n", []string{"user: USER"}, 1, `did you mean "user"?`},
		{head + "u1,i1,4,1\n", []string{"item: 9"}, 1, "item column index 9 is out of range: the file has 4 columns"},
		{head + "u1,i1,4,1\nu2,i1,6,2\n", []string{"scale: [1, 5]"}, 3, `rating 6 is outside the scale [1, 5] (column "rating")`},
		{head + "u1,i1,4,1\nu2,i1,four,2\n", nil, 3, `rating "four" is not a finite number (column "rating")`},
		{head + "u1,i1,4,1\nu2,i1,Inf,2\n", nil, 3, `rating "Inf" is not a finite number (column "rating")`},
		{head + "u1,i1,4,1\n,i1,3,2\n", nil, 3, `empty user id (column "user")`},
		{head + "u1,i1,4,1\nu2,,3,2\n", nil, 3, `empty item id (column "item")`},
		{head + "u1,i1,4,1\nu2,i1,3\n", nil, 3, "3 comma-separated fields, want 4 (as the header has)"},
		{head + "u1,i1,4,1\nu2,\"i1,3,2\n", nil, 3, "extraneous or missing \" in quoted-field"},
		{head + "u1,i1,4,1\nu2,i1,3,2\nu1,i1,5,3\n", nil, 4, `duplicate rating of item "i1" by user "u1" (first on line 2)`},
		{head + "u1,i1,4,1\nu2,i1,3,soon\n", []string{"timestamp: time"}, 3, `timestamp "soon" is neither a number nor a date such as 2006-01-02, 2006-01-02 15:04:05 or RFC 3339 (column "time")`},
		{head + "u1,i1,4,1\nu2,i1,3,2024-01-02\n", []string{"timestamp: time"}, 3, "mixes numbers and dates"},
		{"u1,i1,4\nu2,i1\n", []string{"header: false", "user: 0", "item: 1", "rating: 2"}, 2, "2 comma-separated fields, want 3 (as the first record has)"},
		{"u1,i1\n", []string{"header: false", "user: 0", "item: 1", "rating: 2"}, 1, "rating column index 2 is out of range"},
		{head + "u1,i1,4,1\nu2,i1," + strings.Repeat("9", 70000) + ",2\n", nil, 3, "line too long"},
		{head, nil, 0, "no ratings"},
		{"", nil, 0, "no ratings"},
	} {
		dir := t.TempDir()
		path := writeData(t, dir, "f/r.csv", []byte(tc.body))
		l, err := buildLoader(dataSection(append([]string{"loader: ratings", "path: f/r.csv"}, tc.params...)...))
		if err != nil {
			t.Fatalf("%v: %v", tc.params, err)
		}
		_, err = l.Load(dir)
		var de *data.DataError
		if !errors.As(err, &de) {
			t.Errorf("%.40q %v: got %v, want a DataError", tc.body, tc.params, err)
			continue
		}
		wantPath := path
		if tc.line > 0 {
			wantPath = fmt.Sprintf("%s:%d", path, tc.line)
		}
		if de.Path != wantPath || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q %v:\n got  %v\n want %s: ...%s...", tc.body, tc.params, err, wantPath, tc.want)
		}
	}
	// A missing file names where pipe looked.
	l, err := buildLoader(dataSection("loader: ratings", "path: nowhere/r.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = l.Load(dir)
	var de *data.DataError
	if !errors.As(err, &de) || de.Path != filepath.Join(dir, "nowhere/r.csv") || !strings.Contains(err.Error(), "file not found") {
		t.Errorf("missing file: %v", err)
	}
}

// Params that cannot work are spec errors at the loader's position,
// before any data is read; split params out of range are caught by their
// tags at their own position.
func TestRatingsFileSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		params []string
		want   string
	}{
		{[]string{"path: r.csv", `delimiter: ";;"`}, `x.yaml:3:11: data.loader: ratings: delimiter must be one character, got ";;"`},
		{[]string{"path: r.csv", `delimiter: '"'`}, "cannot be a quote"},
		{[]string{"path: r.parquet", `delimiter: ";"`}, "delimiter applies to text files, and r.parquet is read as parquet"},
		{[]string{"path: r.csv", "scale: [5, 1]"}, "scale must be [lowest, highest] with lowest < highest, got [5 1]"},
		{[]string{"path: r.csv", "scale: [1, 2, 3]"}, "scale must be [lowest, highest]"},
		{[]string{"path: r.csv", "header: false"}, `user: "user" is not a column index; a text file without a header has its columns numbered from 0`},
		{[]string{"path: r.csv", "item: user"}, `user and item name the same column "user"`},
		{[]string{"path: r.csv", `rating: ""`}, "the rating column must be given"},
		{[]string{"path: r.csv", "format: xlsx"}, `x.yaml:5:11: data.format: "xlsx" is not supported`},
		{[]string{"user: u"}, "x.yaml:3:3: data.path: required field is missing"},
		{[]string{"path: r.csv", "split: {kind: leave_last_out}"}, "split leave_last_out needs a timestamp column, and this loader reads none"},
		{[]string{"path: r.csv", "split: {kind: kfold, k: 5, fold: 5}"}, "x.yaml:3:11: data.loader: ratings: split kfold: fold 5 is out of range: with k = 5, fold is 0..4"},
		{[]string{"path: r.csv", "split: {kind: kfold, k: 1}"}, "x.yaml:5:27: data.split.k: must be at least 2, got 1"},
		{[]string{"path: r.csv", "split: {kind: kfold, fold: -1}"}, "data.split.fold: must be at least 0, got -1"},
		{[]string{"path: r.csv", "split: {kind: random, fraction: 1}"}, "split random: fraction must be strictly between 0 and 1, got 1"},
		{[]string{"path: r.csv", "split: {kind: per_user, fraction: 0}"}, "split per_user: fraction must be strictly between 0 and 1, got 0"},
		{[]string{"path: r.csv", "split: {kind: per_user, fraction: 1.5}"}, "data.split.fraction: must be at most 1, got 1.5"},
		{[]string{"path: r.csv", "split: {kind: leave_last_out, n: 0}"}, "data.split.n: must be at least 1, got 0"},
		{[]string{"path: r.csv", "split: {kind: kfld, k: 5}"}, `x.yaml:5:17: data.split.kind: "kfld" is not supported (did you mean "kfold"?)`},
		{[]string{"path: r.csv", "split: {kind: kfold, k: 5, seeds: 2}"}, `data.split.seeds: unknown field "seeds" (did you mean "seed"?)`},
		{[]string{"path: r.csv", "split: {kind: given}"}, "split given needs its test file"},
		{[]string{"path: r.csv", "split: {kind: kfold, fraction: 0.2}"}, "split kfold takes k, fold, seed; fraction does not apply"},
		{[]string{"path: r.csv", "split: {k: 5}"}, "data.split.kind: required field is missing"},
		{[]string{"path: r.csv", "split: kfold"}, "data.split: want a mapping"},
		{[]string{"path: r.csv", "test_fraction: 0.2", "split: {kind: kfold, k: 5}"}, "test_fraction (0.2) applies only without split:"},
	} {
		_, err := buildLoader(dataSection(append([]string{"loader: ratings"}, tc.params...)...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v:\n got  %v\n want ...%s...", tc.params, err, tc.want)
		}
	}
}

// The cache checksums what the loader reads: the file itself, the folder
// of a given split's files, and nothing (an impossible path, so that pipe
// loads without caching) for files outside the data directory.
func TestRatingsFileFolder(t *testing.T) {
	for _, tc := range []struct {
		params []string
		want   string
	}{
		{[]string{"path: mine/r.csv"}, "mine/r.csv"},
		{[]string{"path: mine/./r.csv"}, "mine/r.csv"},
		{[]string{"path: mine/u1.base", "split: {kind: given, test: u1.test}"}, "mine"},
		{[]string{"path: mine/u1.base", "split: {kind: given, test: ../u1.test}"}, "\x00"},
		{[]string{"path: /data/r.csv"}, "\x00"},
	} {
		l, err := buildLoader(dataSection(append([]string{"loader: ratings"}, tc.params...)...))
		if err != nil {
			t.Fatal(err)
		}
		got := l.(loaders.Sourced).Folder()
		if tc.want == "\x00" && !strings.HasPrefix(got, "\x00") || tc.want != "\x00" && got != filepath.FromSlash(tc.want) {
			t.Errorf("%v: Folder() = %q, want %q", tc.params, got, tc.want)
		}
	}
}
