package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// engineRevision is hashed into every [Mapping.Version]. Bump it when the
// engine's evaluation semantics change in a way that changes outputs for an
// unchanged mapping file (nil-safety rules, nil omission, JSON number
// decoding, ...): the new outputs then get new message ids instead of being
// dropped by the stream's duplicate window as replays of the old ones.
//
// Revision 2: empty strings, arrays and objects are omitted by default
// (omit_empty), identities views, field specs.
const engineRevision = "2"

// versionLen is the number of hex characters of the SHA-256 kept: 48 bits, so
// a collision between two mappings of one migration is negligible, while the
// id stays short in message ids and headers.
const versionLen = 12

// computeVersion hashes the normalised mapping: target, fields in order,
// filters in order, required paths as a set, each expression normalised by
// normalizeExpr. The encoding is length-prefixed (no separator ambiguity)
// and built only from ordered slices, so it is the same in every process,
// platform and Go version.
func computeVersion(doc *document) string {
	var b []byte
	str := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, ',')
	}
	str("gigya-migrate/mapping")
	str(strconv.Itoa(FormatVersion))
	str(engineRevision)
	str("target")
	str(doc.target)
	str("fields")
	str(strconv.Itoa(len(doc.fields)))
	for _, f := range doc.fields {
		str(f.Path)
		str(normalizeExpr(f.Expr))
		str(normalizeExpr(f.Default))
		str(f.OnError)
		if f.FlagValue != nil {
			// Only when set, so that the version of a mapping without one
			// does not change; a path has no control characters, so NUL
			// separates the two unambiguously.
			str(fmt.Sprintf("%s\x00%T:%v", f.Flag, f.FlagValue, f.FlagValue))
		} else {
			str(f.Flag)
		}
	}
	str("options")
	str(strconv.FormatBool(doc.omitEmpty))
	str(doc.explode)
	str(doc.validate)
	str(strings.Join(doc.repairs, ","))
	str("filters")
	str(strconv.Itoa(len(doc.filters)))
	for _, f := range doc.filters {
		str(f.Name)
		str(normalizeExpr(f.When))
	}
	req := make([]string, 0, len(doc.required))
	for _, r := range doc.required {
		req = append(req, r.Path)
	}
	slices.Sort(req) // a set: its order means nothing
	str("required")
	str(strconv.Itoa(len(req)))
	for _, r := range req {
		str(r)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:versionLen]
}

// normalizeExpr returns a canonical text of an expression that keeps its
// token sequence but not its layout: comments are dropped, every run of
// whitespace becomes one space, whitespace next to ( ) [ ] { } , ; is
// dropped, and the ends are trimmed. String literals are copied verbatim.
//
// Folding a long expression over several YAML lines, switching between
// plain, quoted and block scalars, or re-indenting therefore keeps the
// version, while any change to a token (an identifier, an operator, a
// literal) changes it. It is a scanner of expr's lexical rules (quotes,
// backquote raw strings with a doubled backquote as an escaped one, // and /* */
// comments), deliberately not expr's own lexer or printer, so an expr
// upgrade cannot change the versions of existing mappings.
func normalizeExpr(src string) string {
	var out strings.Builder
	out.Grow(len(src))
	pendingSpace := false
	var last rune
	emit := func(r rune) {
		if pendingSpace && out.Len() > 0 && !tight(last) && !tight(r) {
			out.WriteByte(' ')
		}
		pendingSpace = false
		out.WriteRune(r)
		last = r
	}
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			pendingSpace = true
			i += size
		case r == '/' && strings.HasPrefix(src[i:], "//"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			i += end
			pendingSpace = true
		case r == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				i = len(src)
			} else {
				i += 2 + end + 2
			}
			pendingSpace = true
		case r == '"' || r == '\'':
			emit(r)
			i += size
			for i < len(src) {
				c, n := utf8.DecodeRuneInString(src[i:])
				out.WriteString(src[i : i+n])
				i += n
				if c == '\\' && i < len(src) {
					_, n = utf8.DecodeRuneInString(src[i:])
					out.WriteString(src[i : i+n])
					i += n
					continue
				}
				if c == r {
					break
				}
			}
			last = r
		case r == '`':
			emit(r)
			i += size
			for i < len(src) {
				if src[i] == '`' {
					if i+1 < len(src) && src[i+1] == '`' {
						out.WriteString("``")
						i += 2
						continue
					}
					out.WriteByte('`')
					i++
					break
				}
				out.WriteByte(src[i])
				i++
			}
			last = r
		default:
			emit(r)
			i += size
		}
	}
	return out.String()
}

// tight reports whether r is a single-character token that can never merge
// with a neighbour, so whitespace beside it carries no meaning.
func tight(r rune) bool {
	switch r {
	case '(', ')', '[', ']', '{', '}', ',', ';':
		return true
	}
	return false
}
