package mapping

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// The record engine: one account's JSON in, the target users' JSON out,
// without building the account as a map. [Evaluator.MapRecord] finds the
// values the expressions read in the raw bytes (plan.go, fast.go), copies
// the subtrees a mapping passes through whole as canonical JSON
// (raw_emit.go), validates the user from those pieces (the validator sees
// raw subtrees as validate.RawValue) and writes the user in its final key
// order into a buffer it reuses.
//
// Its output is the map engine's, byte for byte: [Evaluator.MapJSON] +
// validation + json.Marshal, which the transformer ran before, stays in
// this package as the reference (and as the engine of Map, Apply and
// Explain). The differential tests compare the two on the sample, the fuzz
// corpora and generated accounts. Whatever the record engine cannot
// reproduce exactly it hands to the map engine, for the whole record: a
// record that is not a well-formed object (for the map engine's error
// message), a number out of range, a value it cannot encode, and mappings
// with `explode:` or `$env`. The expressions it does not cover run on expr's
// machine within the record engine (fast.go).

// Record is what [Evaluator.MapRecord] makes of one account.
type Record struct {
	// Outputs are the users as JSON: one, or with `explode:` one per
	// element; none when the record is skipped. They are the evaluator's
	// buffers: valid until its next MapRecord, so copy what must outlive it.
	Outputs [][]byte
	// Skip names why the record produced nothing: the first matching
	// filter, or SkipExplodeEmpty. "" otherwise.
	Skip string
	// Notes lists the fields an `on_error: omit` policy dropped (valid
	// until the next MapRecord, like Outputs).
	Notes []Note
	// Warnings are the validator's warnings ("path: rule: message") and the
	// repairs it made ("repaired path: rule: message"), which do not stop
	// the user.
	Warnings []string
}

// WithValidator makes [Evaluator.MapRecord] check every user against v (a
// target's import rules) before it is encoded; nil checks nothing. It
// returns e.
func (e *Evaluator) WithValidator(v validate.Validator) *Evaluator {
	e.validator = v
	return e
}

// MapRecord maps one account, given as JSON, to the target's users as JSON,
// validated when the evaluator has a validator ([Evaluator.WithValidator]).
// It is what [Evaluator.MapJSON], the validation and json.Marshal of each
// output do together, with the same results, errors, notes and warnings,
// without building maps.
//
// Its errors are permanent and coded ([fault.Error]): invalid_json,
// required_missing, mapping_failed, schema_violation (the validator's),
// encode_failed, or a helper's own code such as unsupported_password_hash
// ([ErrorCode]).
//
// data is never modified. Values are not copied out of it: the notes and
// errors MapRecord returns may quote it (a helper's error naming a value),
// so do not modify data while they are in use.
func (e *Evaluator) MapRecord(data []byte) (Record, error) {
	if e.m.plan.ok {
		if e.rec == nil {
			e.rec = newRecState(e.m.plan, e)
		}
		if r, err, ok := e.rec.mapRecord(data); ok {
			return r, err
		}
		e.rec.fallbacks++
	}
	return e.mapByMaps(data)
}

// Fallbacks returns how many records MapRecord handed to the map engine
// since the evaluator was created (see the comment on the record engine);
// tests use it to check that the record engine does the work.
func (e *Evaluator) Fallbacks() int {
	if e.rec == nil {
		return 0
	}
	return e.rec.fallbacks
}

// mapByMaps is MapRecord by the map engine: decode, Map, validate and
// json.Marshal each output, as the transformer did before the record engine.
func (e *Evaluator) mapByMaps(data []byte) (Record, error) {
	r, err := e.MapJSON(data)
	if err != nil {
		return Record{}, fault.Permanent(ErrorCode(err), err)
	}
	rec := Record{Skip: r.Skip, Notes: r.Notes}
	for i, out := range r.Outputs {
		if e.validator != nil {
			res := e.validator.Validate(out)
			if err := res.Err(); err != nil {
				if len(r.Outputs) > 1 {
					err = fmt.Errorf("output %d of %d: %w", i+1, len(r.Outputs), err)
				}
				return Record{}, err
			}
			rec.Warnings = appendFindings(rec.Warnings, res)
		}
		b, err := json.Marshal(out)
		if err != nil {
			return Record{}, fault.Permanent("encode_failed", err)
		}
		rec.Outputs = append(rec.Outputs, b)
	}
	return rec, nil
}

