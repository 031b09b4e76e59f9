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
	var b strings.Builder
	p.render(&b)
	return b.String()
}

// render writes the path to b, root first. It recurses instead of
// collecting the nodes in a slice, so that the nodes do not escape to the
// heap: they are locals of the checks that create them.
func (p *pathNode) render(b *strings.Builder) {
	if p.parent != nil {
		p.parent.render(b)
	}
	renderStep(b, pathSeg{key: p.key, index: p.index, isIdx: p.isIdx})
}

// pathSeg is one step of the path below a walk's base node. The recursive
// walks keep their steps in a stack (checker.stack) instead of linked
// nodes: Go's escape analysis cannot keep nodes that point to their
// caller's node on the stack through recursion, and would allocate one per
// value visited.
type pathSeg struct {
	key   string
	index int
	isIdx bool
}

// renderStep writes one step of a path.
func renderStep(b *strings.Builder, s pathSeg) {
	switch {
	case s.isIdx:
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(s.index))
		b.WriteByte(']')
	case plainKey(s.key):
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	default:
		b.WriteByte('[')
		b.WriteString(strconv.Quote(s.key))
		b.WriteByte(']')
	}
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
