package gigyasim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The query subset (see doc.go):
//
//	SELECT <* | path, path, ...> FROM <accounts | emailAccounts>
//	  [WHERE <cond> [AND <cond>]...]
//	  [ORDER BY lastUpdatedTimestamp [ASC | DESC]]
//	  [LIMIT n]
//
//	cond := field op value, op in > >= < <= = !=,
//	value := number | "double-quoted string" | true | false
//
// Anything else is rejected with a queryError whose text names the part the
// simulator does not support, so that a client bug shows up as errorCode
// 400006 instead of silently different results.

// queryError is an unsupported or malformed query; its text goes into
// errorDetails of a 400006.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func qerr(format string, args ...any) error {
	return &queryError{msg: "query: " + fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tIdent tokKind = iota + 1
	tNumber
	tString
	tOp
	tComma
	tStar
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string // identifier, operator, number text, or unquoted string value
	pos  int    // byte offset in the query
}

func (t token) String() string {
	if t.kind == tString {
		return strconv.Quote(t.text)
	}
	return t.text
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c == '@' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c == '.' || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lex(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			toks = append(toks, token{tIdent, q[i:j], i})
			i = j
		case isDigit(c) || (c == '-' && i+1 < len(q) && isDigit(q[i+1])):
			j := i + 1
			for j < len(q) && (isDigit(q[j]) || q[j] == '.') {
				j++
			}
			toks = append(toks, token{tNumber, q[i:j], i})
			i = j
		case c == '"':
			var sb strings.Builder
			j := i + 1
			for ; j < len(q) && q[j] != '"'; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				sb.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, qerr("unterminated string starting at position %d", i)
			}
			toks = append(toks, token{tString, sb.String(), i})
			i = j + 1
		case c == '\'':
			return nil, qerr("single-quoted string at position %d is not supported: use double quotes", i)
		case c == '>' || c == '<' || c == '!' || c == '=':
			j := i + 1
			if j < len(q) && (q[j] == '=' || (c == '<' && q[j] == '>')) {
				j++
			}
			op := q[i:j]
			if op == "!" || op == "<>" || op == "==" {
				return nil, qerr("operator %q at position %d is not supported (use > >= < <= = !=)", op, i)
			}
			toks = append(toks, token{tOp, op, i})
			i = j
		case c == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case c == '*':
			toks = append(toks, token{tStar, "*", i})
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		default:
			return nil, qerr("unexpected character %q at position %d", c, i)
		}
	}
	return toks, nil
}

// Keywords of the full Gigya query language that the subset rejects by name.
var unsupportedKeywords = map[string]string{
	"OR":       "OR (only AND is simulated)",
	"NOT":      "NOT",
	"IN":       "IN (...)",
	"IS":       "IS NULL / IS NOT NULL",
	"CONTAINS": "CONTAINS",
	"REGEX":    "regex(...)",
	"LIKE":     "LIKE",
	"BETWEEN":  "BETWEEN",
	"FILTER":   "FILTER",
	"GROUP":    "GROUP BY",
	"HAVING":   "HAVING",
	"START":    "START (use openCursor for paging)",
	"AS":       "AS aliases",
	"JOIN":     "JOIN",
	"UNION":    "UNION",
	"NULL":     "null values",
}

var clauseKeywords = []string{"SELECT", "FROM", "WHERE", "AND", "ORDER", "BY", "ASC", "DESC", "LIMIT"}

