// Package swar holds the byte tests the JSON scanners and writers run on
// eight bytes at a time (SIMD within a register): the file source's
// validation, the loader's search for unique values and the mapping
// engine's record scan and string writer. Each test loads eight bytes little-endian, so
// the first byte of the slice is the lowest of the word.
package swar

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

const (
	ones = 0x0101010101010101 // one in every byte
	tops = 0x8080808080808080 // every byte's top bit
)

// zero returns a mask with the top bit set in each byte of x that is zero.
// A set bit above a zero byte may be spurious (the borrow runs upwards),
// so only the lowest one is exact, and "any" is exact.
func zero(x uint64) uint64 { return (x - ones) &^ x & tops }

// Load returns the eight bytes of b at i as a word; b[i+7] must exist.
func Load(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

// Special returns a mask whose lowest set bit marks the first byte of w
// that ends the plain part of a JSON string: '"', '\\' or a control byte
// (below 0x20, which JSON forbids unescaped); 0 when there is none.
func Special(w uint64) uint64 {
	return zero(w^(ones*'"')) | zero(w^(ones*'\\')) | (w-ones*0x20)&^w&tops
}

// First returns the index in its word of the byte a mask from Special
// marks.
func First(mask uint64) int { return bits.TrailingZeros64(mask) / 8 }

// SkipPlain returns the index of the first byte at or after i in b that
// Special marks, or the first index from which fewer than eight bytes are
// left (the caller reads those one by one): the string scanners' skip over
// the plain part of a JSON string.
func SkipPlain(b []byte, i int) int {
	for i+8 <= len(b) {
		if m := Special(Load(b, i)); m != 0 {
			return i + First(m)
		}
		i += 8
	}
	return i
}

// Plain reports whether the encoder writes every byte of w as it is inside
// a JSON string: ASCII from the space up, without '"', '\\' or the
// characters it escapes for HTML (<, >, &).
func Plain(w uint64) bool {
	// Pairs of the bytes to find differ in one bit, so one test covers two:
	// c|4 is 0x26 only for '"' (0x22) and '&' (0x26), c|2 is 0x3e only for
	// '<' (0x3c) and '>' (0x3e). Cheap enough to be inlined.
	return (w&tops | (w-ones*0x20)&^w&tops |
		zero((w|ones*0x04)^(ones*0x26)) | zero((w|ones*0x02)^(ones*0x3e)) | zero(w^(ones*'\\'))) == 0
}

// PlainString reports whether every byte of s passes Plain.
func PlainString(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !Plain(loadString(s, i)) {
			return false
		}
	}
	switch {
	case i == len(s):
		return true
	case len(s) >= 8: // the last eight bytes, overlapping checked ones
		return Plain(loadString(s, len(s)-8))
	}
	// Fewer than eight bytes: loaded under a filler that is plain.
	w := uint64(0x6161616161616161) << (8 * len(s))
	for k := len(s) - 1; k >= 0; k-- {
		w |= uint64(s[k]) << (8 * k)
	}
	return Plain(w)
}

func loadString(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), len(s))[i:]) // read only
}
