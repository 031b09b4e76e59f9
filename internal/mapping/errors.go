package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/file"
)

// ErrInvalidMapping is matched (with [errors.Is]) by every error [Parse] and
// [Load] return for a mapping document that is wrong: YAML syntax, structure,
// names, paths and expressions that do not compile. Each of those is a
// [*ConfigError] that names the location. An unreadable file is not
// ErrInvalidMapping: [Load] returns the I/O error wrapped.
var ErrInvalidMapping = errors.New("invalid mapping")

// ErrDecode is wrapped by [Evaluator.ApplyJSON] when the input is not a JSON
// object. The record is bad, not the mapping: the transformer dead-letters it.
var ErrDecode = errors.New("decode account")

// ErrRequired is the Err of the [*FieldError] that [Evaluator.Apply] returns
// when a path listed under `required:` is missing from the output, nil, an
// empty or blank string, or an empty array or object.
var ErrRequired = errors.New("required field missing or empty")

// ConfigError describes one problem in a mapping document. [Parse] joins all
// the problems it finds (with [errors.Join]), so use [errors.As] to get the
// first one, or [errors.Is] with [ErrInvalidMapping] to classify.
type ConfigError struct {
	// Name is the document name given to [Parse] (the file name for [Load]).
	Name string
	// Section is what the problem is in: "field", "filter", "required", or a
	// top-level key ("version", "target", ...). Empty for problems with the
	// document as a whole (YAML syntax, not a mapping).
	Section string
	// Key identifies the item inside Section: the output path of a field,
	// the name of a filter, a required path. Empty when not applicable.
	Key string
	// Line is the 1-based line in the YAML document, 0 when unknown.
	Line int
	// Expr is the expression source when the problem is that it does not
	// compile; empty otherwise.
	Expr string
	// Err is the underlying problem; for compile errors a *file.Error from
	// expr (use [errors.As] to get its position in the expression).
	Err error
}

// Error renders the location first and keeps the message on one line, e.g.
//
//	mapping auth0.yaml: field "email" (line 7): compile "lower(trim(profile.emal ??": unexpected token EOF (1:27)
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("mapping ")
	b.WriteString(e.Name)
	b.WriteString(": ")
	switch {
	case e.Section != "":
		b.WriteString(e.Section)
		if e.Key != "" || itemSection(e.Section) {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(e.Key))
		}
		if e.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", e.Line)
		}
		b.WriteString(": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Expr != "" {
		b.WriteString("compile ")
		b.WriteString(quoteExpr(e.Expr))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Err))
	return b.String()
}

// itemSection reports whether a section's Key names an item (always quoted,
// even when it is the empty path).
func itemSection(s string) bool {
	return s == "field" || s == "filter" || s == "required"
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalidMapping], so callers can classify
// a mapping problem without knowing its type.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidMapping }

// FieldError is a per-record failure of one expression: a runtime error while
// evaluating a field or a filter, or (with Err = [ErrRequired]) a required
// output path that ended up missing or empty. It is a property of the record
// (plus the mapping), so the transformer dead-letters the record with it.
type FieldError struct {
	// Field is the output path of the field (or required path), or the name
	// of the filter when Filter is true.
	Field string
	// Filter is true when the failing expression is a filter's `when`.
	Filter bool
	// Expr is the expression source; empty for a required path that is a
	// parent object rather than a field of its own.
	Expr string
	// Err is the cause: [ErrRequired], or the error expr returned (a
	// *file.Error, which also carries recovered panics).
	Err error
}

// Error names the field and the expression and stays on one line, so it can
// travel in a dead-letter header.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Filter {
		b.WriteString("filter ")
	} else {
		b.WriteString("field ")
	}
	b.WriteString(strconv.Quote(e.Field))
	if e.Expr != "" {
		b.WriteString(" (")
		b.WriteString(quoteExpr(e.Expr))
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(oneLine(e.Err))
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, ErrRequired) works.
func (e *FieldError) Unwrap() error { return e.Err }

// maxQuotedExpr bounds how much of an expression an error message repeats:
// enough to recognise it, not a 4 KiB header.
const maxQuotedExpr = 120

// quoteExpr quotes an expression for an error message, on one line and
// shortened to maxQuotedExpr bytes (at a rune boundary) with "...".
func quoteExpr(src string) string {
	s := strings.Join(strings.Fields(src), " ")
	if len(s) > maxQuotedExpr {
		cut := maxQuotedExpr
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// oneLine renders err without the multi-line source snippet expr appends to
// its errors: the message plus "(line:column)" inside the expression.
func oneLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	var fe *file.Error
	if errors.As(err, &fe) && fe.Snippet != "" {
		// Keep whatever the chain added in front of the expr error.
		full := err.Error()
		own := fe.Error()
		prefix := strings.TrimSuffix(full, own)
		if prefix == full {
			prefix = ""
		}
		return prefix + fmt.Sprintf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1)
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