// appendFindings formats a validation's warnings and repairs.
func appendFindings(notes []string, r validate.Result) []string {
	for _, w := range r.Warnings {
		notes = append(notes, fmt.Sprintf("%s: %s: %s", w.Path, w.Rule, w.Message))
	}
	for _, w := range r.Repaired {
		notes = append(notes, fmt.Sprintf("repaired %s: %s: %s", w.Path, w.Rule, w.Message))
	}
	return notes
}

// ErrorCode names a mapping failure for the dead-letter header: a code
// carried by the error (a helper's, such as unsupported_password_hash; the
// validator's schema_violation) wins over the generic ones.
func ErrorCode(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	switch {
	case errors.Is(err, ErrDecode):
		return "invalid_json"
	case errors.Is(err, ErrRequired):
		return "required_missing"
	default:
		return "mapping_failed"
	}
}

// recState is one Evaluator's record engine: everything a record needs,
// reused from record to record.
type recState struct {
	p   *plan
	ev  *Evaluator
	env fenv

	slots    []slotVal
	raws     []rawSlot // one per slot, for raw values
	scratch  []byte    // the JSON of raw slots
	out      []byte    // the user being written
	outputs  [][]byte
	notes    []Note
	enc      encoder
	w        rawWriter
	objs     []map[string]any // per output object: the members as a map, when asked
	user     validate.Fields  // the user as the validator sees it
	objSlots []objSlot        // per output object below the root

	// The machine's environment, for what the closures do not cover:
	// the keys decoded into it for this record, and whether it has views.
	vmEnv   map[string]any
	vmHave  []bool
	vmViews bool
	vmUsed  bool

	fallbacks int
}

// slotVal is one output leaf of the record being mapped: unset, a Go
// value, or a *rawSlot.
type slotVal struct {
	set bool
	v   any
}

func newRecState(p *plan, ev *Evaluator) *recState {
	st := &recState{
		p: p, ev: ev,
		slots:    make([]slotVal, p.slots),
		raws:     make([]rawSlot, p.slots),
		objs:     make([]map[string]any, p.objects),
		objSlots: make([]objSlot, p.objects),
		vmEnv:    map[string]any{},
		vmHave:   make([]bool, len(p.keys)),
	}
	st.env.tops = make([]int32, len(p.keys))
	st.env.budget = &ev.budget
	st.env.idsKey = -1
	if i, ok := p.keyIndex[identitiesKey]; ok {
		st.env.idsKey = i
	}
	st.w.omit = ev.m.omitEmpty
	st.w.e = &st.env
	for i := range st.raws {
		st.raws[i].st = st
	}
	for i := range st.objs {
		st.objs[i] = map[string]any{}
	}
	return st
}

