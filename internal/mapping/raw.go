package mapping

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"github.com/gigya-migrate/gigya-migrate/internal/swar"
)

// Working on the record's bytes. The record engine (record.go) never builds
// the account as a map: it finds the values its expressions read in the raw
// JSON, decodes only those, and copies the subtrees a mapping passes through
// whole (`data`, `preferences`...) as JSON. The helpers here are the byte
// level of that: spans of values, a validating scan that accepts exactly
// what decode accepts, lookups in objects and arrays, and the writer of a
// canonical copy (raw_emit.go).

// span is the extent of one JSON value in the record: data[start:end].
type span struct{ start, end int }

// valid reports whether the span is set (a key that was found).
func (s span) valid() bool { return s.end > s.start }

// bstr views b as a string without copying. Only for transient use while b
// cannot change: comparisons, map lookups and lookups of the record's own
// keys during one record.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// strEnd finds the end of the string whose content starts at b[i] (after
// the opening quote): the offset after the closing quote, whether it holds
// an escape, and false for a control character or no closing quote (what
// the scanner's str refuses).
func strEnd(b []byte, i int) (end int, escaped, ok bool) {
	for {
		// swar.SkipPlain written out: called here, the engine ran 1.1% more
		// instructions per record (BenchmarkMapAuth0, cachegrind).
		for i+8 <= len(b) {
			if m := swar.Special(swar.Load(b, i)); m != 0 {
				i += swar.First(m)
				break
			}
			i += 8
		}
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
		}
		if i >= len(b) {
			return 0, escaped, false
		}
		switch b[i] {
		case '"':
			return i + 1, escaped, true
		case '\\':
			escaped = true
			i += 2
		default:
			return 0, escaped, false
		}
	}
}

// skipStr skips a string at s.i (its opening quote), as str does.
func (s *scanner) skipStr() bool {
	if s.peek() != '"' {
		return false
	}
	end, _, ok := strEnd(s.b, s.i+1)
	if !ok {
		return false
	}
	s.i = end
	return true
}

// skip skips one value without checking it, as value does (the same
// extent, the same refusals), faster on strings.
func (s *scanner) skip() bool {
	switch s.peek() {
	case '"':
		return s.skipStr()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.skipStr() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}

// The tape. The record engine reads the values of the keys a mapping uses
// once, validating them as decode would, and records their structure in a
// tape: one node per value, in document order, each container followed by
// its members or elements and knowing where its subtree ends. Lookups,
// iterations and the raw copy then work on the tape without scanning the
// bytes again.

// tnode is one value of the tape.
type tnode struct {
	kStart, kEnd int32  // the member's key between its quotes; kEnd 0: no key
	vStart, vEnd int32  // the value
	next         int32  // index of the node after this one's subtree
	ksig         uint64 // keySig of the key (0 for an escaped key: compare it whole)
	flags        uint8
}

// keySig is a cheap signature of a key: its length and first eight bytes.
// Lookups compare signatures before the keys, so that a miss rarely costs
// a string comparison.
func keySig(k []byte) uint64 {
	var w uint64
	if len(k) >= 8 {
		w = binary.LittleEndian.Uint64(k)
	} else {
		for i := len(k) - 1; i >= 0; i-- {
			w = w<<8 | uint64(k[i])
		}
	}
	return w ^ uint64(len(k))<<58 | 1 // never 0
}

func keySigString(k string) uint64 { return keySig(unsafe.Slice(unsafe.StringData(k), len(k))) }

// tnode flags.
const (
	tKeyEscaped = 1 << iota // the key holds an escape
	tEscaped                // a string value that holds an escape
	tSimpleInt              // a number that is digits (and a leading '-') and fits an int64
)

func (n *tnode) span() span { return span{int(n.vStart), int(n.vEnd)} }

// tape parses the value at s.i into t, checking it as decode would: the
// same grammar, the same checks of numbers, escapes and control
// characters. It returns the node's index, or -1 when the value is not
// what decode accepts (or nested deeper than maxRawDepth). kStart and kEnd
// are the node's key (0, 0 for none).
func (s *scanner) tape(t *[]tnode, kStart, kEnd int, keyEsc bool, depth int) int32 {
	if depth > maxRawDepth {
		return -1
	}
	idx := int32(len(*t))
	n := tnode{kStart: int32(kStart), kEnd: int32(kEnd), vStart: int32(s.i)}
	if keyEsc {
		n.flags |= tKeyEscaped
	} else if kEnd > 0 {
		n.ksig = keySig(s.b[kStart:kEnd])
	}
	*t = append(*t, n)
	switch c := s.peek(); {
	case c == '{':
		s.i++
		s.space()
		if !s.consume('}') {
			for {
				s.space()
				ks := s.i
				esc, ok := s.checkString()
				if !ok {
					return -1
				}
				ke := s.i
				s.space()
				if !s.consume(':') {
					return -1
				}
				s.space()
				if s.peek() == '"' && depth < maxRawDepth {
					if !s.tapeString(t, ks+1, ke-1, esc) {
						return -1
					}
				} else if s.tape(t, ks+1, ke-1, esc, depth+1) < 0 {
					return -1
				}
				s.space()
				if s.consume(',') {
					continue
				}
				if !s.consume('}') {
					return -1
				}
				break
			}
		}
	case c == '[':
		s.i++
		s.space()
		if !s.consume(']') {
			for {
				s.space()
				if s.tape(t, 0, 0, false, depth+1) < 0 {
					return -1
				}
				s.space()
				if s.consume(',') {
					continue
				}
				if !s.consume(']') {
					return -1
				}
				break
			}
		}
	case c == '"':
		esc, ok := s.checkString()
		if !ok {
			return -1
		}
		if esc {
			(*t)[idx].flags |= tEscaped
		}
	case c == 't':
		if !s.literal("true") {
			return -1
		}
	case c == 'f':
		if !s.literal("false") {
			return -1
		}
	case c == 'n':
		if !s.literal("null") {
			return -1
		}
	case c == '-' || c >= '0' && c <= '9':
		simple, ok := s.checkNumber()
		if !ok {
			return -1
		}
		if simple {
			(*t)[idx].flags |= tSimpleInt
		}
	default:
		return -1
	}
	nd := &(*t)[idx]
	nd.vEnd = int32(s.i)
	nd.next = int32(len(*t))
	return idx
}

// tapeString is tape for a string value (s.i at its quote), the commonest
// member: one node written whole, without tape's recursion.
func (s *scanner) tapeString(t *[]tnode, kStart, kEnd int, keyEsc bool) bool {
	n := tnode{kStart: int32(kStart), kEnd: int32(kEnd), vStart: int32(s.i)}
	if keyEsc {
		n.flags |= tKeyEscaped
	} else {
		n.ksig = keySig(s.b[kStart:kEnd])
	}
	esc, ok := s.checkString()
	if !ok {
		return false
	}
	if esc {
		n.flags |= tEscaped
	}
	n.vEnd = int32(s.i)
	n.next = int32(len(*t)) + 1
	*t = append(*t, n)
	return true
}

// maxRawDepth bounds the nesting the record engine follows in the bytes. A
// real account nests a handful of levels; anything deeper goes to the map
// engine (and the validators refuse values nested 1,000 levels deep).
const maxRawDepth = 200

func (s *scanner) literal(lit string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.i += len(lit)
		return true
	}
	return false
}

