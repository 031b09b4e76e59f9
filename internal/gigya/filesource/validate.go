package filesource

import (
	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/swar"
)

// vresult is the outcome of validate.
type vresult int

const (
	vOK       vresult = iota // a complete, valid value of n bytes
	vMore                    // the input ends inside the value
	vSyntax                  // a syntax error at byte n
	vTooDeep                 // more than maxDepth nested objects and arrays at byte n
	vResults                 // findResults: a top-level "results" member; its value follows byte n
	vTooLarge                // set by scanner.value: the value outgrew maxRecordSize
)

// Parser states of validate.
const (
	sValue  = iota // a value is expected
	sMember        // a member name is expected
	sAfter         // a value has ended
)

// keySpans collects, for validate, where the members of the outermost
// object that may hold the account's key (gigya.MayBeKeyName) start and end
// in b: pairs of offsets, in order.
type keySpans struct {
	spans []int
	open  int // the start of the member whose value is being read; -1: none
}

// validate checks the JSON value at the start of b (RFC 8259, as strictly as
// encoding/json.Valid, which like it does not check UTF-8) and returns its
// length. It is a one-pass, non-recursive validator written because
// segmentio's json.Valid measured 185 MB/s on accounts with non-ASCII names
// or escapes (stdlib: 280 MB/s), and validation is most of the work here.
//
// With stopNL a newline is not whitespace but an error, for JSON lines. With
// final the input ends at len(b), so a number may end there. With findResults
// validate stops after the ':' of a "results" member of the outermost object
// (vResults), where the caller takes over to stream the array. stack is
// scratch space for the open brackets and is returned for reuse. With keys
// it also notes the members that may hold the account's key, so that the
// extractor need not scan the account again to find them.
func validate(b []byte, stopNL, final, findResults bool, stack []byte, keys *keySpans) (int, vresult, []byte) {
	stack = stack[:0]
	if keys != nil {
		keys.spans, keys.open = keys.spans[:0], -1
	}
	n := len(b)
	i := 0
	state := sValue
	for {
		switch state {
		case sValue:
			if i >= n {
				return i, vMore, stack
			}
			switch c := b[i]; {
			case c == '{' || c == '[':
				if len(stack) == maxDepth {
					return i, vTooDeep, stack
				}
				closer := byte('}')
				state = sMember
				if c == '[' {
					closer, state = ']', sValue
				}
				stack = append(stack, closer)
				if i = skipWS(b, i+1, stopNL); i >= n {
					return i, vMore, stack
				}
				if b[i] == closer {
					stack = stack[:len(stack)-1]
					i++
					state = sAfter
				}
			case c == '"':
				var r vresult
				if i, r = scanString(b, i); r != vOK {
					return i, r, stack
				}
				state = sAfter
			case c == '-' || c >= '0' && c <= '9':
				var r vresult
				if i, r = scanNumber(b, i, final); r != vOK {
					return i, r, stack
				}
				state = sAfter
			case c == 't' || c == 'f' || c == 'n':
				var r vresult
				if i, r = scanLiteral(b, i); r != vOK {
					return i, r, stack
				}
				state = sAfter
			default:
				return i, vSyntax, stack
			}
		case sMember:
			if b[i] != '"' {
				return i, vSyntax, stack
			}
			start := i
			var r vresult
			if i, r = scanString(b, i); r != vOK {
				return i, r, stack
			}
			results := findResults && len(stack) == 1 && string(b[start:i]) == `"results"`
			if keys != nil && len(stack) == 1 && gigya.MayBeKeyName(b[start+1:i-1]) {
				keys.open = start
			}
			if i = skipWS(b, i, stopNL); i >= n {
				return i, vMore, stack
			}
			if b[i] != ':' {
				return i, vSyntax, stack
			}
			if i++; results {
				return i, vResults, stack
			}
			i = skipWS(b, i, stopNL)
			state = sValue
		case sAfter:
			if keys != nil && keys.open >= 0 && len(stack) == 1 {
				keys.spans = append(keys.spans, keys.open, i)
				keys.open = -1
			}
			if len(stack) == 0 {
				return i, vOK, stack
			}
			if i = skipWS(b, i, stopNL); i >= n {
				return i, vMore, stack
			}
			closer := stack[len(stack)-1]
			switch b[i] {
			case ',':
				if i = skipWS(b, i+1, stopNL); i >= n {
					return i, vMore, stack
				}
				state = sValue
				if closer == '}' {
					state = sMember
				}
			case closer:
				stack = stack[:len(stack)-1]
				i++
			default:
				return i, vSyntax, stack
			}
		}
	}
}

// skipWS returns the index of the first non-blank byte at or after i. With
// stopNL a newline counts as non-blank.
func skipWS(b []byte, i int, stopNL bool) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\r':
		case '\n':
			if stopNL {
				return i
			}
		default:
			return i
		}
	}
	return i
}

// scanString checks the string whose opening quote is b[i] and returns the
// index after its closing quote. Eight bytes at a time it looks for a quote,
// a backslash or a control byte; the lowest flagged byte is exact, because
// the borrows of the zero-byte test only run upwards.
func scanString(b []byte, i int) (int, vresult) {
	n := len(b)
	i++
	for {
		if i = swar.SkipPlain(b, i); i >= n {
			return i, vMore
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, vOK
		case c == '\\':
			if i+1 >= n {
				return i, vMore
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= n {
						return k, vMore
					}
					if !isHex(b[k]) {
						return k, vSyntax
					}
				}
				i += 6
			default:
				return i + 1, vSyntax
			}
		case c < 0x20:
			return i, vSyntax
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber checks the number starting at b[i]. Unless final, a number that
// reaches the end of b may go on in the next read.
func scanNumber(b []byte, i int, final bool) (int, vresult) {
	n := len(b)
	if b[i] == '-' {
		i++
	}
	if i >= n {
		return i, vMore
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = digits(b, i+1)
	default:
		return i, vSyntax
	}
	if i < n && b[i] == '.' {
		if i++; i >= n {
			return i, vMore
		}
		if b[i] < '0' || b[i] > '9' {
			return i, vSyntax
		}
		i = digits(b, i+1)
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= n {
			return i, vMore
		}
		if b[i] < '0' || b[i] > '9' {
			return i, vSyntax
		}
		i = digits(b, i+1)
	}
	if i >= n && !final {
		return i, vMore
	}
	return i, vOK
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral checks the true, false or null that starts at b[i].
func scanLiteral(b []byte, i int) (int, vresult) {
	lit := "null"
	switch b[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	}
	for k := range len(lit) {
		if i+k >= len(b) {
			return i + k, vMore
		}
		if b[i+k] != lit[k] {
			return i + k, vSyntax
		}
	}
	return i + len(lit), vOK
}
