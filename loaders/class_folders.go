package loaders

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Class folders, the layout of Keras' image_dataset_from_directory and
// text_dataset_from_directory: one folder per class, named after it,
// holding that class's files (in sub-folders too). Two forms:
//
//	root/<class>/...                 one pool, split by test_fraction
//	root/train/<class>/...           the dataset's own split (aclImdb's),
//	root/test/<class>/...            used when root has train/ and test/
//
// Files directly in root (or in train/, test/) belong to no class and are
// skipped, as are files of other types (aclImdb's README, urls_pos.txt).
//
// Example order, in each split: the classes take turns (the first file of
// each class, then the second of each, ...), each class's files in
// natural order (numbers in names compared as numbers: 2.png before
// 10.png). Any prefix of a split (data.train_limit, a golden run) is then
// balanced; and for aclImdb, whose folders hold ids 0..12499 each, it is
// the order of ids with neg before pos that the imdb loader has always had.

// FolderSplit holds the params that image_folder and text_folder share:
// which class folders to read and how to split them.
type FolderSplit struct {
	Classes      []string `pipe:"classes" doc:"class folder names, in label order (label i is classes[i]); only these folders are read, as Keras' class_names. Empty: every class folder, in sorted order; the number of classes is then known only once the data is read"`
	TestFraction float64  `pipe:"test_fraction,min=0,max=0.99" doc:"for a folder without its own train/ and test/, which needs it: the fraction held out at random as the test split, int(fraction x files) of each class (stratify) or of all, as Keras' validation_split; 0 where the folder has train/ and test/"`
	SplitSeed    int      `pipe:"split_seed" doc:"seed of the test_fraction split"`
	Stratify     bool     `pipe:"stratify" doc:"hold out test_fraction of each class (true) or of all files together (false)"`
}

// DefaultFolderSplit reads every class folder and uses the dataset's own
// split; test_fraction must be set for a folder without one.
func DefaultFolderSplit() FolderSplit { return FolderSplit{SplitSeed: 1, Stratify: true} }

