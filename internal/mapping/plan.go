package mapping

import (
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/segmentio/encoding/json"
)

// plan is what the record engine (record.go) runs: the mapping compiled a
// second time, for the record's bytes instead of a decoded map. It is built
// once by Parse and shared, read-only, by every Evaluator.
type plan struct {
	// ok is false for the mappings the record engine leaves to the map
	// engine entirely: `explode:`, expressions that read `$env` as a
	// whole, flags that would overwrite a field's object.
	ok bool

	keys     []string       // the top-level account keys read (Mapping.keys)
	keyIndex map[string]int // key -> index in keys
	keyTab   keyTable       // keyIndex for the record scan

	filters []fprog
	fields  []fieldPlan
	slots   int      // output leaves: field paths and flags
	root    *outNode // the output object, children in encoding order
	objects int      // output objects (root included): one map each for validation

	required []requiredPlan
}

// fprog is one compiled expression: the closure of the record engine when
// it covers the expression (fast, nil otherwise), and expr's program for
// what it does not cover and for its bails.
type fprog struct {
	fast fnode
	prog *vm.Program
	// What the program reads, to build the machine's environment.
	keys       []int // indexes into plan.keys
	byProvider bool
	merged     bool
}

type fieldPlan struct {
	f        *field
	expr     fprog
	fixed    bool   // expr's value may hold fixedObjs (fixed.go)
	def      *fprog // nil when the field has no default
	slot     int
	flagSlot int // -1 when the field has no flag
	// converted names the password converter whose result the field is,
	// whole (validate.Converted), or is "".
	converted string
}

// outNode is a node of the output: an object (slot -1) or a leaf holding
// one slot. Children are sorted by key, the order json.Marshal writes a
// map in, so the output is written in its final order directly.
type outNode struct {
	key     string
	keyJSON []byte // `"key":` as the encoder writes it
	kids    []*outNode
	slot    int
	obj     int // index of an object node, for its validation map
	// What the validators' walks would learn about the key (validate.RawValue).
	keySize           int
	keyValid, keyMeta bool
}

// requiredPlan is a `required:` path resolved to its output node.
type requiredPlan struct {
	r    *requiredPath
	node *outNode
}

