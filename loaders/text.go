package loaders

import (
	"bytes"
	"cmp"
	"slices"
)

// Text to word indices, by the rules of Keras' preprocessed IMDB
// (keras.datasets.imdb) and keras.preprocessing.text.
//
// Tokenizing, byte by byte (all rules are ASCII, so the bytes of a UTF-8
// multi-byte character are never split or changed):
//
//   - With stripBR, each "<br />" (any letter case) becomes a space.
//   - ASCII letters A-Z are lower-cased; nothing else is: Keras' word index
//     was built with an ASCII-only lower() and keeps words like "Ángela".
//   - These bytes separate words and are dropped, the default filters of
//     keras.preprocessing.text.Tokenizer plus ASCII white space:
//     ! " # $ % & ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~
//     space, tab, newline, carriage return, vertical tab, form feed.
//   - Everything else is part of a word: letters, digits, the apostrophe
//     (so "don't" and "'cause" are words), and all non-ASCII characters,
//     non-ASCII spaces such as U+0085 and U+00A0 included.
//
// These rules rebuild imdb_word_index.json exactly from the training
// reviews when "<br />" is kept: the same 88,584 words, and ranks that never
// contradict the training counts (the word "br" is rank 7).
//
// Indices follow Keras' index_from=3: 0 is padding, 1 starts every
// sequence, 2 is out of vocabulary, and the word of rank r (1 = most
// frequent) is r + 3. With numWords > 0 an index >= numWords becomes 2, as
// in Keras' [w if w < num_words else oov_char].
const (
	textPad       = 0
	textStart     = 1
	textOOV       = 2
	textIndexFrom = 3
)

// textSeparators marks the bytes that end a word and are dropped.
var textSeparators = func() (t [256]bool) {
	for _, c := range []byte("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\v\f") {
		t[c] = true
	}
	return t
}()

var textBR = []byte("<br />")

// textTokenize calls word for each word of text, in order. The slice passed
// to word is reused: copy it to keep it.
func textTokenize(text []byte, stripBR bool, word func([]byte)) {
	var buf [64]byte
	w := buf[:0]
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '<' && stripBR && len(text)-i >= len(textBR) && bytes.EqualFold(text[i:i+len(textBR)], textBR) {
			i += len(textBR) - 1
			c = ' '
		}
		if textSeparators[c] {
			if len(w) > 0 {
				word(w)
				w = w[:0]
			}
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		w = append(w, c)
	}
	if len(w) > 0 {
		word(w)
	}
}

// textVocab gives each distinct word a dense id, in order of first sight.
type textVocab struct {
	ids   map[string]int32
	words []string
}

func newTextVocab() *textVocab { return &textVocab{ids: map[string]int32{}} }

func (v *textVocab) id(w []byte) int32 {
	if id, ok := v.ids[string(w)]; ok { // no allocation for a known word
		return id
	}
	id := int32(len(v.words))
	v.ids[string(w)] = id
	v.words = append(v.words, string(w))
	return id
}

// tokens appends to dst the ids of the words of text.
func (v *textVocab) tokens(text []byte, stripBR bool, dst []int32) []int32 {
	textTokenize(text, stripBR, func(w []byte) { dst = append(dst, v.id(w)) })
	return dst
}

// textFrequencyRanks ranks the words of a vocabulary of n ids by how often
// they occur in docs: rank 1 is the most frequent. Ties go to the word
// that occurs first when reading docs in order, which is what Keras'
// Tokenizer does (a stable sort of counts kept in first-seen order).
// Words absent from docs get rank 0.
func textFrequencyRanks(n int, docs [][]int32) []int32 {
	counts := make([]int, n)
	var seen []int32 // ids in order of first occurrence
	for _, doc := range docs {
		for _, id := range doc {
			if counts[id] == 0 {
				seen = append(seen, id)
			}
			counts[id]++
		}
	}
	slices.SortStableFunc(seen, func(a, b int32) int { return cmp.Compare(counts[b], counts[a]) })
	ranks := make([]int32, n)
	for i, id := range seen {
		ranks[id] = int32(i + 1)
	}
	return ranks
}

// textIndices appends to dst the Keras indices of doc: the start index,
// then each word's rank + 3, or the OOV index for a word without rank or
// with an index >= numWords (when numWords > 0).
func textIndices(dst []int32, doc []int32, ranks []int32, numWords int) []int32 {
	dst = append(dst, textStart)
	for _, id := range doc {
		idx := int32(textOOV)
		if r := ranks[id]; r > 0 {
			idx = r + textIndexFrom
			if numWords > 0 && int(idx) >= numWords {
				idx = textOOV
			}
		}
		dst = append(dst, idx)
	}
	return dst
}