// validate checks the class names: a name is one folder.
func (p FolderSplit) validate() error {
	seen := map[string]bool{}
	for _, c := range p.Classes {
		if c == "" || c == "." || c == ".." || strings.ContainsAny(c, `/\`) || strings.HasPrefix(c, ".") {
			return fmt.Errorf("classes: %q is not a folder name", c)
		}
		if seen[c] {
			return fmt.Errorf("classes: %q is listed twice", c)
		}
		seen[c] = true
	}
	return nil
}

// validateRelPath checks a param that names a place below the data
// directory (or below an archive's top).
func validateRelPath(name, p string, required bool) error {
	if p == "" {
		if required {
			return fmt.Errorf("%s is empty", name)
		}
		return nil
	}
	if path.IsAbs(p) || filepath.IsAbs(p) {
		return fmt.Errorf("%s %q: give it relative to the data directory (--data-dir, PIPE_DATA)", name, p)
	}
	return nil
}

// folderFile is one file read from a class-folder tree, with what the
// loader made of its bytes.
type folderFile[T any] struct {
	rel   []string
	value T
}

// folderExample is one example of a split: a file's value and its label.
type folderExample[T any] struct {
	value T
	label int32
	rel   []string
}

// classTree collects a walk of a class-folder tree: every folder seen and
// the files the loader kept.
type classTree[T any] struct {
	src   treeSource
	split FolderSplit
	noun  string // what the files are, for messages: "images", "reviews"
	// ownSplit says the tree must have train/ and test/ (imdb), so that
	// a missing one is reported as such, not as a want of test_fraction.
	ownSplit bool
	dirs     map[string]bool
	files    []folderFile[T]
}

func newClassTree[T any](src treeSource, split FolderSplit, noun string) *classTree[T] {
	return &classTree[T]{src: src, split: split, noun: noun, dirs: map[string]bool{}}
}

func (t *classTree[T]) addDir(rel []string) { t.dirs[strings.Join(rel, "/")] = true }

// wanted says whether a file can be an example: it sits in a class folder
// of either layout (which one is known only after the walk), of a listed
// class when classes are listed. Files that cannot be are never read.
func (t *classTree[T]) wanted(rel []string) bool {
	listed := func(c string) bool { return len(t.split.Classes) == 0 || slices.Contains(t.split.Classes, c) }
	flat := len(rel) >= 2 && listed(rel[0])
	split := len(rel) >= 3 && (rel[0] == "train" || rel[0] == "test") && listed(rel[1])
	return flat || split
}

func (t *classTree[T]) add(rel []string, v T) {
	t.files = append(t.files, folderFile[T]{rel: slices.Clone(rel), value: v})
}

// splits assigns the files to classes and splits, and orders each split.
func (t *classTree[T]) splits() (train, test []folderExample[T], classes []string, err error) {
	if t.ownSplit || (t.dirs["train"] && t.dirs["test"]) {
		if t.split.TestFraction > 0 {
			return nil, nil, nil, t.src.errAt(nil, true, "has its own train/ and test/ folders; test_fraction %v does not apply (leave it 0)", t.split.TestFraction)
		}
		classes, err = t.classNames([]string{"train", "test"})
		if err != nil {
			return nil, nil, nil, err
		}
		label := labels(classes)
		byClass := [2][][]folderFile[T]{make([][]folderFile[T], len(classes)), make([][]folderFile[T], len(classes))}
		for _, f := range t.files {
			if len(f.rel) < 3 || (f.rel[0] != "train" && f.rel[0] != "test") {
				continue
			}
			if c, ok := label[f.rel[1]]; ok {
				s := 0
				if f.rel[0] == "test" {
					s = 1
				}
				byClass[s][c] = append(byClass[s][c], f)
			}
		}
		for s, prefix := range []string{"train", "test"} {
			if err := t.checkClasses(byClass[s], classes, prefix); err != nil {
				return nil, nil, nil, err
			}
		}
		return interleave(byClass[0]), interleave(byClass[1]), classes, nil
	}

	if t.split.TestFraction == 0 {
		return nil, nil, nil, t.src.errAt(nil, true, "no train/ and test/ folders: set test_fraction to hold out part of each class as the test split")
	}
	classes, err = t.classNames([]string{""})
	if err != nil {
		return nil, nil, nil, err
	}
	label := labels(classes)
	byClass := make([][]folderFile[T], len(classes))
	for _, f := range t.files {
		if c, ok := label[f.rel[0]]; ok {
			byClass[c] = append(byClass[c], f)
		}
	}
	if err := t.checkClasses(byClass, classes, ""); err != nil {
		return nil, nil, nil, err
	}
	trainBy, testBy := t.holdOut(byClass)
	n, nTest := 0, 0
	for c := range classes {
		n += len(trainBy[c]) + len(testBy[c])
		nTest += len(testBy[c])
	}
	if nTest == 0 || nTest == n {
		return nil, nil, nil, t.src.errAt(nil, true, "test_fraction %v of %d %s leaves the train or the test split empty", t.split.TestFraction, n, t.noun)
	}
	return interleave(trainBy), interleave(testBy), classes, nil
}

// labels maps class names to their labels.
func labels(classes []string) map[string]int {
	m := make(map[string]int, len(classes))
	for i, c := range classes {
		m[c] = i
	}
	return m
}

// classNames returns the listed classes, checking that each has a folder
// under every prefix ("" for the flat layout), or else the class folders
// found, sorted, which must be the same under every prefix.
func (t *classTree[T]) classNames(prefixes []string) ([]string, error) {
	under := func(prefix string) []string {
		var found []string
		for d := range t.dirs {
			parts := strings.Split(d, "/")
			if prefix == "" && len(parts) == 1 {
				found = append(found, parts[0])
			} else if prefix != "" && len(parts) == 2 && parts[0] == prefix {
				found = append(found, parts[1])
			}
		}
		slices.Sort(found)
		return found
	}
	at := func(prefix string) []string {
		if prefix == "" {
			return nil
		}
		return []string{prefix}
	}
	if len(t.split.Classes) > 0 {
		// A listed folder that is missing is reported with the empty
		// ones (checkClasses): in an archive the two are the same.
		return t.split.Classes, nil
	}
	classes := under(prefixes[0])
	if len(classes) == 0 {
		return nil, t.src.errAt(at(prefixes[0]), true, "no class folders (one folder of %s per class)", t.noun)
	}
	for _, prefix := range prefixes[1:] {
		if other := under(prefix); !slices.Equal(other, classes) {
			return nil, t.src.errAt(nil, true, "%s/ has class folders %q but %s/ has %q; list the classes to read with classes:", prefixes[0], classes, prefix, other)
		}
	}
	return classes, nil
}

// checkClasses sorts each class's files and checks that none is empty and
// no file appears twice (an archive can hold a name twice).
func (t *classTree[T]) checkClasses(byClass [][]folderFile[T], classes []string, prefix string) error {
	for c, files := range byClass {
		slices.SortFunc(files, func(a, b folderFile[T]) int {
			return naturalCompare(strings.Join(a.rel, "/"), strings.Join(b.rel, "/"))
		})
		folder := []string{classes[c]}
		if prefix != "" {
			folder = []string{prefix, classes[c]}
		}
		if len(files) == 0 {
			switch {
			case t.src.archive:
				return dataErr(t.src.path, "no %s in %s", t.noun, t.src.where(folder, true))
			case !t.dirs[strings.Join(folder, "/")]:
				return t.src.errAt(folder, true, "class folder not found (classes lists %q)", classes[c])
			}
			return t.src.errAt(folder, true, "no %s in this folder", t.noun)
		}
		for i := 1; i < len(files); i++ {
			if slices.Equal(files[i].rel, files[i-1].rel) {
				return t.src.errAt(files[i].rel, false, "appears twice in the archive")
			}
		}
	}
	return nil
}

// holdOut moves a seeded random test_fraction of each class (stratify) or
// of all files to the test split. Each split keeps the natural order.
func (t *classTree[T]) holdOut(byClass [][]folderFile[T]) (train, test [][]folderFile[T]) {
	rng := rand.New(rand.NewPCG(uint64(t.split.SplitSeed), 0xf01de2))
	train, test = make([][]folderFile[T], len(byClass)), make([][]folderFile[T], len(byClass))
	pick := func(n int) []bool { // which of n files go to the test split
		// As Keras' validation_split: int(fraction * n) files.
		held := make([]bool, n)
		for _, i := range rng.Perm(n)[:int(t.split.TestFraction*float64(n))] {
			held[i] = true
		}
		return held
	}
	var all []bool
	if !t.split.Stratify {
		n := 0
		for _, files := range byClass {
			n += len(files)
		}
		all = pick(n)
	}
	for c, files := range byClass {
		held := all
		if t.split.Stratify {
			held = pick(len(files))
		}
		for i, f := range files {
			if held[i] {
				test[c] = append(test[c], f)
			} else {
				train[c] = append(train[c], f)
			}
		}
		if !t.split.Stratify {
			all = all[len(files):]
		}
	}
	return train, test
}

// interleave labels the files of each class with its index and lets the
// classes take turns.
func interleave[T any](byClass [][]folderFile[T]) []folderExample[T] {
	var out []folderExample[T]
	for i := 0; ; i++ {
		added := false
		for c, files := range byClass {
			if i < len(files) {
				out = append(out, folderExample[T]{value: files[i].value, label: int32(c), rel: files[i].rel})
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// naturalCompare orders names as people number files: runs of digits
// compare by their value (2 before 10), the rest byte by byte. Names equal
// that way (07 and 7) fall back to a byte comparison, so the order is total.
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			x, y := strings.TrimLeft(a[si:i], "0"), strings.TrimLeft(b[sj:j], "0")
			if c := cmp.Or(cmp.Compare(len(x), len(y)), strings.Compare(x, y)); c != 0 {
				return c
			}
			continue
		}
		if c := cmp.Compare(a[i], b[j]); c != 0 {
			return c
		}
		i, j = i+1, j+1
	}
	return cmp.Or(cmp.Compare(len(a)-i, len(b)-j), strings.Compare(a, b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
