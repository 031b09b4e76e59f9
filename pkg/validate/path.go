package validate

import (
	"strconv"
	"strings"
	"unicode"
)

// pathNode is one step of the path to a value, linked to its parent. The
// checks create nodes as locals on their own stack frames and render a path
// only when they report something, so validating a valid user builds no
// strings.
type pathNode struct {
	parent *pathNode
	key    string
	index  int
	isIdx  bool
}

// member returns the node of key k under p.
func member(p *pathNode, k string) pathNode { return pathNode{parent: p, key: k} }

// elem returns the node of index i under p.
func elem(p *pathNode, i int) pathNode { return pathNode{parent: p, index: i, isIdx: true} }

// String renders the path as documented on [Violation.Path].
func (p *pathNode) String() string {
	if p == nil {
		return ""
	}
	var steps [16]*pathNode
	chain := steps[:0]
	for n := p; n != nil; n = n.parent {
		chain = append(chain, n)
	}
	var b strings.Builder
	for i := len(chain) - 1; i >= 0; i-- {
		n := chain[i]
		switch {
		case n.isIdx:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(n.index))
			b.WriteByte(']')
		case plainKey(n.key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(n.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(n.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// plainKey reports whether k can be written after a dot without making the
// path ambiguous.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		switch {
		case r == '.' || r == '[' || r == ']' || r == '"' || r == '\\':
			return false
		case r == '_' || r == '-' || r == '$' || r == '@' || r == ':' || r == '|':
		case r == 0xFFFD || !unicode.IsLetter(r) && !unicode.IsDigit(r):
			// Spaces, punctuation, controls and bytes that are not UTF-8
			// (decoded as U+FFFD) are quoted so they show up clearly.
			return false
		}
	}
	return true
}