// mapRecord is MapRecord by the record engine; ok is false when the record
// must go to the map engine (nothing of this attempt is kept).
func (st *recState) mapRecord(data []byte) (r Record, err error, ok bool) {
	st.reset(data)
	if !st.scan(data) {
		return Record{}, nil, false
	}
	ev, p := st.ev, st.p
	st.w.measure = ev.validator != nil
	ev.budget.used = 0

	for i := range p.filters {
		f := &ev.m.filters[i]
		skip, err := st.filter(&p.filters[i])
		if err != nil {
			return Record{}, fault.Permanent(ErrorCode(err), &FieldError{Field: f.Name, Filter: true, Expr: f.When, Err: err}), true
		}
		if skip {
			return Record{Skip: f.Name}, nil, true
		}
	}

	for i := range p.fields {
		fp := &p.fields[i]
		f := fp.f
		v, err := st.eval(&fp.expr)
		if err != nil {
			if f.OnError == OnErrorOmit {
				st.notes = append(st.notes, Note{Field: f.Path, Flag: f.Flag, Err: err})
				if fp.flagSlot >= 0 {
					st.slots[fp.flagSlot] = slotVal{set: true, v: true}
				}
				continue
			}
			return Record{}, st.fail(&FieldError{Field: f.Path, Expr: f.Expr, Err: err}), true
		}
		val, ok := st.settle(fp.slot, v, fp.fixed)
		if !ok {
			return Record{}, nil, false
		}
		if r, isRaw := val.(*rawSlot); isRaw && fp.converted != "" && !(st.ev.m.omitEmpty && needsPrune(v.v)) {
			r.conv = fp.converted // the converter's object, not pruned
		}
		if val == nil && fp.def != nil {
			dv, err := st.eval(fp.def)
			if err != nil {
				return Record{}, st.fail(&FieldError{Field: f.Path, Expr: f.Default, Err: err}), true
			}
			if val, ok = st.settle(fp.slot, dv, false); !ok {
				return Record{}, nil, false
			}
		}
		if val != nil {
			st.slots[fp.slot] = slotVal{set: true, v: val}
		}
	}

	for _, rq := range p.required {
		if st.empty(rq.node) {
			return Record{}, st.fail(&FieldError{Field: rq.r.path, Expr: rq.r.expr, Err: ErrRequired}), true
		}
	}

	rec := Record{Notes: st.notes}
	st.out = st.out[:0]
	repaired := false
	if ev.validator != nil {
		st.fillRoot()
		res := ev.validator.ValidateFields(&st.user)
		if err := res.Err(); err != nil {
			return Record{}, err, true
		}
		if len(res.Warnings)+len(res.Repaired) > 0 {
			rec.Warnings = appendFindings(nil, res)
		}
		if len(res.Repaired) > 0 {
			// A repair replaced values of the user: write what the
			// validator saw, keys sorted at run time.
			repaired = true
			user := st.objs[p.root.obj]
			clear(user)
			for i, k := range st.user.Keys {
				user[k] = st.user.Values[i]
			}
			if st.out, ok = st.enc.value(st.out, user, 0); !ok {
				return Record{}, nil, false
			}
		}
	}
	if !repaired {
		if st.out, ok = st.write(st.out, p.root, 0); !ok {
			return Record{}, nil, false
		}
	}
	st.outputs = append(st.outputs[:0], st.out)
	rec.Outputs = st.outputs
	return rec, nil, true
}

// fail classifies a mapping error as the map engine's caller does.
func (st *recState) fail(err error) error { return fault.Permanent(ErrorCode(err), err) }

// reset prepares for a record.
func (st *recState) reset(data []byte) {
	st.env.reset(data)
	clear(st.slots)
	for i := range st.raws {
		r := &st.raws[i]
		r.val, r.decoded, r.fixed, r.conv = nil, false, false, ""
	}
	st.scratch = st.scratch[:0]
	st.notes = st.notes[:0]
	if st.vmUsed {
		clear(st.vmEnv)
		clear(st.vmHave)
		st.vmViews, st.vmUsed = false, false
	}
}

// scan walks the account's top level as decodeKeys does, recording the
// span of each key the mapping reads (the last one of a repeated key) and
// checking every value of those keys as decodeKeys would decode them. false
// means the map engine must handle the record (it reports the error).
func (st *recState) scan(data []byte) bool {
	s := scanner{b: data}
	s.space()
	if !s.consume('{') {
		return false
	}
	s.space()
	if s.consume('}') {
		return st.end(&s)
	}
	for {
		s.space()
		kStart := s.i
		if !s.skipStr() {
			return false
		}
		rawKey := data[kStart+1 : s.i-1]
		var idx int
		var want bool
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			var key string
			if err := json.Unmarshal(data[kStart:s.i], &key); err != nil {
				return false
			}
			idx, want = st.p.keyIndex[key]
		} else {
			idx, want = st.p.keyTab.lookup(rawKey)
		}
		s.space()
		if !s.consume(':') {
			return false
		}
		s.space()
		if want {
			// tape takes the extent value would, and refuses all that
			// decode would.
			node := s.tape(&st.env.tape, kStart+1, kStart+1+len(rawKey), false, 0)
			if node < 0 {
				return false
			}
			st.env.tops[idx] = node
		} else if !s.skip() {
			return false
		}
		s.space()
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return st.end(&s)
		}
		return false
	}
}