// checkString validates a string as decodeString would, and says whether
// it holds an escape. A string with an escape is decoded by decodeString
// itself (what the JSON library accepts in escapes is its own business);
// escapes are rare in account data.
func (s *scanner) checkString() (escaped, ok bool) {
	if s.peek() != '"' {
		return false, false
	}
	end, escaped, ok := strEnd(s.b, s.i+1)
	if !ok {
		return false, false
	}
	if escaped {
		_, err := s.decodeString()
		return true, err == nil
	}
	s.i = end
	return false, true
}

// checkNumber validates a number as decodeNumber would; simple reports
// digits (with at most a leading '-') short enough for an int64.
func (s *scanner) checkNumber() (simple, ok bool) {
	start := s.i
	simple = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c >= '0' && c <= '9' || c == '-' {
			s.i++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' || c == '+' {
			simple = false
			s.i++
			continue
		}
		break
	}
	text := s.b[start:s.i]
	if !validNumber(bstr(text)) {
		return false, false
	}
	if len(text) == 2 && text[0] == '-' {
		return false, true // -0: the int 0, written 0
	}
	if simple && len(text) <= 18 {
		return true, true // an int64 for sure, written as it is
	}
	sc := scanner{b: s.b[:s.i], i: start}
	v, err := sc.decodeNumber()
	_, isInt := v.(int64)
	return simple && isInt, err == nil
}

// decodeSpan builds the value at sp exactly as the map engine's decoder
// does (a checked value cannot fail, but the error is passed on anyway).
func decodeSpan(data []byte, sp span) (any, error) {
	s := scanner{b: data[:sp.end], i: sp.start}
	return s.decode()
}

// key returns the member key of node n, decoded (a view of the record when
// it has no escape).
func (e *fenv) key(n *tnode) string {
	if n.flags&tKeyEscaped == 0 {
		return bstr(e.data[n.kStart:n.kEnd])
	}
	sc := scanner{b: e.data[:n.kEnd+1], i: int(n.kStart) - 1}
	k, _ := sc.decodeString()
	return k
}

// get returns the last member named key of the object node obj (the last
// one wins, as in a decode), or -1. sig is keySigString(key).
func (e *fenv) get(obj int32, key string, sig uint64) int32 {
	t := e.tape
	found := int32(-1)
	for j, end := obj+1, t[obj].next; j < end; {
		n := &t[j]
		switch n.ksig {
		case sig:
			if bstr(e.data[n.kStart:n.kEnd]) == key {
				found = j
			}
		case 0:
			if e.key(n) == key {
				found = j
			}
		}
		j = n.next
	}
	return found
}

// index returns the element at i of the array node arr (negative counts
// from the end, as expr's get does), or -1.
func (e *fenv) index(arr int32, i int) int32 {
	t := e.tape
	if i < 0 {
		n := 0
		for j, end := arr+1, t[arr].next; j < end; j = t[j].next {
			n++
		}
		if i += n; i < 0 {
			return -1
		}
	}
	for j, end := arr+1, t[arr].next; j < end; j = t[j].next {
		if i == 0 {
			return j
		}
		i--
	}
	return -1
}