func isKeyword(t token, kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

func anyKeyword(t token) bool {
	if t.kind != tIdent {
		return false
	}
	up := strings.ToUpper(t.text)
	_, bad := unsupportedKeywords[up]
	return bad || slices.Contains(clauseKeywords, up)
}

type fieldKind int

const (
	kNumber fieldKind = iota + 1
	kString
	kEmail // encrypted field: only = and != (docs/apis/gigya.md, "Query language")
	kBool
)

// whereFields are the fields WHERE may test.
var whereFields = map[string]fieldKind{
	"lastUpdatedTimestamp": kNumber,
	"createdTimestamp":     kNumber,
	"UID":                  kString,
	"profile.email":        kEmail,
	"loginIDs.emails":      kEmail,
	"hasLiteAccount":       kBool,
	"hasFullAccount":       kBool,
	"isActive":             kBool,
	"isRegistered":         kBool,
	"isVerified":           kBool,
}

func whereFieldList() string {
	names := make([]string, 0, len(whereFields))
	for n := range whereFields {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

type cond struct {
	field string
	kind  fieldKind
	op    string
	num   float64
	str   string
	b     bool
}

// query is a parsed accounts.search query.
type query struct {
	all    bool
	fields []string // dotted paths; UID is always added on output
	from   string   // "accounts" or "emailAccounts"
	conds  []cond
	desc   bool
	limit  int // -1: no LIMIT
}

type parser struct {
	toks []token
	i    int
	// clause is the last clause seen, for clause-order messages.
	clause string
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *parser) next() (token, bool) {
	t, ok := p.peek()
	if ok {
		p.i++
	}
	return t, ok
}

// unsupported reports t if it is a keyword of the full language the subset
// does not simulate, or a clause out of order.
func (p *parser) unsupported(t token) error {
	if t.kind == tLParen {
		return qerr("parentheses at position %d are not supported", t.pos)
	}
	if t.kind != tIdent {
		return nil
	}
	up := strings.ToUpper(t.text)
	if what, ok := unsupportedKeywords[up]; ok {
		return qerr("unsupported %s at position %d", what, t.pos)
	}
	if slices.Contains([]string{"SELECT", "FROM", "WHERE", "ORDER", "LIMIT"}, up) {
		return qerr("unexpected %s after %s at position %d (clause order is SELECT, FROM, WHERE, ORDER BY, LIMIT)", up, p.clause, t.pos)
	}
	return nil
}

func (p *parser) unexpected(t token, ok bool, want string) error {
	if !ok {
		return qerr("unexpected end of query, expected %s", want)
	}
	if err := p.unsupported(t); err != nil {
		return err
	}
	return qerr("unexpected %s at position %d, expected %s", t, t.pos, want)
}

func parseQuery(q string) (*query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	out := &query{limit: -1}

	if t, ok := p.next(); !ok || !isKeyword(t, "SELECT") {
		return nil, p.unexpected(t, ok, "SELECT")
	}
	p.clause = "SELECT"
	if err := p.selectList(out); err != nil {
		return nil, err
	}

	if t, ok := p.next(); !ok || !isKeyword(t, "FROM") {
		return nil, p.unexpected(t, ok, "FROM")
	}
	p.clause = "FROM"
	t, ok := p.next()
	if !ok || t.kind != tIdent || anyKeyword(t) {
		return nil, p.unexpected(t, ok, "accounts or emailAccounts after FROM")
	}
	switch {
	case strings.EqualFold(t.text, "accounts"):
		out.from = "accounts"
	case strings.EqualFold(t.text, "emailAccounts"):
		out.from = "emailAccounts"
	default:
		return nil, qerr("FROM %s is not supported (only accounts and emailAccounts)", t.text)
	}

	if t, ok := p.peek(); ok && isKeyword(t, "WHERE") {
		p.i++
		p.clause = "WHERE"
		for {
			c, err := p.cond()
			if err != nil {
				return nil, err
			}
			out.conds = append(out.conds, c)
			t, ok := p.peek()
			if !ok || !isKeyword(t, "AND") {
				break
			}
			p.i++
		}
	}

	if t, ok := p.peek(); ok && isKeyword(t, "ORDER") {
		p.i++
		if t, ok := p.next(); !ok || !isKeyword(t, "BY") {
			return nil, p.unexpected(t, ok, "BY after ORDER")
		}
		p.clause = "ORDER BY"
		f, ok := p.next()
		if !ok || f.kind != tIdent || anyKeyword(f) {
			return nil, p.unexpected(f, ok, "a field after ORDER BY")
		}
		if f.text != "lastUpdatedTimestamp" {
			return nil, qerr("ORDER BY %s is not supported (only lastUpdatedTimestamp)", f.text)
		}
		if t, ok := p.peek(); ok && (isKeyword(t, "ASC") || isKeyword(t, "DESC")) {
			p.i++
			out.desc = isKeyword(t, "DESC")
		}
		if t, ok := p.peek(); ok && t.kind == tComma {
			return nil, qerr("ORDER BY on more than one field (position %d) is not supported", t.pos)
		}
	}

	if t, ok := p.peek(); ok && isKeyword(t, "LIMIT") {
		p.i++
		p.clause = "LIMIT"
		n, ok := p.next()
		if !ok || n.kind != tNumber {
			return nil, p.unexpected(n, ok, "a number after LIMIT")
		}
		v, err := strconv.Atoi(n.text)
		if err != nil || v < 0 {
			return nil, qerr("LIMIT %s is not a non-negative integer", n.text)
		}
		out.limit = v
	}

	if t, ok := p.next(); ok {
		return nil, p.unexpected(t, ok, "end of query")
	}
	return out, nil
}

func (p *parser) selectList(out *query) error {
	if t, ok := p.peek(); ok && t.kind == tStar {
		p.i++
		out.all = true
		if t, ok := p.peek(); ok && t.kind == tComma {
			return qerr("SELECT * combined with other fields (position %d) is not supported", t.pos)
		}
		return nil
	}
	for {
		t, ok := p.next()
		if !ok || t.kind != tIdent || anyKeyword(t) {
			if ok && t.kind == tStar {
				return qerr("SELECT * combined with other fields (position %d) is not supported", t.pos)
			}
			return p.unexpected(t, ok, "a field name or * after SELECT")
		}
		if n, ok := p.peek(); ok && n.kind == tLParen {
			return qerr("function %s(...) in SELECT at position %d is not supported (count, sum, min, max, avg, ...)", t.text, t.pos)
		}
		if strings.HasPrefix(t.text, ".") || strings.HasSuffix(t.text, ".") || strings.Contains(t.text, "..") {
			return qerr("invalid field path %q at position %d", t.text, t.pos)
		}
		if !slices.Contains(out.fields, t.text) {
			out.fields = append(out.fields, t.text)
		}
		n, ok := p.peek()
		if !ok || n.kind != tComma {
			if ok && isKeyword(n, "AS") {
				return qerr("unsupported AS aliases at position %d", n.pos)
			}
			return nil
		}
		p.i++
	}
}

func (p *parser) cond() (cond, error) {
	f, ok := p.next()
	if !ok || f.kind != tIdent || anyKeyword(f) {
		return cond{}, p.unexpected(f, ok, "a field name in WHERE")
	}
	if n, ok := p.peek(); ok && n.kind == tLParen {
		return cond{}, qerr("function %s(...) in WHERE at position %d is not supported", f.text, f.pos)
	}
	kind, known := whereFields[f.text]
	if !known {
		return cond{}, qerr("WHERE on field %s is not supported (supported: %s)", f.text, whereFieldList())
	}
	op, ok := p.next()
	if !ok || op.kind != tOp {
		return cond{}, p.unexpected(op, ok, "an operator (> >= < <= = !=) after "+f.text)
	}
	c := cond{field: f.text, kind: kind, op: op.text}
	if (kind == kBool || kind == kEmail) && op.text != "=" && op.text != "!=" {
		what := "boolean"
		if kind == kEmail {
			what = "encrypted"
		}
		return cond{}, qerr("operator %s on %s field %s is not supported (only = and !=)", op.text, what, f.text)
	}
	v, ok := p.next()
	if !ok {
		return cond{}, p.unexpected(v, ok, "a value after "+f.text+" "+op.text)
	}
	switch kind {
	case kNumber:
		if v.kind != tNumber {
			return cond{}, qerr("%s needs a number, got %s at position %d", f.text, v, v.pos)
		}
		n, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return cond{}, qerr("bad number %s at position %d", v.text, v.pos)
		}
		c.num = n
	case kString, kEmail:
		if v.kind != tString {
			return cond{}, qerr("%s needs a double-quoted string, got %s at position %d", f.text, v, v.pos)
		}
		c.str = v.text
		if kind == kEmail {
			c.str = strings.ToLower(strings.TrimSpace(c.str))
		}
	case kBool:
		switch {
		case isKeyword(v, "true"):
			c.b = true
		case isKeyword(v, "false"):
			c.b = false
		default:
			if err := p.unsupported(v); err != nil {
				return cond{}, err
			}
			return cond{}, qerr("%s needs true or false, got %s at position %d", f.text, v, v.pos)
		}
	}
	return c, nil
}

func cmpOp[T int | float64 | string](a, b T, op string) bool {
	switch op {
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case "=":
		return a == b
	case "!=":
		return a != b
	}
	return false
}

// match reports whether r satisfies c. A condition on a field the account
// does not have (e.g. isActive on a lite account, createdTimestamp missing)
// is false whatever the operator, like a comparison with NULL in SQL.
func (c cond) match(r *record) bool {
	switch c.field {
	case "lastUpdatedTimestamp":
		return cmpOp(float64(r.updated), c.num, c.op)
	case "createdTimestamp":
		return r.hasCreated && cmpOp(float64(r.created), c.num, c.op)
	case "UID":
		return cmpOp(r.uid, c.str, c.op)
	case "profile.email":
		return r.email != "" && cmpOp(r.email, c.str, c.op)
	case "loginIDs.emails":
		// An array: = holds when one of the emails is the value, != when
		// none is (and there is at least one).
		return len(r.verifiedLogins) > 0 && slices.Contains(r.verifiedLogins, c.str) == (c.op == "=")
	case "hasLiteAccount":
		return boolMatch(r.hasLite, c)
	case "hasFullAccount":
		return boolMatch(r.hasFull, c)
	case "isActive":
		return triMatch(r.isActive, c)
	case "isRegistered":
		return triMatch(r.isRegist, c)
	case "isVerified":
		return triMatch(r.isVerified, c)
	}
	return false
}

func boolMatch(v bool, c cond) bool { return (v == c.b) == (c.op == "=") }

func triMatch(v tri, c cond) bool {
	if v == triAbsent {
		return false
	}
	return boolMatch(v == triTrue, c)
}

// accountTypes is the accountTypes parameter: which kinds FROM accounts returns.
type accountTypes struct{ full, lite bool }

func parseAccountTypes(s string) (accountTypes, error) {
	if strings.TrimSpace(s) == "" {
		return accountTypes{full: true}, nil
	}
	var at accountTypes
	for _, part := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(part)) {
		case "full":
			at.full = true
		case "lite":
			at.lite = true
		default:
			return at, fmt.Errorf("accountTypes %q: expected full, lite or full,lite", s)
		}
	}
	return at, nil
}

// selects reports whether r belongs to the table of q.
func (q *query) selects(r *record, at accountTypes) bool {
	if q.from == "emailAccounts" {
		return r.hasLite
	}
	return (at.full && r.hasFull) || (at.lite && r.hasLite)
}

func (q *query) matches(r *record, at accountTypes) bool {
	if !q.selects(r, at) {
		return false
	}
	for _, c := range q.conds {
		if !c.match(r) {
			return false
		}
	}
	return true
}