func (st *recState) end(s *scanner) bool {
	s.space()
	if s.i != len(s.b) {
		return false
	}
	st.env.ready()
	return true
}

// eval evaluates one expression: by its closure, or by the machine when
// there is none or it bails.
func (st *recState) eval(fp *fprog) (fval, error) {
	if fp.fast != nil {
		saved := st.ev.budget.used
		st.env.err = nil
		v, ok := fp.fast(&st.env)
		if ok {
			return v, nil
		}
		if err := st.env.err; err != nil {
			st.env.err = nil
			return fval{}, err // a helper failed: the machine's error
		}
		st.ev.budget.used = saved // the machine counts this expression again
	}
	out, err := st.ev.vm.Run(fp.prog, st.machineEnv(fp))
	return fval{v: out}, err
}

// filter evaluates a filter: expr ends a filter program in a cast to bool
// (nil is false, anything else but a bool an error).
func (st *recState) filter(fp *fprog) (bool, error) {
	if fp.fast != nil {
		saved := st.ev.budget.used
		st.env.err = nil
		v, ok := fp.fast(&st.env)
		if ok && !v.isRaw {
			switch b := v.v.(type) {
			case nil:
				return false, nil
			case bool:
				return b, nil
			}
		}
		if err := st.env.err; err != nil {
			st.env.err = nil
			return false, err
		}
		st.ev.budget.used = saved
	}
	out, err := st.ev.vm.Run(fp.prog, st.machineEnv(fp))
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// machineEnv returns the machine's environment with what fp reads decoded
// (as decodeKeys decodes it), the views it uses and the step budget.
func (st *recState) machineEnv(fp *fprog) map[string]any {
	st.vmUsed = true
	env := st.vmEnv
	for _, i := range fp.keys {
		if st.vmHave[i] {
			continue
		}
		st.vmHave[i] = true
		if n := st.env.tops[i]; n >= 0 {
			v, _ := decodeSpan(st.env.data, st.env.tape[n].span()) // checked by scan
			env[st.p.keys[i]] = v
		}
	}
	if (fp.byProvider || fp.merged) && !st.vmViews {
		st.vmViews = true
		addViews(env, st.ev.m.byProvider, st.ev.m.merged)
	}
	env[budgetVar] = &st.ev.budget
	return env
}

// settle turns a field's value into what its slot holds: omit_empty
// applied, a raw value written as JSON into a raw slot. nil means nothing
// (nil or empty); ok is false when a raw value cannot be written exactly.
//
// fixed says v may hold fixedObjs: the validators see them as maps.
func (st *recState) settle(slot int, v fval, fixed bool) (any, bool) {
	if !v.isRaw {
		x := v.v
		if st.ev.m.omitEmpty {
			x = pruned(x)
		}
		if isNil(x) {
			return nil, true
		}
		if !st.w.measure {
			return x, true // encoded when the user is written
		}
		// A validator will see it: encode it now, measuring it on the way,
		// so that the validator's walks need not look into it again.
		f := facts{clean: true}
		off := len(st.scratch)
		out, size, ok := st.enc.measured(st.scratch, x, 0, &f)
		if !ok {
			return nil, false
		}
		st.scratch = out
		r := &st.raws[slot]
		r.src, r.off, r.end, r.size, r.clean, r.meta = -1, off, len(out), size, f.clean, f.meta
		r.val, r.decoded, r.fixed = x, true, fixed
		return r, true
	}
	st.w.clean, st.w.meta = true, false
	off := len(st.scratch)
	out, size, empty, ok := st.w.write(st.scratch, v.node)
	if !ok {
		return nil, false
	}
	if empty {
		st.scratch = out[:off]
		return nil, true
	}
	st.scratch = out
	r := &st.raws[slot]
	r.src, r.off, r.end, r.size, r.clean, r.meta = v.node, off, len(out), size, st.w.clean, st.w.meta
	r.val, r.decoded, r.fixed = nil, false, false
	return r, true
}

// empty is the `required:` test of an output node (isEmpty of what the map
// engine's output holds there).
func (st *recState) empty(n *outNode) bool {
	if n.slot >= 0 {
		s := st.slots[n.slot]
		if !s.set {
			return true
		}
		if r, ok := s.v.(*rawSlot); ok {
			if r.src < 0 {
				return isEmpty(r.val) // a Go value, encoded early
			}
			j := r.json()
			return len(j) == 2 // {} or [] (kept without omit_empty)
		}
		return isEmpty(s.v)
	}
	for _, k := range n.kids {
		if !st.empty(k) {
			return false // an object with a member is not empty
		}
	}
	return true
}

// fillRoot builds the user as the map engine's output holds it, for the
// validator: the root's members as a list (reused), the objects below it as
// objSlots (their maps are built only if the validator asks for them),
// leaves as their values.
func (st *recState) fillRoot() {
	u := &st.user
	u.Keys, u.Values, u.KeySizes = u.Keys[:0], u.Values[:0], u.KeySizes[:0]
	for _, k := range st.p.root.kids {
		if v, ok := st.fill(k); ok {
			u.Keys = append(u.Keys, k.key)
			u.Values = append(u.Values, v)
			size := -1
			if k.keyValid {
				size = k.keySize
			}
			u.KeySizes = append(u.KeySizes, size)
		}
	}
}

// fill is a member of the user for fillRoot: a leaf's value, or an object
// below the root as its objSlot.
func (st *recState) fill(n *outNode) (any, bool) {
	if n.slot >= 0 {
		s := st.slots[n.slot]
		return s.v, s.set
	}
	o := &st.objSlots[n.obj]
	o.filled = false
	ok := o.measure(st, n)
	return o, ok
}

// objSlot is an output object below the root, as the validator sees it: a
// validate.RawValue whose facts come from its members' (their keys are the
// mapping's, known in advance), and whose map is built on demand.
type objSlot struct {
	st          *recState
	node        *outNode
	size        int
	clean, meta bool
	present     bool     // some member is set
	filled      bool     // the map holds this record's members
	keys        []string // the present members' keys, for RawKeys
}

// measure computes the object's facts from its members; false when no
// member is set (the object is absent).
func (o *objSlot) measure(st *recState, n *outNode) bool {
	o.st, o.node = st, n
	o.size, o.clean, o.meta = 0, true, false
	o.keys = o.keys[:0]
	count := 0
	for _, k := range n.kids {
		v, ok := st.fill(k)
		if !ok {
			continue
		}
		o.keys = append(o.keys, k.key)
		var size int
		var clean, meta bool
		switch x := v.(type) {
		case validate.RawValue:
			size, clean, meta = x.RawFacts()
		case bool: // a flag
			size, clean = 4, true
			if !x {
				size = 5
			}
		default: // a value not measured (no validator): let the walks look
			clean = false
		}
		o.size += k.keySize + size
		o.clean = o.clean && clean && k.keyValid
		o.meta = o.meta || meta || k.keyMeta
		count++
	}
	o.size += 2 + 2*count - 1
	o.present = count > 0
	return o.present
}

// RawFacts implements validate.RawValue.
func (o *objSlot) RawFacts() (size int, clean, metaKeys bool) { return o.size, o.clean, o.meta }

// RawKeys implements validate.RawObject.
func (o *objSlot) RawKeys() []string { return o.keys }

// Value implements validate.RawValue: the object as a map of its members.
func (o *objSlot) Value() any {
	m := o.st.objs[o.node.obj]
	if !o.filled {
		o.filled = true
		clear(m)
		for _, k := range o.node.kids {
			if v, ok := o.st.member(k); ok {
				m[k.key] = v
			}
		}
	}
	return m
}

// member is a member of an output object for Value: a leaf's value, or an
// object below, measured by the fill that preceded.
func (st *recState) member(n *outNode) (any, bool) {
	if n.slot >= 0 {
		s := st.slots[n.slot]
		return s.v, s.set
	}
	o := &st.objSlots[n.obj]
	return o, o.present
}

// write appends the output object n in its final order; an object without
// any member set is left out (its key too), except the root.
func (st *recState) write(b []byte, n *outNode, depth int) ([]byte, bool) {
	start := len(b)
	b = append(b, '{')
	count := 0
	for _, k := range n.kids {
		if k.slot >= 0 && !st.slots[k.slot].set {
			continue
		}
		mark := len(b)
		if count > 0 {
			b = append(b, ',')
		}
		b = append(b, k.keyJSON...)
		var ok bool
		if k.slot >= 0 {
			if b, ok = st.enc.value(b, st.slots[k.slot].v, depth+1); !ok {
				return b, false
			}
		} else {
			before := len(b)
			if b, ok = st.write(b, k, depth+1); !ok {
				return b, false
			}
			if len(b) == before {
				b = b[:mark] // no member set below
				continue
			}
		}
		count++
	}
	if count == 0 && n != st.p.root {
		return b[:start], true
	}
	return append(b, '}'), true
}

// rawSlot is a value of an output leaf already written as JSON (in the
// state's scratch buffer): a raw value of the record, or, when a validator
// will see the user, a Go value encoded early. It holds the facts the
// validators use (validate.RawValue).
type rawSlot struct {
	st          *recState
	src         int32 // the tape node copied; -1: a Go value (val)
	off, end    int
	size        int
	clean, meta bool
	val         any
	decoded     bool
	fixed       bool   // val may hold fixedObjs, which Value turns into maps
	conv        string // the converter val is the whole result of (validate.Converted)
}

func (r *rawSlot) json() []byte { return r.st.scratch[r.off:r.end] }

// ConvertedBy implements validate.Converted.
func (r *rawSlot) ConvertedBy() string { return r.conv }

// RawFacts implements validate.RawValue.
func (r *rawSlot) RawFacts() (size int, clean, metaKeys bool) { return r.size, r.clean, r.meta }

// Value implements validate.RawValue: the value as the map engine holds
// it, decoded from the record and with omit_empty applied.
func (r *rawSlot) Value() any {
	if r.fixed {
		r.val, r.fixed = materialize(r.val), false
	}
	if !r.decoded {
		v, _ := decodeSpan(r.st.env.data, r.st.env.tape[r.src].span())
		if r.st.ev.m.omitEmpty {
			v = omitEmpty(v)
		}
		r.val, r.decoded = v, true
	}
	return r.val
}

// pruned is omitEmpty(v), without its cost when nothing is to be dropped:
// omitEmpty boxes every string it visits again, which allocates.
func pruned(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return v
	case bool, int, int64, float64:
		return v
	}
	if needsPrune(v) {
		return omitEmpty(v)
	}
	return v
}

// needsPrune reports whether omitEmpty would drop or change v.
func needsPrune(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool, int, int64, float64:
		return false
	case map[string]any:
		if len(x) == 0 {
			return true
		}
		for _, c := range x {
			if needsPrune(c) {
				return true
			}
		}
		return false
	case []any:
		if len(x) == 0 {
			return true
		}
		for _, c := range x {
			if needsPrune(c) {
				return true
			}
		}
		return false
	case *fixedObj:
		return needsPrune(x.vals) // as for a map: empty, or a member to drop
	}
	return isNil(v)
}
