package swar

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestTestsMatchByteByByte checks each test against its definition byte by
// byte, with every byte value at every position of a word (the others
// plain), and PlainString on strings of every length up to 18.
func TestTestsMatchByteByByte(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	plain := func(c byte) bool { return !special(c) && c < 0x80 && c != '<' && c != '>' && c != '&' }
	for pos := range 8 {
		for c := range 256 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			w := Load(b, 0)
			if m := Special(w); (m != 0) != special(byte(c)) || m != 0 && First(m) != pos {
				t.Fatalf("Special(%q) = %x, byte %#x at %d", b, m, c, pos)
			}
			if Plain(w) != plain(byte(c)) {
				t.Fatalf("Plain(%q) = %v", b, Plain(w))
			}
		}
	}
	for n := range 19 {
		for pos := range n {
			for _, c := range []byte{'"', '\\', 0x1f, 0x80, '<', '>', '&', 'x', '~', ' '} {
				s := []byte(strings.Repeat("a", n))
				s[pos] = c
				if got := PlainString(string(s)); got != plain(c) {
					t.Fatalf("PlainString(%q) = %v", s, got)
				}
			}
		}
	}
	if !PlainString("") {
		t.Fatal(`PlainString("") = false`)
	}
}

// SkipPlain stops at the first special byte, wherever it sits, or where
// fewer than eight bytes are left.
func TestSkipPlainStopsAtTheFirstSpecialByte(t *testing.T) {
	for n := range 24 {
		for at := -1; at < n; at++ {
			for _, c := range []byte{'"', '\\', 0x1f} {
				b := []byte(strings.Repeat("a", n))
				want := n - n%8 // nothing special: where fewer than eight are left
				if at >= 0 {
					b[at] = c
					if at < n-n%8 {
						want = at
					}
				}
				if got := SkipPlain(b, 0); got != want {
					t.Fatalf("SkipPlain(%q, 0) = %d, want %d", b, got, want)
				}
			}
		}
	}
}

// TestTestsMatchOnMixedWords checks Special, First and Plain on words of
// several awkward bytes at once (a borrow from one byte must not hide or
// fake another), against their definitions.
func TestTestsMatchOnMixedWords(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	plain := func(c byte) bool { return !special(c) && c < 0x80 && c != '<' && c != '>' && c != '&' }
	pool := []byte{0, 0x1f, 0x20, 0x21, '"', '#', '%', '&', '\'', ';', '<', '=', '>', '?', '[', '\\', ']', 'a', 0x7f, 0x80, 0xa2, 0xbc, 0xdc, 0xff}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		var b [8]byte
		for i := range b {
			b[i] = pool[r.IntN(len(pool))]
		}
		first, allPlain := -1, true
		for i, c := range b {
			if first < 0 && special(c) {
				first = i
			}
			allPlain = allPlain && plain(c)
		}
		w := Load(b[:], 0)
		if m := Special(w); (m != 0) != (first >= 0) || m != 0 && First(m) != first {
			t.Fatalf("Special(%q) = %x, want the first at %d", b, m, first)
		}
		if Plain(w) != allPlain {
			t.Fatalf("Plain(%q) = %v", b, Plain(w))
		}
	}
}