// buildPlan compiles m for the record engine.
func buildPlan(m *Mapping) *plan {
	p := &plan{}
	if m.allKeys || m.explode != "" {
		return p
	}
	p.keys = m.keys
	p.keyIndex = make(map[string]int, len(m.keys))
	for i, k := range m.keys {
		p.keyIndex[k] = i
	}
	p.keyTab = newKeyTable(m.keys)
	c := &fcompiler{keyIndex: p.keyIndex, funcs: helperFuncs()}
	for i := range m.filters {
		p.filters = append(p.filters, p.program(c, m.filters[i].prog))
	}

	// The output leaves: field paths, then flags.
	slotOf := map[string]int{}
	leaf := func(path string) int {
		if s, ok := slotOf[path]; ok {
			return s
		}
		slotOf[path] = len(slotOf)
		return slotOf[path]
	}
	for i := range m.fields {
		f := &m.fields[i]
		c.outRoot = f.prog.Node()
		fp := fieldPlan{f: f, expr: p.program(c, f.prog), slot: leaf(f.Path), flagSlot: -1}
		c.outRoot = nil
		fp.fixed, c.usedFixed = c.usedFixed, false
		fp.converted = converterOf(f.prog.Node())
		if f.def != nil {
			d := p.program(c, f.def)
			fp.def = &d
		}
		p.fields = append(p.fields, fp)
	}
	for i := range p.fields {
		if f := p.fields[i].f; f.Flag != "" {
			p.fields[i].flagSlot = leaf(f.Flag)
		}
	}
	p.slots = len(slotOf)
	p.root = &outNode{slot: -1}
	p.objects = 1
	paths := make([]string, 0, len(slotOf))
	for path := range slotOf {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	for _, path := range paths {
		if !p.addLeaf(strings.Split(path, "."), slotOf[path]) {
			// A flag below a field or another flag: which value wins then
			// depends on the order of the writes. The map engine has that
			// order; such mappings run there.
			return &plan{}
		}
	}
	sortTree(p.root)
	for i := range m.required {
		r := &m.required[i]
		n := p.find(r.segs)
		if n == nil {
			return &plan{} // Parse refuses such a path; be safe anyway
		}
		p.required = append(p.required, requiredPlan{r: r, node: n})
	}
	p.ok = true
	return p
}

// program compiles one expression.
func (p *plan) program(c *fcompiler, prog *vm.Program) fprog {
	fp := fprog{prog: prog}
	c.src = prog.Source()
	fp.fast, _ = c.compile(prog.Node())
	read := map[string]struct{}{}
	inputKeys(prog.Node(), read)
	for k := range read {
		switch k {
		case IdentityVar:
			fp.byProvider = true
		case mergedVar:
			fp.merged = true
		}
		if i, ok := p.keyIndex[k]; ok {
			fp.keys = append(fp.keys, i)
		}
	}
	if fp.byProvider || fp.merged {
		if i, ok := p.keyIndex[identitiesKey]; ok && !slices.Contains(fp.keys, i) {
			fp.keys = append(fp.keys, i)
		}
	}
	slices.Sort(fp.keys)
	return fp
}

// addLeaf adds the leaf at segs; false when it would be inside another leaf
// or hold one.
func (p *plan) addLeaf(segs []string, slot int) bool {
	n := p.root
	for i, seg := range segs {
		var child *outNode
		for _, k := range n.kids {
			if k.key == seg {
				child = k
				break
			}
		}
		last := i == len(segs)-1
		switch {
		case child == nil && last:
			n.kids = append(n.kids, &outNode{key: seg, slot: slot})
			return true
		case child == nil:
			child = &outNode{key: seg, slot: -1, obj: p.objects}
			p.objects++
			n.kids = append(n.kids, child)
		case last || child.slot >= 0:
			return false
		}
		n = child
	}
	return false
}

func sortTree(n *outNode) {
	slices.SortFunc(n.kids, func(a, b *outNode) int { return strings.Compare(a.key, b.key) })
	for _, k := range n.kids {
		k.keyJSON = append(json.AppendEscape(nil, k.key, json.EscapeHTML), ':')
		k.keySize, k.keyValid = validate.StringSize(k.key)
		k.keyMeta = strings.ContainsAny(k.key, ".$")
		sortTree(k)
	}
}

// find returns the node at segs, nil when there is none.
func (p *plan) find(segs []string) *outNode {
	n := p.root
	for _, seg := range segs {
		var next *outNode
		for _, k := range n.kids {
			if k.key == seg {
				next = k
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// keyTable finds the index of a top-level key from its raw bytes: an
// open-addressed table by key signature, sized so that most keys a mapping
// does not read (half of an account's, typically) miss on an empty slot.
// The record scan looks up every top-level key of every record, and a Go
// map hashed each whole key: 2.6k of the 134k instructions per record of
// configs/auth0.yaml.
type keyTable struct {
	slots []keySlot
	shift uint8
}

type keySlot struct {
	sig uint64 // 0: free
	key string
	idx int
}

func newKeyTable(keys []string) keyTable {
	bits := 3
	for 1<<bits < 4*len(keys) {
		bits++
	}
	t := keyTable{slots: make([]keySlot, 1<<bits), shift: uint8(64 - bits)}
	mask := len(t.slots) - 1
	for idx, k := range keys { // distinct keys
		sig := keySigString(k)
		i := int((sig * 0x9E3779B97F4A7C15) >> t.shift)
		for t.slots[i].sig != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = keySlot{sig: sig, key: k, idx: idx}
	}
	return t
}

// lookup returns the index of the key whose unescaped bytes are k.
func (t *keyTable) lookup(k []byte) (int, bool) {
	if len(t.slots) == 0 {
		return 0, false // a plan the record engine does not run
	}
	sig := keySig(k)
	mask := len(t.slots) - 1
	for i := int((sig * 0x9E3779B97F4A7C15) >> t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.sig == 0 {
			return 0, false
		}
		if s.sig == sig && s.key == bstr(k) {
			return s.idx, true
		}
	}
}

// converterOf returns the name of the password converter n calls, when n is
// that call and nothing else (the value the field gets is the converter's
// object as it returned it), or "".
func converterOf(n ast.Node) string {
	call, ok := n.(*ast.CallNode)
	if !ok {
		return ""
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); ok && id.Value == validate.ConverterAuth0 {
		return id.Value
	}
	return ""
}
